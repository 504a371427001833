#include "write_path/tls_io.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>

#include <sys/uio.h>

#include <algorithm>
#include <cstring>

namespace switchboard::detail {
namespace {

// The most plaintext one TLS record carries: a write of this much is one record, one encryption, one send.
constexpr std::size_t tls_record = 16 * 1024;

}  // namespace

tls_io::tls_io(connection_stream::tls_stream stream, io_owner& owner) : owner_(owner), stream_(std::move(stream)) {}

std::shared_ptr<tls_io> tls_io::self()
{
    // Shares the owner's lifetime: the owner owns this io.
    return {owner_.keep(), this};
}

void tls_io::flush()
{
    if (writing_ || shutting_down_ || !socket().is_open())
        return;
    auto& queue = owner_.outbox();
    if (queue.empty()) {
        out_.reset();  // an idle connection keeps nothing
        return owner_.drained();
    }
    // Copy up to one record's worth of queued frames; the copied bytes leave the queue now, so the queue's
    // bounds and drop_unsent() see only what is not yet on its way.
    if (!out_)
        out_ = std::make_unique<char[]>(tls_record);
    std::array<iovec, 64> iov;
    std::size_t n = 0;
    while (n < tls_record && !queue.empty()) {
        std::size_t const count = queue.gather(iov.data(), iov.size());
        std::size_t copied = 0;
        for (std::size_t i = 0; i < count && n < tls_record; ++i) {
            std::size_t const take = std::min(iov[i].iov_len, tls_record - n);
            std::memcpy(out_.get() + n, iov[i].iov_base, take);
            n += take;
            copied += take;
        }
        queue.consume(copied);
    }
    writing_ = true;
    boost::asio::async_write(stream_, boost::asio::buffer(out_.get(), n),
                             [self = self()](boost::system::error_code ec, std::size_t written) {
                                 self->writing_ = false;
                                 if (ec)
                                     return self->owner_.lost(ec);
                                 self->owner_.sent(written);
                                 self->owner_.made_room();
                                 self->flush();
                             });
    owner_.made_room();
}

void tls_io::start_reading()
{
    reading_ = true;
    stream_.async_read_some(boost::asio::buffer(in_), [self = self()](boost::system::error_code ec, std::size_t n) {
        self->reading_ = false;
        bool const cancelled_to_shut_down = ec == boost::asio::error::operation_aborted && self->shutting_down_;
        if (ec && !cancelled_to_shut_down)  // a peer closing TCP without close_notify has ended the stream too
            return self->owner_.lost(ec == boost::asio::ssl::error::stream_truncated ? boost::asio::error::eof
                                                                                        : ec);
        if (!ec)
            self->owner_.received({self->in_.data(), n});
        if (!self->socket().is_open())
            return;
        if (self->shutting_down_)
            return self->close_notify();
        self->start_reading();
    });
}

void tls_io::shut_down()
{
    // TLS's half-close is close_notify, sent by the shutdown that then waits for the peer's; the pending read is
    // cancelled first and its handler starts the shutdown.
    shutting_down_ = true;
    out_.reset();
    if (reading_) {
        boost::system::error_code ignored;
        socket().cancel(ignored);
        return;
    }
    close_notify();
}

void tls_io::close_notify()
{
    // No read may be pending: Asio's TLS shutdown reads the peer's close_notify itself, and two reads on one
    // stream corrupt it. Whatever ends it (the peer's close_notify, its EOF, the linger timer) ends the channel.
    stream_.async_shutdown([self = self()](boost::system::error_code ec) {
        self->owner_.lost(ec && ec != boost::asio::ssl::error::stream_truncated ? ec : boost::asio::error::eof);
    });
}

}  // namespace switchboard::detail
