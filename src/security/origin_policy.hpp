#pragma once
// The web-origin allow-list (security_options::allowed_origins) and the CORS answers it implies. A browser
// names the page's origin in "Origin" on cross-origin requests and on every WebSocket upgrade: a listed one
// gets CORS headers with credentials (echoing the origin, with "Vary: Origin" so caches keep answers apart),
// any other is refused with 403 origin_not_allowed. Requests without an Origin (same-origin GETs, non-browser
// clients) pass: they cannot be a foreign page acting with the user's cookies. Pure functions.

#include <switchboard/security_options.hpp>
#include <switchboard/http.hpp>

#include <boost/beast/http/verb.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::detail {

enum class origin_verdict {
    unrestricted,  // no allow-list: no CORS headers, nothing refused
    none,          // the request has no Origin
    allowed,
    refused,
};

origin_verdict check_origin(security_options const& options, http_request const& req);

/// Access-Control-Allow-Origin (the request's origin), -Allow-Credentials and Vary, on a response.
void add_cors_fields(http_response& res, std::string_view origin);
/// The same as header lines ("Name: value\r\n"), for a response head written by hand (SSE).
std::string cors_field_lines(std::string_view origin);

/// The answer to an allowed CORS preflight (OPTIONS with Access-Control-Request-Method): 204 with the
/// path's methods, the request headers switchboard reads, and a cache time.
http_response preflight_response(http_request const& req, std::vector<boost::beast::http::verb> const& methods);

/// True for an OPTIONS request that is a CORS preflight.
bool is_preflight(http_request const& req);

}  // namespace switchboard::detail
