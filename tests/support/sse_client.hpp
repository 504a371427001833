#pragma once
// A Server-Sent Events test client over a raw TCP socket, parsing the event stream itself.

#include "support/chunked_decoder.hpp"
#include "support/client_stream.hpp"
#include "support/headers.hpp"
#include "support/sse_parser.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {

// One `GET target` to 127.0.0.1 that reads the response as an event stream (docs/protocol.md, SSE).
// The head is parsed first; a 200 body (plain or chunked) goes through sse_parser into events(); any other
// status's body is collected into error_body(). Asynchronous: run the io_context to make progress.
// Not thread-safe; pending operations keep the object alive; destroy the io_context after the clients.
class sse_client : public std::enable_shared_from_this<sse_client> {
public:
    using duration = std::chrono::milliseconds;

    static std::shared_ptr<sse_client> create(boost::asio::io_context& ioc);

    // Sets SO_RCVBUF (bytes) before connect, for back-pressure tests. Default: the system's.
    void set_receive_buffer_size(int bytes);

    // Connects and sends `GET target HTTP/1.1` with Host, Accept: text/event-stream, Cache-Control:
    // no-cache, then `headers` (a given name replaces a default, e.g. "Last-Event-ID"). Call once.
    // Over TLS when given tls_port(port).
    void connect(server_port port, std::string target, header_list headers = {});

    // Closes the socket; the client does not count as ended() by this.
    void close();
    // The TCP socket's descriptor (for socket options a test reads, e.g. tcp_segments.hpp).
    int native_handle() { return stream_.next_layer().socket().native_handle(); }

    // Stops issuing reads after the one pending (which may still deliver bytes) until resume_reading().
    void pause_reading();
    void resume_reading();
    bool reading_paused() const { return paused_; }

    // The response head: status is 0 until it has been read.
    int status() const { return status_; }
    header_map const& headers() const { return headers_; }
    std::optional<std::string> header(std::string_view name) const;
    // Connect, write or read failed before the whole head arrived, or the head was malformed.
    bool failed() const { return failed_; }
    // The server closed the stream (EOF or a read error) after the head, or a non-200 body is complete.
    bool ended() const { return ended_; }
    // What failed or ended the connection: boost::asio::error::eof when the server closed it, success
    // when a framed body (Content-Length, or chunked up to its last chunk) was complete.
    boost::system::error_code error() const { return error_; }

    // A non-200 response's body (Content-Length, chunked, or up to EOF), and it parsed as JSON.
    std::string const& error_body() const { return error_body_; }
    nlohmann::json error_json() const;

    // Every dispatched event, in order.
    std::vector<sse_event> const& events() const { return events_; }
    // The data of default-type ("message") events, parsed as JSON (non-JSON data as a JSON string).
    std::vector<nlohmann::json> messages() const;
    std::size_t message_count() const { return message_count_; }
    // The first event of type `type` (e.g. "close"), if any.
    std::optional<sse_event> find_event(std::string_view type) const;
    std::string const& last_event_id() const { return parser_.last_event_id(); }
    std::optional<std::uint64_t> retry() const { return parser_.retry(); }
    std::size_t comments() const { return parser_.comments(); }
    // Body bytes received after the head, before chunked decoding.
    std::size_t body_bytes() const { return body_bytes_; }

    // Blocking helpers: run `ioc` until the condition holds or `deadline` passes; return the condition.
    bool wait_status(boost::asio::io_context& ioc, duration deadline = std::chrono::seconds(10));
    bool wait_events(boost::asio::io_context& ioc, std::size_t count, duration deadline = std::chrono::seconds(10));
    bool wait_messages(boost::asio::io_context& ioc, std::size_t count,
                       duration deadline = std::chrono::seconds(10));
    bool wait_ended(boost::asio::io_context& ioc, duration deadline = std::chrono::seconds(10));

private:
    explicit sse_client(boost::asio::io_context& ioc);

    void on_connect(boost::system::error_code ec);
    void on_start(boost::system::error_code ec);
    void on_write(boost::system::error_code ec, std::size_t bytes);
    void do_read();
    void on_read(boost::system::error_code ec, std::size_t bytes);
    void on_head_bytes(std::string_view bytes);
    void on_body_bytes(std::string_view bytes);
    void on_error_body(std::string_view decoded);
    void fail(boost::system::error_code ec);
    void end(boost::system::error_code ec);

    client_stream stream_;
    std::array<char, 16 * 1024> read_buffer_{};
    std::string request_;
    std::string head_;
    std::string decoded_;
    sse_parser parser_;
    chunked_decoder chunked_;
    std::vector<sse_event> events_;
    header_map headers_;
    std::string error_body_;
    std::optional<std::size_t> content_length_;
    boost::system::error_code error_;
    std::size_t body_bytes_ = 0;
    std::size_t message_count_ = 0;
    int receive_buffer_size_ = 0;
    int status_ = 0;
    bool is_chunked_ = false;
    bool connecting_ = false;
    bool requested_ = false;
    bool head_done_ = false;
    bool reading_ = false;
    bool paused_ = false;
    bool failed_ = false;
    bool ended_ = false;
    bool closed_ = false;
};

}  // namespace switchboard::test
