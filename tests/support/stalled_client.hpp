#pragma once
// A client that writes and never reads: a plain TCP connection to 127.0.0.1 with a small receive buffer, so
// whatever the server answers soon fills it and stays on the server's side. For tests of what a client that
// stops reading costs the server.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace switchboard::test {

// Not thread-safe; run the io_context to make progress. Pending writes keep the object alive.
class stalled_client : public std::enable_shared_from_this<stalled_client> {
public:
    /// Connects at once (blocking: loopback), with SO_RCVBUF of `receive_buffer` bytes.
    static std::shared_ptr<stalled_client> connect(boost::asio::io_context& ioc, std::uint16_t port,
                                                   int receive_buffer = 4096);

    /// Queues `bytes`; they are written in order, as the server takes them.
    void send(std::string bytes);
    /// Everything queued is written, or the connection failed (the server may close a client it gave up on).
    bool settled() const { return writes_.empty() || failed_; }
    bool failed() const { return failed_; }
    /// Bytes the server took.
    std::size_t written() const { return written_; }
    void close();

private:
    explicit stalled_client(boost::asio::io_context& ioc) : socket_(ioc) {}
    void do_write();

    boost::asio::ip::tcp::socket socket_;
    std::deque<std::string> writes_;
    std::size_t written_ = 0;
    bool writing_ = false;
    bool failed_ = false;
};

}  // namespace switchboard::test
