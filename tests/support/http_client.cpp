#include "support/http_client.hpp"

#include "support/run_until.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <memory>

namespace switchboard::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

constexpr std::uint64_t body_limit = 64 * 1024 * 1024;

// One request's connection and buffers, kept alive by its pending handlers.
class http_exchange : public std::enable_shared_from_this<http_exchange> {
public:
    http_exchange(asio::io_context& ioc, http::request<http::string_body> req, http_callback callback)
        : stream_(ioc), request_(std::move(req)), callback_(std::move(callback)) {
        parser_.body_limit(body_limit);
    }

    void start(server_port port, std::chrono::milliseconds timeout) {
        if (port.tls) {
            stream_.use_tls();
        }
        // One deadline for connect, the TLS handshake, write and read together.
        stream_.next_layer().expires_after(timeout);
        asio::ip::tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port.port);
        stream_.next_layer().async_connect(endpoint, [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
    }

private:
    void on_connect(error_code ec) {
        if (ec) {
            return complete(ec);
        }
        stream_.async_start([self = shared_from_this()](error_code ec) { self->on_start(ec); });
    }

    void on_start(error_code ec) {
        if (ec) {
            return complete(ec);
        }
        http::async_write(stream_, request_, [self = shared_from_this()](error_code ec, std::size_t) {
            self->on_write(ec);
        });
    }

    void on_write(error_code ec) {
        if (ec) {
            return complete(ec);
        }
        http::async_read(stream_, buffer_, parser_,
                         [self = shared_from_this()](error_code ec, std::size_t) { self->complete(ec); });
    }

    void complete(error_code ec) {
        http_result result;
        result.error = ec;
        if (!ec) {
            auto& res = parser_.get();
            result.status = static_cast<int>(res.result_int());
            for (auto const& field : res) {
                add_header(result.headers, field.name_string(), field.value());
            }
            result.body = std::move(res.body());
        }
        error_code ignored;
        stream_.next_layer().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        stream_.next_layer().close();
        callback_(std::move(result));
    }

    client_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response_parser<http::string_body> parser_;
    http_callback callback_;
};

}  // namespace

nlohmann::json http_result::json() const {
    return nlohmann::json::parse(body, nullptr, false);
}

std::optional<std::string> http_result::header(std::string_view name) const {
    auto it = headers.find(name);
    if (it == headers.end()) {
        return std::nullopt;
    }
    return it->second;
}

void request(asio::io_context& ioc, server_port port, std::string_view method, std::string target,
             std::string body, header_list headers, http_callback callback, std::chrono::milliseconds timeout) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.keep_alive(false);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port.port));
    req.set(http::field::user_agent, "switchboard-test-http");
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
    }
    req.body() = std::move(body);
    req.prepare_payload();
    // Erase first so a given field replaces a default while a repeated name keeps every value.
    for (auto const& [name, value] : headers) {
        req.erase(name);
    }
    for (auto const& [name, value] : headers) {
        req.insert(name, value);
    }
    auto exchange = std::make_shared<http_exchange>(ioc, std::move(req), std::move(callback));
    exchange->start(port, timeout);
}

http_result fetch(asio::io_context& ioc, server_port port, std::string_view method, std::string target,
                  std::string body, header_list headers, std::chrono::milliseconds deadline) {
    // Shared with the callback, which may outlive this call if the deadline passes first.
    auto result = std::make_shared<std::optional<http_result>>();
    request(ioc, port, method, std::move(target), std::move(body), std::move(headers),
            [result](http_result r) { *result = std::move(r); }, deadline);
    // A little grace past the request's own timeout, which then reports itself.
    run_until(ioc, [&] { return result->has_value(); }, deadline + std::chrono::milliseconds(500));
    if (!result->has_value()) {
        http_result timed_out;
        timed_out.error = beast::error::timeout;
        return timed_out;
    }
    return std::move(**result);
}

std::optional<std::uint64_t> metric(asio::io_context& ioc, server_port port, std::string_view name)
{
    auto const r = fetch(ioc, port, "GET", "/metrics");
    auto const at = r.body.find("\n" + std::string(name) + " ");
    if (r.status != 200 || at == std::string::npos)
        return std::nullopt;
    return std::stoull(r.body.substr(at + name.size() + 2));
}

}  // namespace switchboard::test
