#pragma once
// Authentication at connect time, shared by every transport and POST /publish: runs the built-in JWT check
// (when configured) on the token the request carried (http/request_token.hpp finds it), then the application's
// authenticate hook (when set), and turns the outcome into an identity or a refusal. Loop thread only.

#include <switchboard/hooks.hpp>
#include <switchboard/identity.hpp>
#include <switchboard/http.hpp>

#include <boost/system/error_code.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace switchboard::detail {

class authorizer;

/// The outcome: an error with a message for the client, or the identity (anonymous when nothing is configured,
/// or when no token was given and anonymous clients are allowed).
using authenticated_handler = std::function<void(boost::system::error_code, std::string const& why, identity_ptr)>;

/// Authenticates `token` (from `req`, or a WebSocket refresh when `req` is null) under `policy`'s JWT keys and
/// hooks. `done` runs exactly once, on the loop thread, possibly before this returns.
void authenticate(authorizer& policy, http_request const* req, std::string_view token,
                  std::string const& remote_address, std::string_view transport, authenticated_handler done);

}  // namespace switchboard::detail
