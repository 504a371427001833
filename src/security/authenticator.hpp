#pragma once
// Authentication at connect time, shared by every transport and POST /publish: finds the token, runs the
// built-in JWT check (when configured), then the application's authenticate hook (when set), and turns the
// outcome into an identity or a refusal. Loop thread only.

#include <switchboard/identity.hpp>
#include <switchboard/http.hpp>

#include <boost/system/error_code.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace switchboard::detail {

struct server_context;
struct query;

/// T from "Authorization: Bearer T", the scheme in any case (RFC 9110 11.1); "" when the request has no such field.
/// The one reading of that field: the admin token comes this way too.
std::string_view bearer_token(http_request const& req);

/// The token a request carries: "Authorization: Bearer T", else the cookie `cookie_name` (unless empty), else
/// ?token=T; "" when none.
std::string find_token(http_request const& req, query const& q, std::string const& cookie_name);

/// The outcome: an error with a message for the client, or the identity (anonymous when nothing is configured,
/// or when no token was given and anonymous clients are allowed).
using authenticated_handler = std::function<void(boost::system::error_code, std::string const& why, identity_ptr)>;

/// Authenticates `token` (from `req`, or a WebSocket refresh when `req` is null). `done` runs exactly once,
/// on the loop thread, possibly before this returns.
void authenticate(server_context& ctx, http_request const* req, std::string_view token,
                  std::string const& remote_address, std::string_view transport, authenticated_handler done);

/// True when the server requires or checks tokens (a JWT key or the authenticate hook).
bool authentication_configured(server_context const& ctx);

}  // namespace switchboard::detail
