#include "write_path/push_channel.hpp"

#include <switchboard/topic.hpp>

#include <boost/asio/socket_base.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace switchboard::detail {
namespace {

// Ticks without input before a stream rests (channel_io::rest): two, so that a client sending now and then does
// not move its socket in and out of Asio for each input.
constexpr std::uint64_t rest_after_ticks = 2;

void set_socket_options(connection_stream& stream, channel_services const& services)
{
    boost::system::error_code ec;
    auto& socket = stream.socket();
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (services.options.socket_send_buffer > 0)
        socket.set_option(boost::asio::socket_base::send_buffer_size(static_cast<int>(services.options.socket_send_buffer)),
                          ec);
}

}  // namespace

push_channel::push_channel(connection_stream stream, connection_slot slot, channel_services& services,
                           packed_address remote_address)
    : channel(std::move(remote_address)),
      services_(services),
      slot_(std::move(slot)),
      last_input_(stamp(services.keepalive.now())),
      last_output_(stamp(services.keepalive.now()))
{
    set_socket_options(stream, services);
    io_owner& owner = *this;  // a private base: the io's constructors cannot see it
    if (stream.is_tls()) {
        new (&io_.other) std::unique_ptr<channel_io>(
            std::make_unique<tls_io>(tls_io::stream_type(std::move(stream.tls())), owner));
        return;
    }
    new (&io_.plain) plain_io(stream.take_socket(), owner);
    plain_ = true;
}

push_channel::push_channel(io_factory const& make, channel_services& services, packed_address remote_address)
    : channel(std::move(remote_address)),
      services_(services),
      last_input_(stamp(services.keepalive.now())),
      last_output_(stamp(services.keepalive.now()))
{
    new (&io_.other) std::unique_ptr<channel_io>(make(*this));
}

