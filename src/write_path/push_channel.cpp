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

push_channel::push_channel(connection_stream stream, connection_slot slot, channel_services& services,
                           std::string remote_address)
    : channel(std::move(remote_address)),
      services_(services),
      socket_(services.executor),
      slot_(std::move(slot)),
      last_input_(services.keepalive.now()),
      last_output_(services.keepalive.now())
{
    boost::system::error_code ec;
    if (stream.is_tls()) {
        tls_ = std::make_unique<tls_io>(std::move(stream.tls()));
    } else {
        socket_ = stream.tcp().release_socket();
        socket_.non_blocking(true, ec);
    }
    socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (services.options.socket_send_buffer > 0)
        socket().set_option(
            boost::asio::socket_base::send_buffer_size(static_cast<int>(services.options.socket_send_buffer)), ec);
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
    if (!queue_.push(std::move(bytes), {services_.options.max_queue_bytes, services_.options.max_queue_messages})) {
        too_slow();
        return false;
    }
    services_.flusher.schedule(self());
    return true;
}

void push_channel::too_slow()
{
    // Free the unsent queue now (memory stays bounded) and put the reason right behind what is on the wire, so the
    // client learns it as soon as it reads, and resumes from history.
    queue_.drop_unsent();
    drop_replays();
    ++services_.metrics.slow_consumers;
    close(disconnect::slow_consumer());
}

void push_channel::drop_replays()
{
    replays_.clear();
    replays_.shrink_to_fit();  // an idle connection keeps nothing
    page_bytes_ = 0;
    held_.clear();
    held_.shrink_to_fit();
    held_bytes_ = 0;
}

delivery_status push_channel::deliver(message_ptr const& m)
{
    if (closing())
        return delivery_status::closing;
    if (holding_) {
        held_bytes_ += m->envelope()->size();
        if (held_.size() >= services_.options.max_queue_messages || held_bytes_ > services_.options.max_queue_bytes) {
            too_slow();
            return delivery_status::slow_consumer;
        }
        held_.push_back(m);
        return delivery_status::queued;
    }
    if (auto* r = find_replay(m->topic()))
        return follow_replay(*r, m);
    write_message(m);
    // write_message queues through enqueue(), which closes the channel as a slow consumer past its bounds.
    return closing() ? delivery_status::slow_consumer : delivery_status::queued;
}

push_channel::replay_state* push_channel::find_replay(std::string_view topic)
{
    for (auto& r : replays_)
        if (r->topic == topic)
            return r.get();
    return nullptr;
}

void push_channel::add_to_page(replay_state& r, message_ptr const& m)
{
    r.page.push_back(m);
    page_bytes_ += m->envelope()->size();
}

delivery_status push_channel::follow_replay(replay_state& r, message_ptr const& m)
{
    if (m->epoch() == r.epoch && m->offset() <= r.last)
        return delivery_status::queued;  // the replay has it already
    if (m->epoch() != r.epoch || m->offset() != r.last + 1) {
        close(disconnect::stream_gap());  // the topic's stream moved on without what the replay promised
        return delivery_status::stream_gap;
    }
    r.last = m->offset();
    // Kept when the replay has read everything before it (so what a subscription held while it was made still
    // goes out when history keeps nothing), as long as pages fit their half of the budget; otherwise history
    // gives it back when the replay gets there.
    if (r.next + r.page.size() == m->offset() && fits_in_pages(*m))
        add_to_page(r, m);
    return delivery_status::queued;
}

bool push_channel::fits_in_pages(message const& m) const noexcept
{
    return page_bytes_ + m.envelope()->size() <= services_.options.max_queue_bytes / 2;
}

void push_channel::replay(std::vector<message_ptr> const& first, std::uint64_t last)
{
    if (first.empty() || closing() || last < first.front()->offset())
        return;
    auto* r = find_replay(first.front()->topic());
    if (r) {
        // Asked again while the replay still runs: it starts over from the new position, once, rather than
        // stacking another copy. Messages of the topic delivered meanwhile are past the old range's end.
        for (auto const& m : r->page)
            page_bytes_ -= m->envelope()->size();
        r->page.clear();
        if (r->epoch == first.front()->epoch())
            last = std::max(last, r->last);
    } else {
        r = replays_.emplace_back(std::make_unique<replay_state>()).get();
        r->topic = first.front()->topic();
    }
    r->awaiting = 0;  // a page read in flight is for the range as it was
    r->epoch = first.front()->epoch();
    r->next = first.front()->offset();
    r->last = last;
    for (auto const& m : first) {
        if (m->epoch() != r->epoch || m->offset() != r->next + r->page.size() || m->offset() > r->last ||
            !fits_in_pages(*m))
            break;
        add_to_page(*r, m);
    }
    pump();
}

