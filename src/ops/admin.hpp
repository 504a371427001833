#pragma once
// The admin view: GET /admin serves a page, GET /admin/events streams the server's figures once a second as
// SSE "stats" events (switchboard's own SSE channel, outside the hub: no client can subscribe to them), and
// POST /admin/disconnect closes every client channel with 4006 (they reconnect and resume: a rolling restart
// of a load balancer, or a drill of the clients' reconnect path). All require options.admin_token; with no
// token configured none of the routes exists.

#include "channel_services.hpp"
#include "http/event_stream.hpp"
#include "http/http_connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <vector>

namespace switchboard::detail {

class admin_view {
public:
    /// `open_stream` opens the page's stream of figures (the SSE transport's).
    admin_view(channel_services& services, event_stream_opener open_stream);

    route page_route();
    route events_route();
    route disconnect_route();
    void stop();

    /// The figures sent to the page: connections, top topics, rates, latency.
    std::string stats_json();

private:
    bool authorized(exchange& conn) const;
    void tick();

    channel_services& services_;
    event_stream_opener open_stream_;
    boost::asio::steady_timer timer_;
    std::vector<std::shared_ptr<event_stream>> watchers_;
    std::uint64_t last_published_ = 0;
    std::uint64_t last_deliveries_ = 0;
    bool running_ = false;
    bool stopped_ = false;
};

}  // namespace switchboard::detail
