#pragma once
// The operator's endpoints: GET /metrics (Prometheus text), /healthz (the process answers) and /readyz
// (accepting connections and the backplane connected).

#include "http/http_connection.hpp"
#include "server_context.hpp"

namespace switchboard::detail {

route make_metrics_route(server_context& ctx);
route make_health_route(server_context& ctx);
route make_ready_route(server_context& ctx);

/// The Prometheus text exposition of the server's state and counters.
std::string render_metrics(server_context const& ctx);

}  // namespace switchboard::detail
