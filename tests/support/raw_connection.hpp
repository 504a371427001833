#pragma once
// A plain TCP client that writes exact bytes and keeps every byte that comes back: for tests of HTTP framing
// (smuggling, pipelining, Expect, HEAD) that no well-behaved client library would send, and for sockets held
// open to fill the connection limits.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {

// One connection to 127.0.0.1:port. Reading starts at once and goes on until the server closes (EOF or reset),
// whatever the test does meanwhile; run the io_context (the wait_* calls do) to make progress. Not thread-safe.
class raw_connection {
public:
    // Connects (blocking) from `source` (a loopback address such as "127.0.0.2"; empty: the kernel's choice).
    // Throws on failure.
    raw_connection(boost::asio::io_context& ioc, std::uint16_t port, std::string_view source = {});
    ~raw_connection();
    raw_connection(raw_connection const&) = delete;
    raw_connection& operator=(raw_connection const&) = delete;

    // Writes `bytes` as they are (blocking: fine for what fits in the socket buffers). Errors are ignored: a
    // server that refused the request may have closed already.
    void send(std::string_view bytes);
    // Half-closes the sending side (the server reads EOF after what was sent).
    void shutdown_send();
    // Closes the socket.
    void close();

    // The port the connection was given on this side.
    std::uint16_t local_port() const;
    // Everything received so far.
    std::string const& received() const;
    // The server closed the connection (EOF or an error).
    bool closed() const;

    // Runs `ioc` until `pred(received())` holds or `deadline` passes; returns `pred(received())`.
    bool wait_for(std::function<bool(std::string const&)> pred,
                  std::chrono::milliseconds deadline = std::chrono::seconds(5));
    // Runs `ioc` until `text` has been received.
    bool wait_for(std::string_view text, std::chrono::milliseconds deadline = std::chrono::seconds(5));
    // Runs `ioc` until the server closes the connection.
    bool wait_closed(std::chrono::milliseconds deadline = std::chrono::seconds(5));

private:
    struct state;
    boost::asio::io_context& ioc_;
    std::shared_ptr<state> state_;  // shared with the pending read
};

// Writes `request` on a fresh connection and returns everything that comes back until the server closes it
// (or `deadline` passes: then the second member is false).
std::pair<std::string, bool> raw_round_trip(boost::asio::io_context& ioc, std::uint16_t port, std::string_view request,
                                            std::chrono::milliseconds deadline = std::chrono::seconds(5));

using raw_response = boost::beast::http::response<boost::beast::http::string_body>;

// Reads one response from the front of `bytes` (the answer to a HEAD when `head`: no body, whatever its
// Content-Length says) and drops it from `bytes`; nullopt when no complete response is there.
std::optional<raw_response> take_response(std::string_view& bytes, bool head = false);

// Every complete response in `bytes` (answers to requests other than HEAD), in order.
std::vector<raw_response> take_responses(std::string_view bytes);

}  // namespace switchboard::test
