#pragma once
// A WebSocket test client (Beast), independent of the server's code, speaking docs/protocol.md.

#include "support/client_stream.hpp"
#include "support/headers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {

// One WebSocket connection to 127.0.0.1, driven by a caller-supplied io_context.
// Everything is asynchronous: calls start work and return; run the loop (run_until) to make progress.
// Once connected it reads continuously and keeps every text frame, parsed as JSON, in received().
// Not thread-safe: use it only from the thread that runs its io_context. Pending operations keep the
// object alive; destroy the io_context after (or instead of) the clients, never before them.
class ws_client : public std::enable_shared_from_this<ws_client> {
public:
    using duration = std::chrono::milliseconds;

    static std::shared_ptr<ws_client> create(boost::asio::io_context& ioc);

    // Sets SO_RCVBUF (bytes) before connect: a small buffer makes a paused reader back-pressure the
    // server sooner. Call before connect(); default: the system's.
    void set_receive_buffer_size(int bytes);

    // Starts TCP connect to 127.0.0.1:port and the WebSocket handshake for `target`, sending `headers`
    // as extra request fields. Over TLS (wss://) when given tls_port(port). Call once.
    void connect(server_port port, std::string target = "/ws", header_list headers = {});

    // Handshake done and the connection not finished yet.
    bool is_open() const { return open_; }
    // Connect or handshake failed (the connection never opened); see error() and http_status().
    bool failed() const { return failed_; }
    // The connection was open and has ended (close handshake either way, EOF, reset or drop()).
    bool closed() const { return closed_; }
    // What failed or ended the connection (websocket::error::closed after a close handshake).
    boost::system::error_code error() const { return error_; }
    // Status of the handshake response: 101 once open, the rejection's status (e.g. 403) when the
    // server declined the upgrade, 0 when no response was read.
    int http_status() const { return http_status_; }
    // The full handshake response, with the body of a rejection.
    boost::beast::websocket::response_type const& handshake_response() const { return handshake_response_; }
    // Close code and reason from the server's close frame; 0 and "" when none was received.
    int close_code() const { return close_code_; }
    std::string const& close_reason() const { return close_reason_; }

    // Queue a frame; frames go out in order, one write in flight. Sending before the handshake is done
    // is fine: the queue is written once it opens. Ignored after close()/drop() or once closed.
    void send_text(std::string text);
    void send_binary(std::string bytes);
    void send_json(nlohmann::json const& command);
    // Frames queued or being written.
    std::size_t pending_writes() const { return writes_.size(); }

    // Starts the close handshake with `code` once queued frames are written.
    void close(int code = 1000, std::string reason = {});
    // Closes the TCP socket at once, without a close frame: a client that vanishes. Ends the client
    // like a server close would (closed(), or failed() if it was not open yet) with operation_aborted.
    // reset: send RST (SO_LINGER 0) instead of FIN.
    void drop(bool reset = false);

    // The TCP socket's descriptor (for socket options a test reads, e.g. tcp_segments.hpp).
    int native_handle() { return ws_.next_layer().next_layer().socket().native_handle(); }

    // Stops issuing reads: the read already pending may still deliver one message, then nothing is read
    // (not even the server's close frame or pings) until resume_reading(). Makes a slow consumer.
    void pause_reading();
    void resume_reading();
    bool reading_paused() const { return paused_; }

    // Every text frame received, parsed as JSON; a frame that is not JSON is stored as a JSON string
    // holding its raw text, and counted in invalid_frames().
    std::vector<nlohmann::json> const& received() const { return received_; }
    std::size_t invalid_frames() const { return invalid_frames_; }
    // Every text frame received, byte for byte, in order (what received() holds parsed).
    std::vector<std::string> const& texts() const { return texts_; }
    std::size_t binary_frames() const { return binary_frames_; }
    // Every binary frame received, byte for byte, in order.
    std::vector<std::string> const& binaries() const { return binaries_; }
    // The received objects whose "type" is "message" (envelopes).
    std::vector<nlohmann::json> messages() const;
    std::size_t message_count() const { return message_count_; }
    // The first received object whose "id" equals `id`, if any.
    std::optional<nlohmann::json> find_reply(nlohmann::json const& id) const;

    // Blocking helpers: run `ioc` until the condition holds or `deadline` passes; return the condition.
    bool wait_open(boost::asio::io_context& ioc, duration deadline = std::chrono::seconds(10));
    bool wait_closed(boost::asio::io_context& ioc, duration deadline = std::chrono::seconds(10));
    // Open or failed, whichever comes first; true when it opened.
    bool wait_settled(boost::asio::io_context& ioc, duration deadline = std::chrono::seconds(10));
    bool wait_received(boost::asio::io_context& ioc, std::size_t count,
                       duration deadline = std::chrono::seconds(10));
    bool wait_messages(boost::asio::io_context& ioc, std::size_t count,
                       duration deadline = std::chrono::seconds(10));
    std::optional<nlohmann::json> wait_reply(boost::asio::io_context& ioc, nlohmann::json const& id,
                                             duration deadline = std::chrono::seconds(10));
    // Subscribes to `topic` (the command {"type":"subscribe","topic":topic,"id":id}) and waits for its reply, the
    // ack or an error: the set-up most tests start with.
    std::optional<nlohmann::json> subscribe(boost::asio::io_context& ioc, std::string const& topic,
                                            nlohmann::json const& id, duration deadline = std::chrono::seconds(10));
    // Sends `command` and waits for the answer to its "id".
    std::optional<nlohmann::json> ask(boost::asio::io_context& ioc, nlohmann::json const& command,
                                      duration deadline = std::chrono::seconds(10));

private:
    struct frame {
        bool binary;
        std::string payload;
    };

    explicit ws_client(boost::asio::io_context& ioc);

    void on_connect(boost::system::error_code ec);
    void on_tls(boost::system::error_code ec);
    void on_handshake(boost::system::error_code ec);
    void do_read();
    void on_read(boost::system::error_code ec, std::size_t bytes);
    void enqueue(frame f);
    void do_write();
    void on_write(boost::system::error_code ec, std::size_t bytes);
    void do_close();
    void on_close(boost::system::error_code ec);
    void fail(boost::system::error_code ec);
    void finish(boost::system::error_code ec);

    boost::beast::websocket::stream<client_stream> ws_;
    boost::beast::flat_buffer buffer_;
    boost::beast::websocket::response_type handshake_response_;
    std::string host_;
    std::string target_;
    std::deque<frame> writes_;
    std::vector<nlohmann::json> received_;
    std::vector<std::string> texts_;
    std::vector<std::string> binaries_;
    std::size_t invalid_frames_ = 0;
    std::size_t binary_frames_ = 0;
    std::size_t message_count_ = 0;
    boost::system::error_code error_;
    std::string close_reason_;
    int close_code_ = 0;
    int http_status_ = 0;
    int receive_buffer_size_ = 0;
    int requested_close_code_ = 1000;
    std::string requested_close_reason_;
    bool connecting_ = false;
    bool open_ = false;
    bool failed_ = false;
    bool closed_ = false;
    bool writing_ = false;
    bool reading_ = false;
    bool paused_ = false;
    bool close_requested_ = false;
    bool closing_ = false;
};

}  // namespace switchboard::test
