#pragma once
// The server API over HTTP (docs/server-api.md): /api/broadcast, /api/history, /api/channels, /api/disconnect,
// /api/unsubscribe and /api/topics, JSON in and out, each refused with 401 unauthorized without
// options.api_key ("Authorization: Bearer KEY" or "X-API-Key: KEY"). With no key configured none exists.

#include "http/http_connection.hpp"
#include "server_context.hpp"

namespace switchboard::detail {

/// Adds the API's routes to `routes` when options.api_key is set.
void add_api_routes(route_table& routes, server_context& ctx);

}  // namespace switchboard::detail
