#pragma once
// GET /ws: the route checks the upgrade request itself, so a refusal is the protocol's JSON error (400, 503)
// like every other; Beast only writes the 101. Then the socket becomes a websocket_channel with switchboard's
// own framing.

#include "http/http_connection.hpp"
#include "channel_services.hpp"

namespace switchboard::websocket {

detail::route make_route(detail::channel_services& services);

}  // namespace switchboard::websocket
