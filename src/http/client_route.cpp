#include "http/client_route.hpp"

#include <cstdint>
#include <cstdio>

namespace switchboard::detail {

namespace http = boost::beast::http;

namespace {

// FNV-1a over the script: it changes exactly when the bytes do, which is all an ETag must promise.
std::string etag_of(std::string_view bytes)
{
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char const c : bytes) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char text[24];
    std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(h));
    return text;
}

bool matches(std::string_view if_none_match, std::string_view etag)
{
    // A list of tags, possibly weak (W/"..."), or "*".
    return if_none_match == "*" || if_none_match.find(etag) != std::string_view::npos;
}

}  // namespace

route make_client_route(server_context&)
{
    return {{http::verb::get, http::verb::head}, [etag = etag_of(switchboard_client_script())](std::shared_ptr<exchange> const& conn) {
                auto const& req = conn->request();
                http_response res{http::status::ok, req.version()};
                res.set(http::field::server, "switchboard");
                res.set(http::field::etag, etag);
                // Revalidate every time: after an upgrade the page gets the client that speaks the new server.
                res.set(http::field::cache_control, "no-cache");
                res.keep_alive(req.keep_alive());
                if (auto const h = req.find(http::field::if_none_match); h != req.end() && matches(h->value(), etag)) {
                    // No body, and no Content-Length: a 304's must be the 200's length or none (RFC 9110 8.6).
                    res.result(http::status::not_modified);
                } else {
                    res.set(http::field::content_type, "text/javascript; charset=utf-8");
                    res.body() = std::string(switchboard_client_script());
                    res.prepare_payload();
                }
                conn->respond(std::move(res));
            }};
}

}  // namespace switchboard::detail
