#include "http_responses.hpp"

#include <switchboard/error.hpp>

#include <nlohmann/json.hpp>

namespace switchboard::detail {

namespace http = boost::beast::http;

http_response json_response(http_request const& req, std::string body, unsigned status)
{
    http_response res{static_cast<http::status>(status), req.version()};
    res.set(http::field::server, "switchboard");
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
}

std::string error_body(boost::system::error_code ec, std::string_view message)
{
    nlohmann::ordered_json body = {{"code", error_name(ec)}, {"message", message.empty() ? ec.message() : std::string(message)}};
    // Messages may quote what a client sent (a path, a type), which need not be UTF-8.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

http_response error_response(http_request const& req, boost::system::error_code ec, std::string_view message)
{
    return json_response(req, R"({"error":)" + error_body(ec, message) + "}", http_status(ec));
}

}  // namespace switchboard::detail

#include <boost/beast/http/write.hpp>

#include <sstream>

namespace switchboard::detail {

std::string serialize(http_response const& res)
{
    std::ostringstream out;
    out << res;
    return std::move(out).str();
}

}  // namespace switchboard::detail
