#pragma once
// The admin view: GET /admin serves a page, GET /admin/events streams the server's figures once a second as
// SSE "stats" events (switchboard's own SSE channel, outside the hub: no client can subscribe to them), and
// POST /admin/disconnect closes every client channel with 4006 (they reconnect and resume: a rolling restart
// of a load balancer, or a drill of the clients' reconnect path). All require options.admin_token; with no
// token configured none of the routes exists.

#include "http/http_connection.hpp"
#include "server_context.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <vector>

namespace switchboard::sse {
class sse_channel;
}

namespace switchboard::detail {

class admin_view {
public:
    explicit admin_view(server_context& ctx);

    route page_route();
    route events_route();
    route disconnect_route();
    void stop();

    /// The figures sent to the page: connections, top topics, rates, latency.
    std::string stats_json();

private:
    bool authorized(http_connection& conn) const;
    void tick();

    server_context& ctx_;
    boost::asio::steady_timer timer_;
    std::vector<std::weak_ptr<sse::sse_channel>> watchers_;
    std::uint64_t last_published_ = 0;
    std::uint64_t last_deliveries_ = 0;
    bool running_ = false;
    bool stopped_ = false;
};

}  // namespace switchboard::detail
