#pragma once
// POST /publish?topic=T with a JSON body: how SSE and long-polling clients send, and how any backend publishes
// without linking the library.

#include "http/http_connection.hpp"
#include "channel_services.hpp"

namespace switchboard::detail {

route make_publish_route(channel_services& services);

}  // namespace switchboard::detail
