#pragma once
// A long-polling subscriber loop (docs/protocol.md, "Long polling"), on http_client.

#include "support/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {

// Repeats `GET /poll?topic=..&topic=..[&cursor=C]` against 127.0.0.1: each 200 response's messages are
// appended to messages(), its cursor is kept and sent with the next request, which starts at once.
// The loop stops on its own at the first error (non-200 status, transport error, or a 200 body that is
// not {"messages":[...],"cursor":"..."}), recorded in errors(). Not thread-safe; the pending request keeps
// the object alive; destroy the io_context after the clients.
class poll_client : public std::enable_shared_from_this<poll_client> {
public:
    using duration = std::chrono::milliseconds;

    static std::shared_ptr<poll_client> create(boost::asio::io_context& ioc);

    // Starts the loop from cursor() ("" at first: no cursor parameter), over TLS for tls_port(port). Ignored while running, except that
    // it cancels a pending stop().
    void start(server_port port, std::vector<std::string> topics);
    // Ends the loop once the request in flight is answered (the server may hold it up to its hold time).
    void stop();
    // A request is in flight or about to be sent.
    bool running() const { return running_; }

    std::string const& cursor() const { return cursor_; }
    // Sets the cursor the next request sends (e.g. to resume from a saved one); "" sends none.
    void set_cursor(std::string cursor) { cursor_ = std::move(cursor); }

    // Every envelope received, in order.
    std::vector<nlohmann::json> const& messages() const { return messages_; }
    // Requests sent, and the 200 responses among their answers (including empty ones at hold time end).
    std::size_t requests() const { return requests_; }
    std::size_t responses() const { return responses_; }
    // Every failed request's result: status (0 for a transport error), headers, body, error.
    std::vector<http_result> const& errors() const { return errors_; }

    // Blocking helpers: run `ioc` until the condition holds or `deadline` passes; return the condition.
    bool wait_messages(boost::asio::io_context& ioc, std::size_t count,
                       duration deadline = std::chrono::seconds(10));
    bool wait_requests(boost::asio::io_context& ioc, std::size_t count,
                       duration deadline = std::chrono::seconds(10));
    bool wait_stopped(boost::asio::io_context& ioc, duration deadline = std::chrono::seconds(30));

private:
    explicit poll_client(boost::asio::io_context& ioc) : ioc_(ioc) {}

    void do_poll();
    void on_poll(http_result result);

    boost::asio::io_context& ioc_;
    std::vector<std::string> topics_;
    std::string cursor_;
    std::vector<nlohmann::json> messages_;
    std::vector<http_result> errors_;
    std::size_t requests_ = 0;
    std::size_t responses_ = 0;
    server_port port_ = 0;
    bool running_ = false;
    bool stop_requested_ = false;
};

}  // namespace switchboard::test
