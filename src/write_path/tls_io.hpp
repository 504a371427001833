#pragma once
// TLS under a push_channel: the same outbox, through OpenSSL. Each flush copies up to one TLS record (16 KiB)
// of queued frames into a buffer held only while writing, and writes it with one async_write in flight (small
// frames share a record instead of costing one each); reads are asynchronous reads of the TLS stream into a
// small buffer of the connection's own; the half-close is TLS's close_notify (the pending read is cancelled
// first: a TLS shutdown reads the peer's reply itself).

#include "write_path/channel_io.hpp"
#include "http/connection_stream.hpp"

#include <array>

namespace switchboard::detail {

class tls_io final : public channel_io {
public:
    tls_io(connection_stream::tls_stream stream, io_owner& owner);

    boost::asio::ip::tcp::socket& socket() noexcept override { return stream_.next_layer().socket(); }
    void start_reading() override;
    void flush() override;
    void shut_down() override;

private:
    std::shared_ptr<tls_io> self();
    void close_notify();

    io_owner& owner_;
    connection_stream::tls_stream stream_;
    std::unique_ptr<char[]> out_;  // the record being written: held only while the outbox has bytes
    std::array<char, 2048> in_;    // a pending read needs its own buffer (OpenSSL holds a whole record anyway)
    bool writing_ = false;
    bool reading_ = false;
    bool shutting_down_ = false;
};

}  // namespace switchboard::detail
