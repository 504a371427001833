#pragma once
// GET /sse?topic=A&topic=B[&since=CURSOR] (or Last-Event-ID): subscribes, replays what the cursor missed, then
// streams. Heartbeats come from the server's keepalive ticks.

#include "channel_services.hpp"
#include "http/event_stream.hpp"
#include "http/http_connection.hpp"

namespace switchboard::sse {

detail::route make_route(detail::channel_services& services);

/// A stream of named events outside the hub (the admin view's figures), over `conn`'s socket.
std::shared_ptr<detail::event_stream> open_event_stream(detail::channel_services& services,
                                                        std::shared_ptr<detail::exchange> const& conn);

}  // namespace switchboard::sse
