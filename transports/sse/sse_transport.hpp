#pragma once
// GET /sse?topic=A&topic=B[&since=CURSOR] (or Last-Event-ID): subscribes, replays what the cursor missed, then
// streams. Heartbeats come from the server's keepalive ticks.

#include "http/http_connection.hpp"
#include "server_context.hpp"

namespace switchboard::sse {

detail::route make_route(detail::server_context& ctx);

}  // namespace switchboard::sse
