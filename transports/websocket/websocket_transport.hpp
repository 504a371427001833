#pragma once
// GET /ws: the route checks the upgrade request itself, so a refusal is the protocol's JSON error (400, 503)
// like every other. Then the socket becomes a websocket_channel, whose first bytes are the 101 and the rest
// switchboard's own framing.

#include "http/http_connection.hpp"
#include "channel_services.hpp"

namespace switchboard::websocket {

detail::route make_route(detail::channel_services& services);

}  // namespace switchboard::websocket
