#include "http/http_responses.hpp"

#include <switchboard/error.hpp>

#include <nlohmann/json.hpp>

namespace switchboard::detail {

namespace http = boost::beast::http;

http_response response_head(http_request const& req, std::string_view content_type, std::string_view cache_control,
                            unsigned status)
{
    http_response res{static_cast<http::status>(status), req.version()};
    res.set(http::field::server, "switchboard");
    res.set(http::field::content_type, content_type);
    res.set(http::field::cache_control, cache_control);
    res.keep_alive(req.keep_alive());
    return res;
}

http_response json_response(http_request const& req, std::string body, unsigned status)
{
    auto res = response_head(req, "application/json", "no-store", status);
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

std::string serialize(http_response const& res)
{
    // By hand rather than Beast's serializer: a long poll answers ~100k times a second at full load, and
    // walking the serializer's buffer views cost more than the answer itself (docs/benchmarks.md, profiles).
    std::size_t size = 32 + res.body().size();
    for (auto const& f : res)
        size += f.name_string().size() + f.value().size() + 4;
    std::string out;
    out.reserve(size);
    out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(res.result_int());
    out += ' ';
    out += res.reason();
    out += "\r\n";
    for (auto const& f : res) {
        out += f.name_string();
        out += ": ";
        out += f.value();
        out += "\r\n";
    }
    out += "\r\n";
    out += res.body();
    return out;
}

}  // namespace switchboard::detail
