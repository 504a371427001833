#pragma once
// TLS under a push_channel: the same outbox, through OpenSSL (tls_stream over the bare socket: no deadlines, the
// channel has its own keepalive and linger timers). Each flush copies up to one TLS record (16 KiB) of queued
// frames into a buffer held only while writing, and writes it with one write in flight (small frames share a
// record instead of costing one each). Reading is a readiness wait, as for plain TCP, then OpenSSL reads the
// socket into the loop's shared buffer: an idle connection holds its SSL object and one pending wait, no buffer.
// The half-close is TLS's close_notify (the wait is cancelled first: the shutdown reads the peer's reply itself).

#include "write_path/channel_io.hpp"
#include "http/tls_stream.hpp"

#include <memory>

namespace switchboard::detail {

class tls_io final : public channel_io {
public:
    using stream_type = tls_stream<boost::asio::ip::tcp::socket>;

    tls_io(stream_type stream, io_owner& owner);

    boost::asio::ip::tcp::socket& socket() noexcept { return stream_.socket(); }
    void close() noexcept override
    {
        boost::system::error_code ignored;
        socket().close(ignored);
    }
    void start_reading() override;
    void flush() override;
    void shut_down() override;

private:
    std::shared_ptr<tls_io> self();
    void on_readable(boost::system::error_code ec);
    void write(std::size_t n);
    void close_notify();

    io_owner& owner_;
    stream_type stream_;
    std::unique_ptr<char[]> out_;  // the record being written: held only while the outbox has bytes
    bool writing_ = false;
    bool reading_ = false;
    bool shutting_down_ = false;
};

}  // namespace switchboard::detail
