#pragma once
// An HTTP/2 stream as the byte stream of a push_channel (SSE over HTTP/2): the channel's outbox leaves as the
// stream's DATA frames, pulled by nghttp2 (h2_connection's data source) as the stream's and the connection's
// windows allow, and gathered with the connection's other frames into one write per loop turn. The channel keeps
// its own bounded queue and slow-consumer policy: a client that does not open the stream's window leaves the
// bytes in that queue (never in the connection's), so the queue's bound closes that channel alone and the
// connection's other streams go on.
//
// flush(): the data source has bytes again (nghttp2_session_resume_data). shut_down(): END_STREAM after the last
// bytes. close(): RST_STREAM (CANCEL). The stream's end, however it comes (reset by the client, the connection
// gone), reaches the channel as lost(), posted so that it never runs inside nghttp2's callbacks.
//
// A tunnel (WebSocket over HTTP/2, RFC 8441) has input too: the stream's DATA bytes reach the channel's
// received() in order, and the client's END_STREAM after them as lost(eof), as a TCP peer's FIN would. They are
// posted, never handed over inside nghttp2's callbacks (the channel's input may close it, run hooks, publish).
// What waits is bounded without pausing the stream: the connection reads at most 64 KiB per wake-up and this
// delivery is queued ahead of the next read, so a stream holds at most one read's bytes here; the channel then
// bounds what it keeps (the frame parser's message bound, the pending-command and rate limits, and its queue:
// a client that floods and never reads is a slow consumer). nghttp2 updates the windows as it receives, so a
// flooding stream costs its client CPU time, as a flooding TCP connection would, not server memory.
// Loop thread only.

#include "write_path/channel_io.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace switchboard::detail {

class h2_connection;
class h2_stream;

class h2_stream_io final : public channel_io {
public:
    /// `stream` null: it was closed before the channel took it (the channel hears so when it sends its head).
    h2_stream_io(boost::asio::any_io_executor ex, std::weak_ptr<h2_connection> conn, h2_stream* stream,
                 io_owner& owner);
    ~h2_stream_io() override;
    h2_stream_io(h2_stream_io const&) = delete;
    h2_stream_io& operator=(h2_stream_io const&) = delete;

    /// The connection reads; from now on a tunnel's input and end reach the channel.
    void start_reading() override;
    void flush() override;
    void shut_down() override;
    void close() noexcept override;
    /// Submits the response's HEADERS, its body to come from the outbox.
    bool send_head(http_response const& head) override;

    // For h2_stream, on the connection's behalf.
    /// nghttp2's data source: copies up to `length` queued bytes; NGHTTP2_ERR_DEFERRED while there are none
    /// (flush() resumes it), EOF once shut down and empty.
    ssize_t read(std::uint8_t* out, std::size_t length, std::uint32_t* flags);
    /// After the connection's send: what read() took made room, perhaps emptied the outbox.
    void after_send();
    /// The stream is closed with `code` (RFC 9113 error code; NO_ERROR when it ended well).
    void stream_closed(std::uint32_t code);
    /// A tunnel's DATA bytes, kept and posted to the channel once it reads.
    void received(std::string_view bytes);
    /// A tunnel's client sent END_STREAM: after its bytes, the channel hears lost(eof).
    void peer_ended();
    /// The stream is destroyed without a close (the loop torn down): nothing more reaches it.
    void forget_stream() noexcept { stream_ = nullptr; }

private:
    void report_lost(std::uint32_t code);
    void schedule_input();
    void deliver_input();

    boost::asio::any_io_executor ex_;
    std::weak_ptr<h2_connection> conn_;
    h2_stream* stream_;  // null once the stream is closed
    io_owner& owner_;
    bool head_sent_ = false;
    bool ending_ = false;
    bool reset_ = false;
    std::string input_;  // a tunnel's bytes not yet handed to the channel
    bool reading_ = false;
    bool input_posted_ = false;
    bool peer_ended_ = false;
    bool end_reported_ = false;
};

}  // namespace switchboard::detail
