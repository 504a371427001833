#pragma once
// The byte stream under a push_channel, one small interface for its kinds: TLS through OpenSSL (tls_io), an HTTP/2
// stream (h2_stream_io), and plain TCP written with sendmsg (plain_io, which has the same operations but is called
// as itself). The channel decides what to send and when to stop; the io moves the outbox's bytes to the peer and
// the peer's bytes up, and says what happened through io_owner.

#include "core/read_scratch.hpp"
#include "write_path/frame_queue.hpp"

#include <switchboard/fwd.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string_view>

namespace switchboard::detail {

struct plain_io_loop;

/// What an io needs from the channel above it. Every operation in flight holds the owner alive (keep()), so the
/// io it owns outlives them too.
class io_owner {
public:
    /// The bytes waiting to be sent: the io consumes what it hands on.
    virtual frame_queue& outbox() noexcept = 0;
    /// Bytes from the peer.
    virtual void received(std::string_view bytes) = 0;
    /// `bytes` left for the peer: counters and keepalive.
    virtual void sent(std::size_t bytes) = 0;
    /// The io took bytes out of the outbox: there is room again (replays refill it).
    virtual void made_room() = 0;
    /// The outbox is empty and nothing is being written.
    virtual void drained() = 0;
    /// The stream ended (the peer closed, an error, or the end of shut_down()): nothing more can be said to it.
    virtual void lost(boost::system::error_code ec) = 0;
    virtual std::shared_ptr<io_owner> keep() = 0;
    /// What every plain connection of the owner's loop shares: asked for where each plain_io held a reference
    /// (8 bytes of every channel).
    virtual plain_io_loop const& plain_loop() const noexcept = 0;

protected:
    ~io_owner() = default;
};

class channel_io {
public:
    virtual ~channel_io() = default;

    /// Waits for input and hands each arrival to received(), until the stream ends.
    virtual void start_reading() = 0;
    /// Sends what the outbox holds, now as far as the kernel takes it and the rest as it drains; drained()
    /// once it is all sent.
    virtual void flush() = 0;
    /// Half-closes after the last bytes; the peer's end (or the owner's linger timer) then comes as lost().
    virtual void shut_down() = 0;

    /// The connection has been quiet for a while: give up what waiting for input costs (plain_io parks its
    /// descriptor in the loop's idle_watch). Anything may follow, as before. Nothing by default.
    virtual void rest() {}

    /// Ends the stream now; operations in flight complete with operation_aborted (over an HTTP/2 stream: the
    /// stream is reset, its connection goes on).
    virtual void close() noexcept = 0;
    /// Over an HTTP/2 stream the response head is a HEADERS frame, not bytes of the body: the io sends `head`'s
    /// status and fields (its body is ignored) ahead of the outbox's bytes and returns true. A byte stream (TCP,
    /// TLS) returns false: the channel writes the head in its own bytes.
    virtual bool send_head(http_response const&) { return false; }
};

}  // namespace switchboard::detail
