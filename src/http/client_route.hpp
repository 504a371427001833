#pragma once
// GET /switchboard.js (server_options::client_path): the browser client, compiled into the library, served with
// an ETag so browsers revalidate cheaply (304) and always run the client that matches this server.

#include "http/http_connection.hpp"
#include "server_context.hpp"

#include <string_view>

/// The bytes of src/client/switchboard.js (generated at build time by switchboard_embed).
std::string_view switchboard_client_script();

namespace switchboard::detail {

route make_client_route(server_context& ctx);

}  // namespace switchboard::detail
