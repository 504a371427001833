#pragma once
// One HTTP/2 connection (RFC 9113): an nghttp2 server session driven from the loop. Bytes read from the socket
// go to nghttp2_session_mem_recv; what the session has to say (SETTINGS, acks, responses) is gathered by
// nghttp2_session_mem_send into one write per connection per loop turn (the send is posted, so every answer given
// during the turn leaves together). Each request is an h2_stream, routed through the same route table as
// HTTP/1.1 requests. nghttp2 does the framing, HPACK and flow control and answers protocol errors as RFC 9113
// prescribes (RST_STREAM, GOAWAY); this class adds the server's limits: the streams announced in SETTINGS, the
// header list size, the body size, and the request deadline per stream.
// Over plain TCP (h2c with prior knowledge) or TLS (ALPN h2). Loop thread only.

#include "core/slot_list.hpp"
#include "http/connection_slot.hpp"
#include "http/connection_stream.hpp"
#include "http/exchange.hpp"

#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct nghttp2_session;

namespace switchboard::detail {

class h2_stream;

class h2_connection : public std::enable_shared_from_this<h2_connection> {
public:
    /// `read`: the bytes already read from `stream` (the preface, and perhaps frames behind it).
    h2_connection(connection_stream stream, connection_slot slot, std::string read, server_context& ctx,
                  packed_address remote_address);
    ~h2_connection();
    h2_connection(h2_connection const&) = delete;
    h2_connection& operator=(h2_connection const&) = delete;

    /// Sends the server's SETTINGS, takes the bytes already read, and reads on.
    void start();
    /// The server is stopping: GOAWAY (NO_ERROR); the streams already open finish, then the connection closes.
    void go_away();

    // For h2_stream and h2_stream_io.
    /// HEADERS from `res`, then its body; `streaming`: the body is a push channel's outbox (h2_stream_io), sent
    /// as it comes, and the stream ends when the channel shuts down.
    void submit_response(h2_stream& s, http_response const& res, bool streaming = false);
    void reset_stream(std::int32_t id, std::uint32_t code);
    /// A streaming body has bytes again: nghttp2 asks for them in the next send.
    void resume_data(std::int32_t id);

private:
    friend struct h2_callbacks;

    void wait_readable();
    void on_readable(boost::system::error_code ec);
    void receive(std::string_view bytes);
    void schedule_send();
    void send();
    void on_write(boost::system::error_code ec);
    void close();
    void arm_timer();
    void on_timer(boost::system::error_code ec);

    connection_stream stream_;
    connection_slot slot_;
    server_context& ctx_;
    packed_address remote_address_;
    std::string early_input_;  // what the HTTP/1.1 side read before handing over, until start()
    nghttp2_session* session_ = nullptr;
    std::unordered_map<std::int32_t, std::shared_ptr<h2_stream>> streams_;
    std::string output_;  // the write in flight
    std::vector<std::shared_ptr<h2_stream>> pulled_;  // streaming bodies read during a send, told after it
    std::unique_ptr<std::array<char, 16 * 1024>> tls_input_;  // over TLS: what a read decrypts into
    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::time_point idle_since_;
    bool writing_ = false;
    bool send_posted_ = false;
    bool going_away_ = false;
    bool closed_ = false;
    bool timer_armed_ = false;
    friend class slot_list<h2_connection>;
    std::uint32_t list_slot_ = ~std::uint32_t{0};  // in server_context::h2_connections
};

}  // namespace switchboard::detail
