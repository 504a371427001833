#include "turn_route.hpp"

#include "turn_credentials.hpp"

#include <switchboard/error.hpp>
#include <switchboard/http.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace webrtc_example {

namespace {

namespace http = boost::beast::http;

switchboard::http_response json_response(switchboard::http_request const& req, http::status status,
                                         nlohmann::json const& body)
{
    switchboard::http_response res{status, req.version()};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");  // a credential is for one caller, once
    res.body() = body.dump();
    return res;
}

switchboard::http_response error_response(switchboard::http_request const& req, switchboard::error e,
                                          std::string message)
{
    auto const ec = make_error_code(e);
    return json_response(req, static_cast<http::status>(switchboard::http_status(ec)),
                         {{"error", {{"code", switchboard::error_name(ec)}, {"message", std::move(message)}}}});
}

bool is_user_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '@' || c == '-';
}

// The value of "user=" in the query, or "guest". Only plain characters are accepted, so no decoding is needed.
bool read_user(std::string_view target, std::string& user)
{
    user = "guest";
    auto const q = target.find('?');
    if (q == std::string_view::npos)
        return true;
    auto query = target.substr(q + 1);
    while (!query.empty()) {
        auto const amp = query.find('&');
        auto const pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (!pair.starts_with("user="))
            continue;
        auto const value = pair.substr(5);
        if (value.empty() || value.size() > 64 || !std::all_of(value.begin(), value.end(), is_user_char))
            return false;
        user = value;
    }
    return true;
}

}  // namespace

switchboard::server::route_handler make_turn_route(turn_options options)
{
    return [options = std::move(options)](switchboard::http_request const& req) {
        if (options.secret.empty() || options.urls.empty())
            return error_response(req, switchboard::error::not_found, "no TURN server is configured");
        std::string user;
        if (!read_user(req.target(), user))
            return error_response(req, switchboard::error::bad_request,
                                  "user must be 1 to 64 characters of [A-Za-z0-9_.@-]");
        auto const c = make_turn_credentials(options.secret, user, std::chrono::system_clock::now(), options.ttl);
        return json_response(req, http::status::ok,
                             {{"urls", options.urls},
                              {"username", c.username},
                              {"credential", c.credential},
                              {"ttl", options.ttl.count()},
                              {"expires", std::chrono::duration_cast<std::chrono::seconds>(
                                              c.expiry.time_since_epoch()).count()}});
    };
}

}  // namespace webrtc_example
