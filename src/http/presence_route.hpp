#pragma once
// GET /presence?topic=T (presence_options::path): a topic's members over HTTP, a page at a time (&limit=,
// &cursor=), or its counts (&stats=1); the same answers as the WebSocket presence and presence_stats commands,
// under the same security as a subscribe to T (docs/protocol.md, "Presence").

#include "http/exchange.hpp"
#include "channel_services.hpp"

namespace switchboard::detail {

route make_presence_route(channel_services& services);

}  // namespace switchboard::detail
