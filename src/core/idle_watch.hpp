#pragma once
// Where a loop's quiet connections wait for input. Asio keeps, for each socket it watches, a reactor entry
// (~170 B) and the pending wait's operation (~100 B). A stream that has heard nothing for two keepalive ticks
// (what it sends does not count) hands its descriptor to this watch instead (park): one epoll set per loop,
// which Asio watches as a single descriptor. So does a long poll that has waited as long (http_connection's
// departure watch). A parked connection then costs no memory of the process, only the kernel's entry in the set.
//
// Input or the peer's end wakes the connection once (woken()): its descriptor leaves the set, and the
// connection takes it back into Asio to read. Sending needs no wait, so a parked connection's sendmsg goes
// straight to its descriptor. Only a full socket buffer (a wait for writability) takes it back into Asio.
//
// Level-triggered: input that arrived just before the descriptor was parked wakes it at once. One watch per
// io_context, as an Asio service: it outlives every connection of the context, even one whose last owner is a
// handler destroyed with the context. Loop thread only.

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <unistd.h>

#include <cstddef>
#include <vector>

namespace switchboard::detail {

class idle_watch final : public boost::asio::execution_context::service {
public:
    /// A parked connection.
    class sleeper {
    public:
        /// Its descriptor is readable, or the peer is gone. The sleeper calls unpark() before it reads.
        virtual void woken() = 0;

    protected:
        ~sleeper() = default;
    };

    static inline boost::asio::execution_context::id id;

    /// The context's watch (made on first use).
    static idle_watch& of(boost::asio::execution_context& context);

    explicit idle_watch(boost::asio::execution_context& context);
    ~idle_watch() override;

    /// Watches `fd` for `s` until woken or unpark(). False when it cannot (no epoll set: the context is shutting
    /// down, or the kernel refused); then the caller waits in Asio as before.
    bool park(int fd, sleeper& s);
    /// Takes `fd` (of `s`) out of the set.
    void unpark(int fd, sleeper& s) noexcept;
    /// Takes `fd` (of `s`) out of the set and closes it: its connection is done.
    void discard(int fd, sleeper& s) noexcept
    {
        unpark(fd, s);
        ::close(fd);
    }
    /// Puts `fd`, back from the set (or never parked), under `socket` again, of protocol v6 or v4, and non-blocking
    /// as before. False, with `ec` set and `fd` closed, when Asio cannot take it; else `ec` says whether the
    /// socket could be made non-blocking.
    template <class Socket>
    static bool take_back(Socket& socket, bool v6, int fd, boost::system::error_code& ec)
    {
        socket.assign(v6 ? boost::asio::ip::tcp::v6() : boost::asio::ip::tcp::v4(), fd, ec);
        if (ec) {
            ::close(fd);
            return false;
        }
        socket.non_blocking(true, ec);
        return true;
    }
    /// Connections parked now.
    std::size_t parked() const noexcept { return parked_; }
    /// The loop this watch belongs to: a connection that leaves it makes its socket there again.
    boost::asio::io_context& loop() noexcept { return static_cast<boost::asio::io_context&>(context()); }

private:
    void shutdown() override;
    void wait();
    void on_ready();

    boost::asio::posix::stream_descriptor set_;
    // The sleepers of the epoll_wait being handled: one woken may close another, which then leaves this list,
    // so a stale entry is never called.
    std::vector<sleeper*> ready_;
    std::size_t parked_ = 0;
    bool waiting_ = false;
};

}  // namespace switchboard::detail
