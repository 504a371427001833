#include "write_path/push_channel.hpp"

#include "core/exact_allocation.hpp"

#include <boost/asio/socket_base.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace switchboard::detail {
namespace {

// Enough blocks per sendmsg to empty a busy queue in a few calls; IOV_MAX is 1024 on Linux.
constexpr std::size_t iov_batch = 256;

// One loop thread reads at a time, so one buffer per thread serves every connection.
std::array<char, 64 * 1024>& scratch()
{
    thread_local std::array<char, 64 * 1024> buffer;
    return buffer;
}

// The most plaintext one TLS record carries: a write of this much is one record, one encryption, one send.
constexpr std::size_t tls_record = 16 * 1024;

}  // namespace

struct push_channel::tls_io {
    explicit tls_io(connection_stream::tls_stream s) : stream(std::move(s)) {}

    connection_stream::tls_stream stream;
    std::unique_ptr<char[]> out;  // the record being written: held only while the queue has bytes
    std::array<char, 2048> in;    // a pending read needs its own buffer (OpenSSL holds a whole record anyway)
    bool writing = false;
    bool reading = false;
    bool shutting_down = false;
};

push_channel::push_channel(connection_stream stream, connection_slot slot, server_context& ctx,
                           std::string remote_address)
    : channel(std::move(remote_address)),
      ctx_(ctx),
      socket_(ctx.executor),
      slot_(std::move(slot)),
      last_input_(ctx.keepalive.now()),
      last_output_(ctx.keepalive.now())
{
    boost::system::error_code ec;
    if (stream.is_tls()) {
        tls_ = std::make_unique<tls_io>(std::move(stream.tls()));
    } else {
        socket_ = stream.tcp().release_socket();
        socket_.non_blocking(true, ec);
    }
    socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (ctx.options.socket_send_buffer > 0)
        socket().set_option(boost::asio::socket_base::send_buffer_size(static_cast<int>(ctx.options.socket_send_buffer)), ec);
}

push_channel::~push_channel() = default;

boost::asio::ip::tcp::socket& push_channel::socket() noexcept
{
    return tls_ ? tls_->stream.next_layer().socket() : socket_;
}

std::shared_ptr<push_channel> push_channel::self()
{
    return std::static_pointer_cast<push_channel>(shared_from_this());
}

bool push_channel::enqueue(shared_bytes bytes)
{
    if (closing())
        return false;
    if (!queue_.push(std::move(bytes), {ctx_.options.max_queue_bytes, ctx_.options.max_queue_messages})) {
        too_slow();
        return false;
    }
    ctx_.flusher.schedule(self());
    return true;
}

void push_channel::too_slow()
{
    // Free the backlog now (memory stays bounded) and put the reason right behind what is on the wire, so the
    // client learns it as soon as it reads, and resumes from history.
    queue_.drop_unsent();
    backlog_.clear();
    backlog_head_ = 0;
    ++ctx_.metrics.slow_consumers;
    close(disconnect::slow_consumer());
}

void push_channel::deliver(message_ptr const& m)
{
    if (closing())
        return;
    if (holding_) {
        if (backlog_.size() >= ctx_.options.max_queue_messages)
            return too_slow();
        backlog_.push_back(m);
        return;
    }
    if (backlog_head_ == backlog_.size())
        return write_message(m);
    if (backlog_.size() - backlog_head_ >= backlog_limit_)
        return too_slow();
    backlog_.push_back(m);
}

void push_channel::replay(std::vector<message_ptr> const& messages)
{
    if (messages.empty() || closing())
        return;
    backlog_.insert(backlog_.end(), messages.begin(), messages.end());
    // What may wait: the replay itself plus as many live messages as the queue would hold.
    backlog_limit_ = backlog_.size() - backlog_head_ + ctx_.options.max_queue_messages;
    pump();
}

void push_channel::release(std::vector<message_ptr> const& replayed)
{
    holding_ = false;
    std::vector<message_ptr> waited = std::move(backlog_);
    backlog_.clear();
    backlog_head_ = 0;
    std::vector<message_ptr> all;
    all.reserve(replayed.size() + waited.size());
    all.insert(all.end(), replayed.begin(), replayed.end());
    all.insert(all.end(), waited.begin(), waited.end());
    replay(all);
}

