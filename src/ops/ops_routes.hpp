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

/// Several loops' metrics texts as one process's: each series summed over the loops (a gauge of topics or
/// patterns counts one held on two loops twice), switchboard_backplane_up the least of them (1 only when every
/// loop's backplane is up). Series only some loops have are kept, in the order first seen.
std::string merge_metrics(std::vector<std::string> const& texts);

}  // namespace switchboard::detail
