#pragma once
// Where a request carries a token: the Authorization field, a cookie, or ?token=. Pure functions.

#include <switchboard/hooks.hpp>

#include <string>
#include <string_view>

namespace switchboard::detail {

struct query;

/// T from "Authorization: Bearer T", the scheme in any case (RFC 9110 11.1); "" when the request has no such field.
/// The one reading of that field: the admin token comes this way too.
std::string_view bearer_token(http_request const& req);

/// The value of the cookie `name` in one Cookie field's value (unquoted), or "" when it has none.
std::string_view cookie_value(std::string_view header, std::string_view name);
/// Whether `given` is `secret` (never when the secret is empty), compared in constant time for a given length:
/// the admin token and the API key are secrets, and an early exit would tell how much of a guess was right.
bool same_secret(std::string_view given, std::string_view secret) noexcept;

/// The token a request carries: "Authorization: Bearer T", else the cookie `cookie_name` (unless empty), else
/// ?token=T; "" when none.
std::string find_token(http_request const& req, query const& q, std::string const& cookie_name);

}  // namespace switchboard::detail