push_channel::~push_channel()
{
    if (plain_)
        io_.plain.~plain_io();
    else
        io_.other.~unique_ptr();
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

push_channel::replay_book& push_channel::book()
{
    if (!book_)
        book_ = std::make_unique<replay_book>();
    return *book_;
}

void push_channel::drop_replays()
{
    // Emptied, not freed: a pump() or a replay's step may be on the stack (a write that found the client too
    // slow); the next quiet tick frees it. A close's linger stays: it ends the close.
    if (book_) {
        auto linger = std::move(book_->linger);
        *book_ = replay_book{};
        book_->linger = std::move(linger);
    }
}

delivery_status push_channel::deliver(message_ptr const& m)
{
    if (closing())
        return delivery_status::closing;
    if (book_) {
        auto& b = *book_;
        if (b.holding) {
            b.held_bytes += m->envelope()->size();
            if (b.held.size() >= services_.options.max_queue_messages ||
                b.held_bytes > services_.options.max_queue_bytes) {
                too_slow();
                return delivery_status::slow_consumer;
            }
            b.held.push_back(m);
            return delivery_status::queued;
        }
        if (auto* r = find_replay(m->topic()))
            return follow_replay(*r, m);
        if (!b.pattern_replays.empty())
            if (auto* p = replaying(*m))
                return follow_pattern_replay(*p, m);
    }
    write_message(m);
    // write_message queues through enqueue(), which closes the channel as a slow consumer past its bounds.
    return closing() ? delivery_status::slow_consumer : delivery_status::queued;
}

delivery_status push_channel::deliver_presence(presence_event_ptr const& e)
{
    if (closing())
        return delivery_status::closing;
    write_presence(e);
    return closing() ? delivery_status::slow_consumer : delivery_status::queued;
}

push_channel::replay_state* push_channel::find_replay(std::string_view topic)
{
    if (!book_)
        return nullptr;
    for (auto& r : book_->replays)
        if (r->topic == topic)
            return r.get();
    return nullptr;
}

void push_channel::add_to_page(replay_state& r, message_ptr const& m)
{
    r.page.push_back(m);
    book_->page_bytes += m->envelope()->size();
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
    return (book_ ? book_->page_bytes : 0) + m.envelope()->size() <= services_.options.max_queue_bytes / 2;
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
            book_->page_bytes -= m->envelope()->size();
        r->page.clear();
        if (r->epoch == first.front()->epoch())
            last = std::max(last, r->last);
    } else {
        r = book().replays.emplace_back(std::make_unique<replay_state>()).get();
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
    if (!book_)
        return;
    auto it = std::find_if(book_->replays.begin(), book_->replays.end(), [&](auto const& r) { return r->topic == topic; });
    if (it == book_->replays.end())
        return;
    for (auto const& m : (*it)->page)
        book_->page_bytes -= m->envelope()->size();
    book_->replays.erase(it);
}

void push_channel::release()
{
    if (!book_ || book_->holding == 0 || --book_->holding != 0)
        return;
    std::vector<message_ptr> waited = std::move(book_->held);
    book_->held.clear();
    book_->held_bytes = 0;
    for (auto const& m : waited)
        deliver(m);
    pump();
}

std::size_t push_channel::page_room() const noexcept
{
    // One page at a time, no larger than what the pages' half of the budget has left (a message at least).
    std::size_t const half = services_.options.max_queue_bytes / 2;
    std::size_t const used = book_ ? book_->page_bytes : 0;
    return half > used ? half - used : 1;
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
    if (pumping_ || !book_)
        return;
    pumping_ = true;
    while (!closing() && has_room()) {
        if (book_->replays.empty()) {
            if (!pump_pattern())
                break;
            continue;
        }
        auto& r = *book_->replays.front();
        if (!r.page.empty()) {
            auto const m = std::move(r.page.front());
            r.page.pop_front();
            book_->page_bytes -= m->envelope()->size();
            r.next = m->offset() + 1;
            write_message(m);
            continue;
        }
        if (r.next > r.last) {
            book_->replays.erase(book_->replays.begin());
            continue;
        }
        if (reading_page_)
            break;
        read_page(r);
    }
    pumping_ = false;
    if (book_->pattern_replays.empty())
        book_->pattern_sent = {};
    if (book_->empty() && !reading_page_)
        book_.reset();  // every caller of pump() is done with the book when it returns
}

void push_channel::replay_pattern(std::string const& pattern, position const& since, pattern_history_result const& first)
{
    if (closing())
        return;
    // Nothing to replay: no position asked, one from another epoch (recovered:false says so), nothing after it.
    if (first.latest.epoch.empty() || (!since.epoch.empty() && since.epoch != first.latest.epoch) ||
        since.offset >= first.latest.offset)
        return pattern_started(pattern, first.latest.offset);
    auto* p = find_pattern_replay(pattern);
    if (p) {
        for (auto const& m : p->page)
            book_->page_bytes -= m->envelope()->size();
        p->page.clear();
    } else {
        p = book().pattern_replays.emplace_back(std::make_unique<pattern_replay_state>()).get();
        p->pattern = pattern;
    }
    pattern_started(pattern, since.offset);
    p->awaiting = 0;
    p->epoch = first.latest.epoch;
    p->read_to = since.offset;
    p->last = first.latest.offset;
    p->started_at = p->last;
    add_pattern_page(*p, first);
    pump();
}

void push_channel::pattern_started(std::string const& pattern, std::uint64_t from)
{
    auto& starts = book().pattern_starts;
    for (auto& s : starts)
        if (s.pattern == pattern) {
            s.from = from;
            return;
        }
    starts.push_back({pattern, from});
}

bool push_channel::brought_by_another(std::string_view pattern, message const& m) const
{
    if (!book_)
        return false;
    for (auto const& s : book_->pattern_starts)
        if (s.pattern != pattern && s.from < m.sequence() && pattern_matches(s.pattern, m.topic()) &&
            !replaying_pattern(s.pattern))
            return true;
    return false;
}

void push_channel::forget_pattern_replay(std::string_view pattern)
{
    if (!book_)
        return;
    std::erase_if(book_->pattern_starts, [&](pattern_start const& s) { return s.pattern == pattern; });
    auto it = std::find_if(book_->pattern_replays.begin(), book_->pattern_replays.end(),
                           [&](auto const& p) { return p->pattern == pattern; });
    if (it == book_->pattern_replays.end())
        return;
    for (auto const& m : (*it)->page)
        book_->page_bytes -= m->envelope()->size();
    book_->pattern_replays.erase(it);
}

bool push_channel::replaying_pattern(std::string_view pattern) const noexcept
{
    return book_ && std::any_of(book_->pattern_replays.begin(), book_->pattern_replays.end(),
                       [&](auto const& p) { return p->pattern == pattern; });
}

void push_channel::pattern_replayed(std::string const&, position const&) {}

push_channel::pattern_replay_state* push_channel::find_pattern_replay(std::string_view pattern)
{
    if (!book_)
        return nullptr;
    for (auto& p : book_->pattern_replays)
        if (p->pattern == pattern)
            return p.get();
    return nullptr;
}

push_channel::pattern_replay_state* push_channel::replaying(message const& m)
{
    // Live when the channel holds the topic by name. Otherwise through the first replay that matches it, even
    // when a pattern not replaying matches it too: so every message a replaying pattern matches reaches the
    // client through its replay, in its order, and the client's position in it moves with them.
    for (auto& p : book_->pattern_replays)
        if (pattern_matches(p->pattern, m.topic()))
            return services_.hub.subscribed(*this, m.topic()) ? nullptr : p.get();
    return nullptr;
}

delivery_status push_channel::follow_pattern_replay(pattern_replay_state& p, message_ptr const& m)
{
    if (m->sequence() == 0) {  // a backplane without sequences: nothing to order it by
        write_message(m);
        return closing() ? delivery_status::slow_consumer : delivery_status::queued;
    }
    if (m->sequence() <= p.last)
        return delivery_status::queued;  // the replay has it already, or history gives it in turn
    // Kept when the replay has read everything before it (history may keep nothing of its topic), as long as
    // pages fit their half of the budget; otherwise history gives it back when the replay gets there.
    bool const read_all = p.read_to == p.last && p.awaiting == 0;
    p.last = m->sequence();
    if (read_all && fits_in_pages(*m)) {
        p.page.push_back(m);
        book_->page_bytes += m->envelope()->size();
        p.read_to = p.last;
    }
    return delivery_status::queued;
}

void push_channel::add_pattern_page(pattern_replay_state& p, pattern_history_result const& page)
{
    // Read up to the page's last message when it is a page only, else up to the sequence it was read at; never
    // past `last`: later messages come live.
    std::uint64_t to = page.more && !page.messages.empty() ? page.messages.back()->sequence() : page.latest.offset;
    to = std::min(to, p.last);
    for (auto const& m : page.messages) {
        if (m->sequence() <= p.read_to)
            continue;
        if (m->sequence() > to)
            break;
        if (!p.page.empty() && !fits_in_pages(*m)) {
            to = p.page.back()->sequence();
            break;
        }
        // A topic the channel holds exactly resumes from its own position; a message from before the replay
        // started may have come already through another pattern.
        if (services_.hub.subscribed(*this, m->topic()) ||
            (m->sequence() <= p.started_at && brought_by_another(p.pattern, *m)))
            continue;
        p.page.push_back(m);
        book_->page_bytes += m->envelope()->size();
    }
    p.read_to = std::max(p.read_to, to);
}

bool push_channel::pump_pattern()
{
    if (!book_ || book_->pattern_replays.empty())
        return false;
    auto& p = *book_->pattern_replays.front();
    if (!p.page.empty()) {
        auto const m = std::move(p.page.front());
        p.page.pop_front();
        book_->page_bytes -= m->envelope()->size();
        write_replayed(p.pattern, m);
        return true;
    }
    if (p.read_to >= p.last) {
        auto const done = std::move(book_->pattern_replays.front());
        book_->pattern_replays.erase(book_->pattern_replays.begin());
        pattern_replayed(done->pattern, position{done->last, done->epoch});
        return true;
    }
    if (reading_page_)
        return false;
    read_pattern_page(p);
    return true;
}

void push_channel::write_replayed(std::string const& pattern, message_ptr const& m)
{
    auto [it, first] = book_->pattern_sent.try_emplace(m->topic(), m->where());
    if (!first) {
        if (it->second.epoch == m->epoch() && it->second.offset >= m->offset())
            return;  // another pattern's replay sent it
        it->second = m->where();
    }
    write_replayed_message(pattern, m);
}

void push_channel::write_replayed_message(std::string const&, message_ptr const& m)
{
    write_message(m);
}

void push_channel::read_pattern_page(pattern_replay_state& p)
{
    reading_page_ = true;
    p.awaiting = ++book_->page_reads;
    services_.backplane.pattern_history(
        p.pattern, position{p.read_to, p.epoch}, page_room(), services_.options.max_resume_topics,
        [self = self(), pattern = p.pattern, request = p.awaiting](boost::system::error_code ec,
                                                                   pattern_history_result page) {
            self->reading_page_ = false;
            self->on_pattern_page(pattern, request, ec, std::move(page));
        });
}

void push_channel::on_pattern_page(std::string const& pattern, std::uint64_t request, boost::system::error_code ec,
                                   pattern_history_result page)
{
    if (closing())
        return;
    auto* p = find_pattern_replay(pattern);
    if (p && p->awaiting == request) {
        p->awaiting = 0;
        if (ec || !page.recovered || page.latest.epoch != p->epoch)
            return close(disconnect::stream_gap());  // history no longer holds what the replay promised
        add_pattern_page(*p, page);
    }
    pump();
}

void push_channel::read_page(replay_state& r)
{
    reading_page_ = true;
    r.awaiting = ++book_->page_reads;
    services_.backplane.history(r.topic, position{r.next - 1, r.epoch}, page_room(),
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
        if (ec || !page.recovered || got.empty() || got.front()->epoch() != r->epoch ||
            got.front()->offset() != r->next)
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

plain_io_loop const& push_channel::plain_loop() const noexcept
{
    return services_.plain_loop;
}

bool push_channel::send_head(http_response const& head)
{
    return with_io([&](auto& io) { return io.send_head(head); });
}

std::shared_ptr<io_owner> push_channel::keep()
{
    // io_owner is a private base: std::shared_ptr's conversion cannot see it, the aliasing constructor can.
    return {self(), static_cast<io_owner*>(this)};
}

void push_channel::flush()
{
    with_io([](auto& io) { io.flush(); });
}

void push_channel::sent(std::size_t bytes)
{
    services_.metrics.bytes_out += bytes;
    last_output_ = stamp(services_.keepalive.now());
}

void push_channel::made_room()
{
    if (book_ && (!book_->replays.empty() || !book_->pattern_replays.empty()))
        pump();
}

void push_channel::drained()
{
    if (closing()) {
        if (!shut_down_)
            finish_close();
        return;
    }
    if (!expects_input())
        with_io([](auto& io) { io.rest(); });
}

void push_channel::start_reading()
{
    // Ticked from now on: through the registry when open() accepted it (keepalive.hpp), else on its own.
    ticks_ = true;
    if (services_.channels.contains(*this))
        services_.keepalive.wake();
    else
        services_.keepalive.watch(std::static_pointer_cast<ticking>(self()));
    with_io([](auto& io) { io.start_reading(); });
}

bool push_channel::on_tick(std::uint64_t now)
{
    if (!ticks_)
        return true;  // registered, not started yet: nothing is owed before its head is out
    if (closing())
        return false;
    auto const idle_in = ticks_since(last_input_, now);
    keepalive_tick(now, idle_in, ticks_since(last_output_, now));
    // Sending needs no read wait: a stream that only receives rests between its messages.
    if (idle_in >= rest_after_ticks && !closing())
        with_io([](auto& io) { io.rest(); });
    if (book_ && book_->empty() && !pumping_ && !reading_page_)
        book_.reset();
    return !closing();
}

void push_channel::received(std::string_view bytes)
{
    last_input_ = stamp(services_.keepalive.now());
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
    if (book_ && book_->linger)
        book_->linger->cancel();
    with_io([](auto& io) { io.close(); });
}

void push_channel::queue_farewell(disconnect const&) {}

void push_channel::close(disconnect const& reason)
{
    if (!begin_closing())
        return;
    drop_replays();  // nothing more of them is sent
    services_.closed(*this, reason);
    queue_farewell(reason);
    auto& linger = book().linger;
    linger = std::make_unique<boost::asio::steady_timer>(services_.executor, services_.options.close_timeout);
    linger->async_wait([self = self()](boost::system::error_code ec) {
        if (!ec)
            self->lost(boost::asio::error::timed_out);
    });
    services_.flusher.schedule(self());
}

void push_channel::finish_close()
{
    // Everything is sent: half-close, and let the read side see the peer's end (or the linger timer) before the
    // socket is closed, so the peer is not reset while our last bytes are in flight.
    shut_down_ = true;
    with_io([](auto& io) { io.shut_down(); });
}

}  // namespace switchboard::detail
