#include "security/origin_policy.hpp"

#include <algorithm>

namespace switchboard::detail {

namespace http = boost::beast::http;

origin_verdict check_origin(security_options const& options, http_request const& req)
{
    if (options.allowed_origins.empty())
        return origin_verdict::unrestricted;
    auto const it = req.find(http::field::origin);
    if (it == req.end())
        return origin_verdict::none;
    auto const origin = it->value();
    for (auto const& allowed : options.allowed_origins)
        if (allowed == "*" || allowed == origin)
            return origin_verdict::allowed;
    return origin_verdict::refused;
}

void add_cors_fields(http_response& res, std::string_view origin)
{
    res.set(http::field::access_control_allow_origin, origin);
    res.set(http::field::access_control_allow_credentials, "true");
    res.set(http::field::vary, "Origin");
}

std::string cors_field_lines(std::string_view origin)
{
    return "Access-Control-Allow-Origin: " + std::string(origin) +
           "\r\n"
           "Access-Control-Allow-Credentials: true\r\n"
           "Vary: Origin\r\n";
}

bool is_preflight(http_request const& req)
{
    return req.method() == http::verb::options && req.find(http::field::access_control_request_method) != req.end();
}

http_response preflight_response(http_request const& req, std::vector<http::verb> const& methods)
{
    http_response res{http::status::no_content, req.version()};
    res.set(http::field::server, "switchboard");
    std::string allow;
    for (auto m : methods) {
        if (!allow.empty())
            allow += ", ";
        allow += std::string(http::to_string(m));
    }
    res.set(http::field::access_control_allow_methods, allow);
    // What switchboard itself reads; a page asking for others gets this list and its browser refuses.
    res.set(http::field::access_control_allow_headers, "Authorization, Content-Type, Last-Event-ID");
    res.set(http::field::access_control_max_age, "600");
    add_cors_fields(res, req[http::field::origin]);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

}  // namespace switchboard::detail
