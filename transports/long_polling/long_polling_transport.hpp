#pragma once
// GET /poll?topic=A&topic=B[&cursor=C]: one poll_channel per request.

#include "http/http_connection.hpp"
#include "server_context.hpp"

namespace switchboard::long_polling {

detail::route make_route(detail::server_context& ctx);

}  // namespace switchboard::long_polling