void push_channel::pump()
{
    // Refill up to half the queue's bounds, so a replay never trips the slow-consumer limit by itself.
    std::size_t const max_bytes = ctx_.options.max_queue_bytes / 2;
    std::size_t const max_frames = ctx_.options.max_queue_messages / 2;
    while (backlog_head_ < backlog_.size() && !closing() && queue_.bytes() < max_bytes && queue_.frames() < max_frames) {
        auto const m = backlog_[backlog_head_++];  // a copy: writing may close the channel and clear the backlog
        write_message(m);
    }
    if (backlog_head_ == backlog_.size()) {
        backlog_.clear();
        backlog_.shrink_to_fit();  // an idle connection keeps nothing
        backlog_head_ = 0;
    }
}

void push_channel::enqueue_control(shared_bytes bytes)
{
    if (shut_down_)
        return;
    queue_.force_push(std::move(bytes));
    ctx_.flusher.schedule(self());
}

void push_channel::flush()
{
    if (tls_)
        return flush_tls();
    if (waiting_writable_ || !socket_.is_open())
        return;
    std::array<iovec, iov_batch> iov;
    while (!queue_.empty()) {
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = queue_.gather(iov.data(), iov.size());
        ssize_t const n = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                wait_writable();
                return;
            }
            if (errno == EINTR)
                continue;
            lost({errno, boost::system::system_category()});
            return;
        }
        queue_.consume(static_cast<std::size_t>(n));
        ctx_.metrics.bytes_out += static_cast<std::size_t>(n);
        last_output_ = ctx_.keepalive.now();
        if (backlog_head_ < backlog_.size())
            pump();
    }
    if (closing() && !shut_down_)
        finish_close();
}

void push_channel::flush_tls()
{
    auto& t = *tls_;
    if (t.writing || t.shutting_down || !socket().is_open())
        return;
    if (queue_.empty()) {
        t.out.reset();  // an idle connection keeps nothing
        if (closing() && !shut_down_)
            finish_close();
        return;
    }
    // Copy up to one record's worth of queued frames; the copied bytes leave the queue now, so the queue's
    // bounds and drop_unsent() see only what is not yet on its way.
    if (!t.out)
        t.out = std::make_unique<char[]>(tls_record);
    std::array<iovec, 64> iov;
    std::size_t n = 0;
    while (n < tls_record && !queue_.empty()) {
        std::size_t const count = queue_.gather(iov.data(), iov.size());
        std::size_t copied = 0;
        for (std::size_t i = 0; i < count && n < tls_record; ++i) {
            std::size_t const take = std::min(iov[i].iov_len, tls_record - n);
            std::memcpy(t.out.get() + n, iov[i].iov_base, take);
            n += take;
            copied += take;
        }
        queue_.consume(copied);
    }
    t.writing = true;
    boost::asio::async_write(t.stream, boost::asio::buffer(t.out.get(), n),
                             [self = self()](boost::system::error_code ec, std::size_t written) {
                                 self->tls_->writing = false;
                                 if (ec)
                                     return self->lost(ec);
                                 self->ctx_.metrics.bytes_out += written;
                                 self->last_output_ = self->ctx_.keepalive.now();
                                 self->on_tls_written(ec);
                             });
    if (backlog_head_ < backlog_.size())
        pump();
}

void push_channel::on_tls_written(boost::system::error_code)
{
    if (backlog_head_ < backlog_.size())
        pump();
    flush_tls();
}

void push_channel::read_tls()
{
    auto& t = *tls_;
    t.reading = true;
    t.stream.async_read_some(boost::asio::buffer(t.in), [self = self()](boost::system::error_code ec, std::size_t n) {
        auto& t = *self->tls_;
        t.reading = false;
        bool const cancelled_to_shut_down = ec == boost::asio::error::operation_aborted && t.shutting_down;
        if (ec && !cancelled_to_shut_down)  // a peer closing TCP without close_notify has ended the stream too
            return self->lost(ec == boost::asio::ssl::error::stream_truncated ? boost::asio::error::eof : ec);
        if (!ec)
            self->take_input({t.in.data(), n});
        if (!self->socket().is_open())
            return;
        if (t.shutting_down)
            return self->shutdown_tls();
        self->read_tls();
    });
}

