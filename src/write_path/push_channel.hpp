#pragma once
// The write path shared by the streaming transports (WebSocket, SSE): a raw socket, a bounded frame queue, and
// one flush per loop turn that hands the whole queue to one non-blocking sendmsg (up to IOV_MAX blocks),
// waiting for writability only when the kernel's buffer is full. Reading waits for readability first and then
// reads into a per-thread scratch buffer, so an idle connection holds no read buffer.
//
// Replays are paced: replayed messages wait as pointers (the history holds the bytes anyway) and are encoded
// into the queue as it drains, so a resume of any size within history fits a bounded queue; live messages
// that arrive meanwhile wait behind them, keeping the order.
//
// Close path: close() marks the channel closing, runs the shared bookkeeping (hub, hooks, registry), lets the
// transport queue its farewell (a close frame, a close event), flushes it, shuts down sending and lingers for
// the peer's EOF, bounded by options.close_timeout.
//
// Over TLS the same queue, bounds and close path hold, but bytes go through OpenSSL: each flush copies up to one
// TLS record (16 KiB) of queued frames into a buffer held only while writing, and writes it with one
// async_write in flight (small frames share a record instead of costing one each); reads are asynchronous
// reads of the TLS stream into a small buffer of the connection's own; the half-close is TLS's close_notify
// (the pending read is cancelled first: a TLS shutdown reads the peer's reply itself).

#include <switchboard/channel.hpp>

#include "write_path/flush_scheduler.hpp"
#include "http/connection_slot.hpp"
#include "write_path/frame_queue.hpp"
#include "write_path/keepalive.hpp"
#include "http/connection_stream.hpp"
#include "server_context.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <string_view>

namespace switchboard::detail {

class push_channel : public channel, public flushable, public ticking {
public:
    void deliver(message_ptr const& m) final;
    void close(disconnect const& reason) final;
    void flush() final;
    bool on_tick(std::uint64_t now) final;

protected:
    push_channel(connection_stream stream, connection_slot slot, server_context& ctx, std::string remote_address);
    ~push_channel() override;

    /// Queues data bytes; a channel over its queue bounds closes itself as a slow consumer. Returns false then.
    bool enqueue(shared_bytes bytes);
    /// Queues control bytes that must go out even past the bounds (replies, farewells).
    void enqueue_control(shared_bytes bytes);
    /// Sends `messages` (a replay) ahead of anything delivered after this call, at the pace the client reads.
    void replay(std::vector<message_ptr> const& messages);
    /// Until release(): live messages wait (as many as the queue holds) for a replay that is not known yet.
    void hold() { holding_ = true; }
    /// Ends hold(): `replayed` goes out first, then what waited.
    void release(std::vector<message_ptr> const& replayed);

    /// Encodes and queues one message (through enqueue()).
    virtual void write_message(message_ptr const& m) = 0;

    /// Starts waiting for input, and keepalive ticks; call once the channel is open.
    void start_reading();

    /// Input bytes. Called on the loop thread; may call close().
    virtual void on_input(std::string_view bytes) = 0;
    /// The transport's last bytes for a client being closed with `reason` (none by default).
    virtual void queue_farewell(disconnect const& reason);
    /// A keepalive tick while open: `idle_in` and `idle_out` are ticks since the last input and output.
    virtual void keepalive_tick(std::uint64_t now, std::uint64_t idle_in, std::uint64_t idle_out) = 0;

    server_context& ctx_;

private:
    struct tls_io;

    boost::asio::ip::tcp::socket& socket() noexcept;
    void flush_tls();
    void on_tls_written(boost::system::error_code ec);
    void read_tls();
    void shutdown_tls();
    void take_input(std::string_view bytes);
    void pump();
    void too_slow();
    void wait_readable();
    void on_readable(boost::system::error_code ec);
    void wait_writable();
    void lost(boost::system::error_code ec);
    void finish_close();
    std::shared_ptr<push_channel> self();

    boost::asio::ip::tcp::socket socket_;  // plain: the socket, written with sendmsg; TLS: unused
    std::unique_ptr<tls_io> tls_;          // only over TLS
    connection_slot slot_;
    frame_queue queue_;
    std::vector<message_ptr> backlog_;  // waiting to be encoded: a replay, then what arrived during it
    std::size_t backlog_head_ = 0;
    std::size_t backlog_limit_ = 0;
    bool holding_ = false;
    std::uint64_t last_input_ = 0;   // keepalive ticks
    std::uint64_t last_output_ = 0;
    std::unique_ptr<boost::asio::steady_timer> linger_;  // only while closing
    bool waiting_writable_ = false;
    bool shut_down_ = false;
};

}  // namespace switchboard::detail
