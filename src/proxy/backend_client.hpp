#pragma once
// The HTTP/1.1 client the proxy hooks ask the backend with: JSON POSTs on the loop, never blocking it. It keeps
// a few connections open for reuse, bounds the requests waiting at once (past the bound a request fails at
// once), and gives every request one deadline for its whole exchange (resolve, connect, write, read). Answers
// are bounded too: a backend that sends more than max_answer_bytes is cut off as one that failed.
//
// Loop thread only. Requests keep the client alive until they complete.
#include "proxy/backend_url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace switchboard::detail {

class backend_client : public std::enable_shared_from_this<backend_client> {
public:
    static constexpr std::size_t max_answer_bytes = 1024 * 1024;

    struct answer {
        unsigned status = 0;
        std::string body;
    };
    /// error::backend_unavailable when the request failed (with what failed in `why`), or the backend's answer.
    using handler = std::function<void(boost::system::error_code, answer, std::string const& why)>;

    backend_client(boost::asio::any_io_executor ex, std::size_t max_in_flight, std::size_t max_idle);

    /// POSTs `body` (JSON) to `url` and calls `done` once, on the loop thread, never before this returns.
    /// `idempotent`: a request that failed on a kept connection before any answer came (the backend had closed
    /// it) is sent once more on a new one.
    void post(backend_url const& url, std::string body, std::chrono::milliseconds timeout, bool idempotent,
              handler done);

    std::size_t in_flight() const noexcept { return in_flight_; }
    std::size_t idle() const noexcept { return idle_.size(); }

private:
    friend class backend_request;

    // A kept connection for `key` ("host:port") that the backend has not closed meanwhile, if there is one.
    std::unique_ptr<boost::beast::tcp_stream> take_idle(std::string const& key);
    void keep_idle(std::string const& key, std::unique_ptr<boost::beast::tcp_stream> stream);

    boost::asio::any_io_executor ex_;
    std::size_t max_in_flight_;
    std::size_t max_idle_;
    std::size_t in_flight_ = 0;
    std::multimap<std::string, std::unique_ptr<boost::beast::tcp_stream>> idle_;
};

}  // namespace switchboard::detail
