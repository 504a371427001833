#pragma once
// Plain TCP under a push_channel: one non-blocking sendmsg hands the whole outbox to the kernel (up to a batch
// of blocks per call), waiting for writability only when the kernel's buffer is full. In the loop turn's flush
// that sendmsg joins the loop's send_batch (one system call for every connection's) where io_uring is there.
// Reading waits for readability first and then reads into a per-thread scratch buffer, so an idle connection
// holds no read buffer and has one small operation pending; a quiet one (rest()) not even that: its descriptor
// waits in the loop's idle_watch, outside Asio and without a socket object, until input comes or a write has to
// wait.

#include "core/idle_watch.hpp"
#include "write_path/channel_io.hpp"
#include "write_path/send_batch.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>

namespace switchboard::detail {

/// What every plain connection of a loop shares, asked of its owner (io_owner::plain_loop): the loop's send batch
/// (null: each flush sends by itself) and the idle watch where a quiet connection waits (null: it waits in Asio).
struct plain_io_loop {
    send_batch* batch = nullptr;
    idle_watch* watch = nullptr;
};

// channel_io's operations, called as themselves: the channel holds its plain io in place and knows it is one
// (push_channel::with_io), where deriving from channel_io put a vtable pointer in every plain connection.
class plain_io final : public batched_sender, private idle_watch::sleeper {
public:
    /// `socket`: of a loop's io_context; the owner's plain_loop() outlives the connection.
    plain_io(boost::asio::ip::tcp::socket socket, io_owner& owner);
    ~plain_io();
    plain_io(plain_io const&) = delete;
    plain_io& operator=(plain_io const&) = delete;

    void close() noexcept;
    void start_reading();
    void flush();
    void shut_down();
    void rest();
    bool send_head(http_response const&) const noexcept { return false; }  // the channel writes the head

private:
    std::shared_ptr<plain_io> self();
    bool is_open() const noexcept { return parked_ >= 0 || (socket_ && socket_->is_open()); }
    int descriptor() noexcept { return parked_ >= 0 ? parked_ : socket_->native_handle(); }
    void on_readable(boost::system::error_code ec);
    void woken() override;
    /// Takes the parked descriptor back into Asio and waits for input there; false when the stream is lost.
    bool unpark();
    /// Puts `fd` under socket_ (made on its loop when missing) and, when `read`, waits for input; false when Asio
    /// cannot take it (the stream is then lost, told to the owner when `read`).
    bool adopt(int fd, bool read);
    void wait_writable();
    void send_now();
    void on_batch_sent(ssize_t result) override;
    /// A send's result (bytes, or -errno as sendmsg sets errno); false when the io must stop sending for now.
    bool took(ssize_t result);

    // Its loop's io_context as the executor: one pointer, where any_io_executor (the HTTP side's sockets carry
    // one) is 56 bytes of every connection.
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

    io_owner& owner_;
    // Made while the descriptor is in Asio (set up, a read wait, a full socket buffer), gone while parked: an
    // idle stream spends most of its life parked, and the socket object is 40 bytes of it.
    std::unique_ptr<socket_type> socket_;
    int parked_ = -1;  // the descriptor while it waits in the loop's idle watch
    std::uint32_t read_wait_ = 0;  // numbers the read waits: the one parking cancels completes stale
    bool reading_ = false;         // a read wait is pending in Asio
    bool v6_ = false;              // the socket's protocol, to take a parked descriptor back
    bool waiting_writable_ = false;
    bool in_batch_ = false;  // a send of this connection waits in the batch
};

}  // namespace switchboard::detail
