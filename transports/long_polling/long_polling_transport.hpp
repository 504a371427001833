#pragma once
// GET /poll?topic=A&topic=B[&cursor=C]: one poll_channel per request.

#include "http/http_connection.hpp"
#include "channel_services.hpp"

namespace switchboard::long_polling {

detail::route make_route(detail::channel_services& services);

}  // namespace switchboard::long_polling
