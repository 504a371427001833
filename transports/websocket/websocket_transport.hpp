#pragma once
// GET /ws: Beast validates the upgrade request and writes the 101 (or the 4xx refusal); then the socket
// becomes a websocket_channel with switchboard's own framing.

#include "http/http_connection.hpp"
#include "server_context.hpp"

namespace switchboard::websocket {

detail::route make_route(detail::server_context& ctx);

}  // namespace switchboard::websocket