void push_channel::forget_replay(std::string_view topic)
{
    auto it = std::find_if(replays_.begin(), replays_.end(), [&](auto const& r) { return r->topic == topic; });
    if (it == replays_.end())
        return;
    for (auto const& m : (*it)->page)
        page_bytes_ -= m->envelope()->size();
    replays_.erase(it);
}

void push_channel::release()
{
    holding_ = false;
    std::vector<message_ptr> waited = std::move(held_);
    held_.clear();
    held_bytes_ = 0;
    for (auto const& m : waited)
        deliver(m);
    pump();
}

bool push_channel::has_room() const noexcept
{
    // Up to half the queue's bounds, so a replay never trips the slow-consumer limit by itself.
    return queue_.bytes() < services_.options.max_queue_bytes / 2 &&
           queue_.frames() < services_.options.max_queue_messages / 2;
}

void push_channel::pump()
{
    // Not re-entered: a history read may answer at once, and a write may close the channel.
    if (pumping_)
        return;
    pumping_ = true;
    while (!replays_.empty() && !closing() && has_room()) {
        auto& r = *replays_.front();
        if (!r.page.empty()) {
            auto const m = std::move(r.page.front());
            r.page.pop_front();
            page_bytes_ -= m->envelope()->size();
            r.next = m->offset() + 1;
            write_message(m);
            continue;
        }
        if (r.next > r.last) {
            replays_.erase(replays_.begin());
            continue;
        }
        if (reading_page_)
            break;
        read_page(r);
    }
    pumping_ = false;
    if (replays_.empty() && replays_.capacity() != 0)
        replays_.shrink_to_fit();  // an idle connection keeps nothing
}

void push_channel::read_page(replay_state& r)
{
    // One page at a time, no larger than what the pages' half of the budget has left (a message at least).
    std::size_t const half = services_.options.max_queue_bytes / 2;
    std::size_t const room = half > page_bytes_ ? half - page_bytes_ : 1;
    reading_page_ = true;
    r.awaiting = ++page_reads_;
    services_.backplane.history(r.topic, position{r.next - 1, r.epoch}, room,
                           [self = self(), topic = r.topic, request = r.awaiting](boost::system::error_code ec,
                                                                                  history_result page) {
                               self->reading_page_ = false;
                               self->on_page(topic, request, ec, std::move(page));
                           });
}

void push_channel::on_page(std::string const& topic, std::uint64_t request, boost::system::error_code ec,
                           history_result page)
{
    if (closing())
        return;
    auto* r = find_replay(topic);
    // Still wanted as asked (the client may have unsubscribed, or asked again, meanwhile).
    if (r && r->awaiting == request) {
        r->awaiting = 0;
        auto const& got = page.messages;
        if (ec || !page.recovered || got.empty() || got.front()->epoch() != r->epoch || got.front()->offset() != r->next)
            return close(disconnect::stream_gap());  // history no longer holds what the replay promised
        for (auto const& m : got) {
            if (m->offset() > r->last || m->offset() != r->next + r->page.size())
                break;
            add_to_page(*r, m);
        }
    }
    pump();  // an answer that came later carries on; one that came at once returns to pump()'s loop
}

void push_channel::enqueue_control(shared_bytes bytes)
{
    if (shut_down_)
        return;
    queue_.force_push(std::move(bytes));
    services_.flusher.schedule(self());
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
        services_.metrics.bytes_out += static_cast<std::size_t>(n);
        last_output_ = services_.keepalive.now();
        if (!replays_.empty())
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
                                 self->services_.metrics.bytes_out += written;
                                 self->last_output_ = self->services_.keepalive.now();
                                 self->on_tls_written(ec);
                             });
    if (!replays_.empty())
        pump();
}

void push_channel::on_tls_written(boost::system::error_code)
{
    if (!replays_.empty())
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
    services_.keepalive.watch(std::static_pointer_cast<ticking>(self()));
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
    last_input_ = services_.keepalive.now();
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
        services_.closed(*this, ec == boost::asio::error::eof ? disconnect::normal() : disconnect::write_failed());
    }
    queue_.clear();
    drop_replays();
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
    drop_replays();  // nothing more of them is sent
    services_.closed(*this, reason);
    queue_farewell(reason);
    linger_ = std::make_unique<boost::asio::steady_timer>(services_.executor, services_.options.close_timeout);
    linger_->async_wait([self = self()](boost::system::error_code ec) {
        if (!ec)
            self->lost(boost::asio::error::timed_out);
    });
    services_.flusher.schedule(self());
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
