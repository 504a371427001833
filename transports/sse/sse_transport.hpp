#pragma once
// GET /sse?topic=A&topic=B[&since=CURSOR] (or Last-Event-ID): subscribes, replays what the cursor missed, then
// streams. One timer for all streams sends the heartbeat comments.

#include "http_connection.hpp"
#include "server_context.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <vector>

namespace switchboard::sse {

class sse_channel;

class sse_transport {
public:
    explicit sse_transport(detail::server_context& ctx);

    detail::route route();
    void stop();

private:
    void open(std::shared_ptr<detail::http_connection> const& conn);
    void schedule_heartbeat();

    detail::server_context& ctx_;
    boost::asio::steady_timer heartbeat_timer_;
    std::vector<std::weak_ptr<sse_channel>> streams_;
    bool stopped_ = false;
};

}  // namespace switchboard::sse
