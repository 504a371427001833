#pragma once
// One-shot HTTP/1.1 requests (Beast) to 127.0.0.1, for publishing, polling and error checks.

#include "support/client_stream.hpp"
#include "support/headers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::test {

struct http_result {
    int status = 0;  // 0 when no response was read; see error
    header_map headers;
    std::string body;
    boost::system::error_code error;  // connect, write, read or timeout failure

    // The body parsed as JSON; a discarded value (is_discarded()) when it is not JSON.
    nlohmann::json json() const;
    std::optional<std::string> header(std::string_view name) const;
};

using http_callback = std::function<void(http_result)>;

// `port` is plain HTTP, tls_port(port) HTTPS (see client_stream.hpp).
// Starts one request on its own connection ("Connection: close") and calls `callback` exactly once, on
// the loop, with the response or the error. `method` is any token ("GET", "POST", "DELETE"...). Sends Host,
// User-Agent, Content-Type: application/json when `body` is not empty, and Content-Length as needed; a
// field in `headers` replaces a default. The whole exchange must finish within `timeout` (default 60 s,
// longer than the server's 25 s poll hold), else error is beast::error::timeout. Responses up to 64 MiB.
void request(boost::asio::io_context& ioc, server_port port, std::string_view method, std::string target,
             std::string body, header_list headers, http_callback callback,
             std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Blocking form: runs `ioc` (and so every other client on it) until the response arrives or `deadline`
// passes; then error is beast::error::timeout.
http_result fetch(boost::asio::io_context& ioc, server_port port, std::string_view method, std::string target,
                  std::string body = {}, header_list headers = {},
                  std::chrono::milliseconds deadline = std::chrono::seconds(10));

// The value of the unlabelled sample `name` in the server's GET /metrics, or nothing when the scrape fails or
// has no such sample.
std::optional<std::uint64_t> metric(boost::asio::io_context& ioc, server_port port, std::string_view name);

}  // namespace switchboard::test