void push_channel::shutdown_tls()
{
    // No read may be pending: Asio's TLS shutdown reads the peer's close_notify itself, and two reads on one
    // stream corrupt it. Whatever ends it (the peer's close_notify, its EOF, the linger timer) ends the channel.
    tls_->stream.async_shutdown([self = self()](boost::system::error_code ec) {
        self->lost(ec && ec != boost::asio::ssl::error::stream_truncated ? ec : boost::asio::error::eof);
    });
}

void push_channel::wait_writable()
{
    waiting_writable_ = true;
    socket_.async_wait(boost::asio::socket_base::wait_write, [self = self()](boost::system::error_code ec) {
        self->waiting_writable_ = false;
        if (ec)
            return self->lost(ec);
        self->flush();
    });
}

void push_channel::start_reading()
{
    ctx_.keepalive.watch(std::static_pointer_cast<ticking>(self()));
    if (tls_)
        return read_tls();
    wait_readable();
}

bool push_channel::on_tick(std::uint64_t now)
{
    if (closing())
        return false;
    keepalive_tick(now, now - last_input_, now - last_output_);
    if (now - last_output_ > 0)
        queue_.trim();  // quiet for a tick: give the queue's memory back (not per flush: that would cost a
                        // reallocation per delivery on a busy connection)
    return !closing();
}

void push_channel::wait_readable()
{
    // An idle connection's one pending operation: allocated at its own size (exact_allocation), not in a
    // recycled block sized for the largest operation the loop ran lately.
    socket_.async_wait(boost::asio::socket_base::wait_read,
                       exact_allocation([self = self()](boost::system::error_code ec) { self->on_readable(ec); }));
}

void push_channel::on_readable(boost::system::error_code ec)
{
    if (ec)
        return lost(ec);
    auto& buffer = scratch();
    // Bounded: one 64 KiB read per wake-up, so one chatty client cannot starve the loop.
    std::size_t const n = socket_.read_some(boost::asio::buffer(buffer), ec);
    if (ec == boost::asio::error::would_block)
        return wait_readable();
    if (ec)
        return lost(ec);
    take_input({buffer.data(), n});
    if (socket_.is_open())
        wait_readable();
}

void push_channel::take_input(std::string_view bytes)
{
    last_input_ = ctx_.keepalive.now();
    if (shut_down_)
        return;  // closing: input is only read to see the peer's EOF
    // Nothing escapes a completion handler: a failure in one client's input closes that client only.
    try {
        on_input(bytes);
    } catch (std::exception const& e) {
        spdlog::error("channel {}: input failed: {}", id(), e.what());
        close(disconnect::internal_error());
    }
}

void push_channel::lost(boost::system::error_code ec)
{
    // The peer is gone (or the socket was closed under us): nothing more can be said to it.
    if (ec != boost::asio::error::operation_aborted && !closing())
        spdlog::debug("channel {} lost: {}", id(), ec.message());
    if (!closing()) {
        begin_closing();
        ctx_.closed(*this, ec == boost::asio::error::eof ? disconnect::normal() : disconnect::write_failed());
    }
    queue_.clear();
    shut_down_ = true;
    if (linger_)
        linger_->cancel();
    socket().close(ec);
}

void push_channel::queue_farewell(disconnect const&) {}

void push_channel::close(disconnect const& reason)
{
    if (!begin_closing())
        return;
    ctx_.closed(*this, reason);
    queue_farewell(reason);
    linger_ = std::make_unique<boost::asio::steady_timer>(ctx_.executor, ctx_.options.close_timeout);
    linger_->async_wait([self = self()](boost::system::error_code ec) {
        if (!ec)
            self->lost(boost::asio::error::timed_out);
    });
    ctx_.flusher.schedule(self());
}

void push_channel::finish_close()
{
    // Everything is sent: half-close, and let the read side see the peer's EOF (or the linger timer) before
    // the socket is closed, so the peer is not reset while our last bytes are in flight.
    shut_down_ = true;
    if (tls_) {
        // TLS's half-close is close_notify, sent by the shutdown that then waits for the peer's; the pending
        // read is cancelled first and its handler starts the shutdown.
        tls_->shutting_down = true;
        tls_->out.reset();
        boost::system::error_code ec;
        if (tls_->reading)
            socket().cancel(ec);
        else
            shutdown_tls();
        return;
    }
    boost::system::error_code ec;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    if (ec)
        lost(ec);
}

}  // namespace switchboard::detail
