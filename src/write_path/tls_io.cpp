#include "write_path/tls_io.hpp"

#include "core/exact_allocation.hpp"

#include <boost/asio/ssl/error.hpp>

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace switchboard::detail {
namespace {

// The most plaintext one TLS record carries: a write of this much is one record, one encryption, one send.
constexpr std::size_t tls_record = 16 * 1024;

// Plaintext read per wake-up at most, so that one chatty client cannot starve the loop.
constexpr std::size_t read_per_wakeup = 64 * 1024;

}  // namespace

tls_io::tls_io(stream_type stream, io_owner& owner) : owner_(owner), stream_(std::move(stream)) {}

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
        if (stream_.output_waiting())
            return write(0);  // what reading made OpenSSL answer (a key update, say)
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
    write(n);
    owner_.made_room();
}

void tls_io::write(std::size_t n)
{
    // One record: the write completes once it has left for the socket (what the socket did not take first).
    writing_ = true;
    stream_.async_write_some(boost::asio::buffer(out_.get(), n),
                             [self = self(), n](boost::system::error_code ec, std::size_t) {
                                 self->writing_ = false;
                                 if (ec)
                                     return self->owner_.lost(ec);
                                 if (n > 0)
                                     self->owner_.sent(n);
                                 self->owner_.made_room();
                                 self->flush();
                             });
}

void tls_io::start_reading()
{
    // An idle connection's one pending operation: a readiness wait allocated at its own size (see plain_io).
    reading_ = true;
    socket().async_wait(boost::asio::socket_base::wait_read,
                        exact_allocation([self = self()](boost::system::error_code ec) { self->on_readable(ec); }));
}

void tls_io::on_readable(boost::system::error_code ec)
{
    reading_ = false;
    if (ec == boost::asio::error::operation_aborted && shutting_down_)
        return close_notify();
    if (ec)
        return owner_.lost(ec);
    auto& buffer = read_scratch();
    for (std::size_t total = 0; total < read_per_wakeup;) {
        std::size_t n = 0;
        auto const step = stream_.read_now(boost::asio::buffer(buffer), n, ec);
        if (step == tls_engine::step::want_read)
            break;
        if (step == tls_engine::step::failed)  // a peer closing TCP without close_notify has ended the stream too
            return owner_.lost(ec == boost::asio::ssl::error::stream_truncated ? boost::asio::error::eof : ec);
        owner_.received({buffer.data(), n});
        if (!socket().is_open() || shutting_down_)
            return;  // closed, or closing: the shutdown reads from here on
        total += n;
    }
    if (stream_.output_waiting() && !writing_)
        flush();
    start_reading();
}

void tls_io::shut_down()
{
    // TLS's half-close is close_notify, sent by the shutdown that then waits for the peer's; the pending wait is
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
    // Nothing else may read meanwhile: the shutdown reads the peer's close_notify itself. Whatever ends it (the
    // peer's close_notify, its EOF, the linger timer) ends the channel.
    stream_.async_shutdown([self = self()](boost::system::error_code ec) {
        self->owner_.lost(ec && ec != boost::asio::ssl::error::stream_truncated ? ec : boost::asio::error::eof);
    });
}

}  // namespace switchboard::detail
