#include "backplanes/nats/jetstream_backplane.hpp"

#include "core/epoch.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace switchboard::nats {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

// JetStream's error code for a failed Nats-Expected-Last-Subject-Sequence check ("wrong last sequence: N").
constexpr int wrong_last_sequence = 10071;
constexpr int stream_not_found = 10059;

/// A JetStream API answer as JSON, or null when it is not JSON.
json api_answer(natsMsg* m)
{
    auto j = json::parse(msg_data(m), nullptr, false);
    return j.is_discarded() ? json() : j;
}

int api_error_code(json const& answer)
{
    if (!answer.is_object() || !answer.contains("error"))
        return 0;
    return answer["error"].value("err_code", -1);
}

}  // namespace

jetstream_backplane::jetstream_backplane(asio::any_io_executor ex, link_options link, jetstream_options options,
                               history_options history)
    : ex_(ex),
      link_(ex, std::move(link)),
      options_(std::move(options)),
      history_(std::move(history)),
      names_(options_.prefix),
      stream_(options_.stream.empty() ? names_.stream_name() : options_.stream),
      reader_(ex, link_, names_, stream_),
      pattern_reader_(ex, link_, names_, stream_),
      stream_retry_(ex),
      catch_up_retry_(ex),
      random_(std::random_device{}())
{
    recent_.limit = options_.recent_bytes;
    link_.start([this](bool up) { on_link(up); });
}

jetstream_backplane::~jetstream_backplane()
{
    close();
}

// ---- the stream ----

void jetstream_backplane::on_link(bool up)
{
    if (closed_)
        return;
    if (!up) {
        stream_ready_ = false;
    } else {
        // Every time: the server may have come back without its store (then the stream is made again).
        ensure_stream();
    }
    if (link_observer_)
        link_observer_(up);
}

void jetstream_backplane::ensure_stream()
{
    if (stream_busy_ || closed_)
        return;
    stream_busy_ = true;
    link_.request("$JS.API.STREAM.INFO." + stream_, "", {}, [this](boost::system::error_code ec, natsMsg* m) {
        if (closed_)
            return;
        stream_busy_ = false;
        if (ec) {
            spdlog::error("nats: stream {}: {}", stream_, ec.message());
            return retry_stream_later();
        }
        auto const info = api_answer(m);
        auto const want = stream_config(names_, stream_, options_, history_);
        char const* verb = nullptr;
        if (api_error_code(info) == stream_not_found) {
            verb = "CREATE";
        } else if (info.is_object() && info.contains("config")) {
            auto const difference = stream_difference(info["config"], want);
            if (difference.empty())
                return on_stream_ready();
            if (difference != "update") {
                spdlog::error("nats: stream {} cannot be used: {}", stream_, difference);
                return retry_stream_later();
            }
            verb = "UPDATE";
        } else {
            spdlog::error("nats: stream {}: unexpected answer {}", stream_, msg_data(m));
            return retry_stream_later();
        }
        if (!options_.manage_stream) {
            spdlog::error("nats: stream {} is {} and nats.manage_stream is off", stream_,
                          std::string_view(verb) == "CREATE" ? "missing" : "configured otherwise");
            return retry_stream_later();
        }
        stream_busy_ = true;
        link_.request("$JS.API.STREAM." + std::string(verb) + "." + stream_, want.dump(), {},
                      [this, verb](boost::system::error_code ec, natsMsg* m) {
                          if (closed_)
                              return;
                          stream_busy_ = false;
                          auto const answer = ec ? json() : api_answer(m);
                          if (ec || !answer.is_object() || answer.contains("error")) {
                              spdlog::error("nats: stream {} {} failed: {}", stream_, verb,
                                            ec ? ec.message() : std::string(msg_data(m)));
                              return retry_stream_later();
                          }
                          spdlog::info("nats: stream {} {}", stream_, std::string_view(verb) == "CREATE" ? "created" : "updated");
                          on_stream_ready();
                      });
    });
}

void jetstream_backplane::retry_stream_later()
{
    stream_retry_.expires_after(options_.stream_retry);
    stream_check_again_ = false;  // the retry checks against the options of its time
    stream_retry_.async_wait([this](boost::system::error_code ec) {
        if (!ec && link_.connected())
            ensure_stream();
    });
}

void jetstream_backplane::on_stream_ready()
{
    bool const was_ready = stream_ready_;
    stream_ready_ = true;
    if (std::exchange(stream_check_again_, false))
        ensure_stream();  // checked against history options that have changed since
    if (was_ready)
        return;
    // Back (or first up): read what every subscribed topic missed while this node was not listening.
    for (auto& [name, t] : topics_)
        if ((t.wanted || t.by_pattern) && t.last && (!t.catching_up || t.catch_up_failed))
            catch_up(name, t);
    if (!std::exchange(ever_ready_, true))
        return;
    // A topic a pattern brings that this node never saw may have had messages meanwhile, which only resuming
    // patterns could find: the patterns' subscribers are told.
    std::vector<std::string> patterns;
    for (auto const& [p, id] : patterns_)
        patterns.push_back(p);
    for (auto const& p : patterns) {
        spdlog::warn("nats: pattern {} was not followed for a while; telling its subscribers", p);
        if (gap_)
            gap_(p);
    }
}

void jetstream_backplane::set_history(history_options history)
{
    history_ = std::move(history);
    // Publishes go on meanwhile: the stream is updated to the new limits in the background (its count is the
    // largest of any rule), and each topic's own limits apply when it is read, at once.
    if (stream_busy_)
        stream_check_again_ = true;
    else if (stream_ready_)
        ensure_stream();
}

// ---- reading ----

void jetstream_backplane::history(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                                  history_handler done)
{
    if (closed_ || !connected()) {
        asio::post(ex_, [alive = std::weak_ptr<bool>(alive_), done = std::move(done), closed = closed_] {
            if (!alive.expired())
                done(make_error_code(closed ? nats_error::closed : nats_error::not_connected), {});
        });
        return;
    }
    if (auto* t = following(topic); since && t && t->subscription != 0 && t->last && !t->catching_up) {
        // From what this node delivered last, when it has all of it: no request to JetStream.
        auto const oldest = std::chrono::steady_clock::now() - history_.limits_for(topic).max_age;
        if (auto r = t->recent.after(*since, *t->last, max_bytes, oldest))
            return done({}, std::move(*r));
    }
    // No wait for the subscription: SUB and this request leave on the same connection in that order, so the
    // server has the subscription before it reads; anything stored after the read reaches this node live.
    read(topic, since, max_bytes, 0, std::move(done));
}

void jetstream_backplane::read(std::string const& topic, std::optional<position> const& since, std::size_t max_bytes,
                               int marks, history_handler done)
{
    reader_.after(topic, since, history_.limits_for(topic), max_bytes, [this, topic, since, max_bytes, marks,
                                                                        done = std::move(done)](
                                                                           boost::system::error_code ec,
                                                                           history_result r) mutable {
        if (ec || closed_)
            return done(ec ? ec : make_error_code(nats_error::closed), {});
        if (r.latest.offset == 0 && r.latest.epoch.empty() && marks < 2) {
            // A topic without a message: give it its epoch now, so that a subscriber starting from here holds a
            // position the topic's first publish continues (what it resumes from names that epoch).
            return mark(topic, [this, topic, since, max_bytes, marks, r = std::move(r),
                                done = std::move(done)](boost::system::error_code ec, position where) mutable {
                if (ec)
                    return done(ec, {});
                if (where.offset != 0)  // another node published first: read again, with its messages
                    return read(topic, since, max_bytes, marks + 1, std::move(done));
                r.latest = std::move(where);
                if (auto* t = following(topic); t && !t->last)
                    t->last = r.latest;
                done({}, std::move(r));
            });
        }
        // The node's stream of a topic it just subscribed to starts at the first position it reads.
        if (auto* t = following(topic); t && !t->last)
            t->last = r.latest;
        done({}, std::move(r));
    });
}

void jetstream_backplane::pattern_history(std::string const& pattern, std::optional<position> const& since,
                                          std::size_t max_bytes, std::size_t max_topics,
                                          backplane::pattern_history_handler done)
{
    if (closed_ || !connected()) {
        asio::post(ex_, [alive = std::weak_ptr<bool>(alive_), done = std::move(done), closed = closed_] {
            if (!alive.expired())
                done(make_error_code(closed ? nats_error::closed : nats_error::not_connected), {});
        });
        return;
    }
    pattern_reader_.read(pattern, since, max_bytes, max_topics, history_, std::move(done));
}

void jetstream_backplane::mark(std::string const& topic, publish_handler done)
{
    ++pending_publishes_;
    auto& t = topics_[topic];
    t.queue.push_back({{}, std::move(done), 0, true, {}});
    if (!t.publishing)
        pump(topic);
}

// ---- publishing ----

void jetstream_backplane::publish(std::string topic, std::string data, std::string idempotency_key,
                                  publish_handler done)
{
    auto fail = [this, &done](boost::system::error_code ec) {
        asio::post(ex_, [alive = std::weak_ptr<bool>(alive_), done = std::move(done), ec] {
            if (!alive.expired())
                done(ec, {});
        });
    };
    if (closed_)
        return fail(make_error_code(nats_error::closed));
    if (!connected())
        return fail(make_error_code(nats_error::not_connected));
    if (pending_publishes_ >= options_.max_pending_publishes)
        return fail(make_error_code(nats_error::overloaded));
    ++pending_publishes_;
    auto& t = topics_[topic];
    t.queue.push_back({std::move(data), std::move(done), 0, false,
                       history_.idempotency_window.count() > 0 ? std::move(idempotency_key) : std::string()});
    if (!t.publishing)
        pump(topic);
}

void jetstream_backplane::pump(std::string const& topic)
{
    auto it = topics_.find(topic);
    if (it == topics_.end())
        return;
    auto& t = it->second;
    if (t.queue.empty()) {
        t.publishing = false;
        return forget_if_idle(topic);
    }
    t.publishing = true;
    if (t.last_known)
        return send(topic);
    reader_.last(topic, [this, topic](boost::system::error_code ec, std::optional<stream_record> last) {
        auto it = topics_.find(topic);
        if (it == topics_.end())
            return;
        if (ec)
            return finish(topic, ec, {});
        if (!it->second.last_known)
            it->second.last_known = last ? tip{last->last_offset(), last->epoch, last->seq} : tip{};
        send(topic);
    });
}

std::size_t jetstream_backplane::record_size(std::deque<publish_job> const& queue) const
{
    // A marker or a keyed publish goes alone: a marker is no message, and a key names one message's position.
    if (queue.front().marker || !queue.front().idempotency_key.empty())
        return 1;
    // Bounded below what NATS and the stream take, with room for the headers (the sizes are up to ~3 KB).
    std::size_t limit = max_record_bytes;
    if (auto const payload = link_.max_payload(); payload > 0)
        limit = std::min(limit, payload / 2);
    if (options_.max_message_size > 0)
        limit = std::min(limit, static_cast<std::size_t>(options_.max_message_size) / 2);
    std::size_t count = 0;
    std::size_t bytes = 0;
    for (auto const& job : queue) {
        if (job.marker || !job.idempotency_key.empty() || count == max_record_messages ||
            (count > 0 && bytes + job.data.size() > limit))
            break;
        bytes += job.data.size();
        ++count;
    }
    return count;
}

void jetstream_backplane::send(std::string const& topic)
{
    auto& t = topics_[topic];
    auto const base = *t.last_known;
    auto const& front = t.queue.front();
    if (front.marker && base.seq != 0)
        return finish(topic, {}, position{base.offset, base.epoch});  // the topic has its epoch already
    // An empty topic (never published, or everything in it expired or purged) starts a new epoch: with its
    // marker (offset 0), or with its first message.
    position const next = front.marker ? position{0, detail::random_epoch(random_)}
                          : base.seq == 0 ? position{1, detail::random_epoch(random_)}
                                          : position{base.offset + 1, base.epoch};
    std::vector<header> headers{{expected_header, std::to_string(base.seq)},
                                {offset_header, std::to_string(next.offset)},
                                {epoch_header, next.epoch}};
    if (auto const& key = front.idempotency_key; !key.empty())
        headers.push_back({msg_id_header, topic + ' ' + key});  // a topic has no space: one id per topic and key
    // Every publish queued behind the last one goes in this record: one acknowledgement, one live message, and
    // one fan-out turn for all of them on every node.
    auto const count = record_size(t.queue);
    std::string body;
    if (count > 1) {
        std::vector<std::string_view> payloads;
        payloads.reserve(count);
        for (std::size_t i = 0; i < count; ++i)
            payloads.push_back(t.queue[i].data);
        std::string sizes;
        body = join_payloads(payloads, sizes);
        headers.push_back({sizes_header, std::move(sizes)});
    }
    link_.request(names_.stored(topic), count > 1 ? std::string_view(body) : std::string_view(front.data), headers,
                  [this, topic, next, count](boost::system::error_code ec, natsMsg* m) {
                      auto it = topics_.find(topic);
                      if (it == topics_.end())
                          return;
                      auto& t = it->second;
                      if (ec) {
                          // Timed out or cut off: it may have been stored. Either way the next one reads the tip.
                          t.last_known.reset();
                          if (ec == nats_error::no_responders)
                              ensure_stream();  // no stream takes the subject: the server lost it
                          return finish(topic, ec, {}, count);
                      }
                      auto const ack = api_answer(m);
                      if (auto const code = api_error_code(ack); code != 0) {
                          t.last_known.reset();
                          if (code == wrong_last_sequence && ++t.queue.front().conflicts <= options_.max_conflicts)
                              return retry_after_conflict(topic, t.queue.front().conflicts);
                          spdlog::warn("nats: publish to {} refused: {}", topic, msg_data(m));
                          return finish(topic,
                                        make_error_code(code == wrong_last_sequence ? nats_error::conflict
                                                                                   : nats_error::api_error),
                                        {}, count);
                      }
                      if (!ack.is_object() || !ack.contains("seq"))
                          return finish(topic, make_error_code(nats_error::bad_reply), {}, count);
                      if (ack.value("duplicate", false))  // nothing stored: the tip this node knows still holds
                          return finish_duplicate(topic, ack["seq"].get<std::uint64_t>());
                      learn(t, next.offset + count - 1, next.epoch, ack["seq"].get<std::uint64_t>());
                      finish(topic, {}, next, count);
                  });
}

// Another node published first: read its message and try again. Straight back into the race, a node slower than
// the others (a busy machine, a sanitizer build) can lose it every time while they publish back to back, and fail
// after max_conflicts; a random wait that grows with each loss (up to 64 ms) spreads the contenders out.
void jetstream_backplane::retry_after_conflict(std::string const& topic, int conflicts)
{
    if (conflicts <= 1)
        return pump(topic);
    auto const longest = 1 << std::min(conflicts - 1, 6);  // 2, 4, ... 64 ms
    auto const wait = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, longest)(random_));
    auto timer = std::make_shared<asio::steady_timer>(ex_, wait);
    timer->async_wait([this, timer, topic, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
        if (!ec && !alive.expired() && !closed_)
            pump(topic);
    });
}

void jetstream_backplane::finish(std::string const& topic, boost::system::error_code ec, position where,
                                 std::size_t count)
{
    for (std::size_t i = 0; i < count; ++i) {
        // Each answer may publish or close: the topic is looked up again each time.
        auto it = topics_.find(topic);
        if (it == topics_.end() || it->second.queue.empty())
            return;
        auto job = std::move(it->second.queue.front());
        it->second.queue.pop_front();
        --pending_publishes_;
        job.done(ec, ec ? position{} : position{where.offset + i, where.epoch});
    }
    pump(topic);
}

void jetstream_backplane::finish_duplicate(std::string const& topic, std::uint64_t seq)
{
    reader_.at(seq, [this, topic](boost::system::error_code ec, std::optional<stream_record> first) {
        if (!topics_.contains(topic))
            return;
        if (ec)
            return finish(topic, ec, {});
        // Gone already (trimmed by the stream's limits): the first publish's position cannot be told. Failing
        // says so, rather than publishing again within the window: a retry gets the same answer.
        if (!first || first->offset == 0)
            return finish(topic, make_error_code(nats_error::bad_reply), {});
        finish(topic, {}, position{first->offset, first->epoch});
    });
}

void jetstream_backplane::learn(topic_state& t, std::uint64_t offset, std::string const& epoch, std::uint64_t seq)
{
    if (!t.last_known || seq > t.last_known->seq)
        t.last_known = tip{offset, epoch, seq};
}

// ---- live delivery ----

void jetstream_backplane::subscribe(std::string const& topic)
{
    auto& t = topics_[topic];
    t.wanted = true;
    if (t.subscription == 0) {
        t.subscription = link_.subscribe(names_.live(topic), [this, topic](natsMsg* m) { on_live(topic, m); });
        t.recent.keep(detail::recent_messages::per_topic(history_.limits_for(topic)), recent_);  // see unsubscribe
    }
}

void jetstream_backplane::unsubscribe(std::string const& topic)
{
    auto it = topics_.find(topic);
    if (it == topics_.end())
        return;
    auto& t = it->second;
    t.wanted = false;
    link_.unsubscribe(t.subscription);
    t.subscription = 0;
    t.recent.keep(0, recent_);  // only a subscription of its own reads them
    if (t.by_pattern)
        return;  // its stream goes on through the pattern, in the same order
    restart(t);
    forget_if_idle(topic);
}

void jetstream_backplane::forget_if_idle(std::string const& topic)
{
    // The tip goes too: a topic this node neither publishes nor follows would only hold memory.
    auto it = topics_.find(topic);
    if (it != topics_.end() && !it->second.wanted && !it->second.by_pattern && !it->second.publishing &&
        it->second.queue.empty())
        topics_.erase(it);
}

// ---- patterns ----

void jetstream_backplane::subscribe_pattern(std::string const& pattern)
{
    if (patterns_.contains(pattern))
        return;
    patterns_[pattern] = link_.subscribe(names_.live_pattern(pattern), [this](natsMsg* m) { on_pattern_live(m); });
}

void jetstream_backplane::unsubscribe_pattern(std::string const& pattern)
{
    auto it = patterns_.find(pattern);
    if (it == patterns_.end())
        return;
    link_.unsubscribe(it->second);
    patterns_.erase(it);
    if (!patterns_.empty())
        return;  // topics only this pattern brought stay until they are forgotten (max_pattern_topics)
    // The last one: its topics go, after the current delivery (this may run inside one, for one of them).
    asio::post(ex_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.expired() || closed_)
            return;
        while (patterns_.empty() && !pattern_topics_.empty())
            forget_pattern_topic(pattern_topics_.front());
    });
}

void jetstream_backplane::pattern_ready(std::string const& pattern, std::function<void(boost::system::error_code)> done)
{
    auto it = patterns_.find(pattern);
    if (closed_ || it == patterns_.end() || it->second == 0 || !connected()) {
        asio::post(ex_, [alive = std::weak_ptr<bool>(alive_), done = std::move(done), closed = closed_] {
            if (!alive.expired())
                done(make_error_code(closed ? nats_error::closed : nats_error::not_connected));
        });
        return;
    }
    // The server handles a connection's protocol in order: once it answers a request sent after the SUB, it
    // has the subscription, and whatever is stored from then on reaches this node.
    link_.request("$JS.API.INFO", "", {}, [done = std::move(done)](boost::system::error_code ec, natsMsg*) { done(ec); });
}

void jetstream_backplane::on_pattern_live(natsMsg* m)
{
    auto topic = names_.topic_of(natsMsg_GetSubject(m));
    if (!topic || patterns_.empty())
        return;
    auto r = parse_stored(m);
    if (!r) {
        spdlog::error("nats: malformed message on topic {}", *topic);
        return;
    }
    auto& t = follow(*topic);
    learn(t, r->last_offset(), r->epoch, r->seq);
    // The same stream as the topic's own subscription: a message NATS hands to both (or to two patterns) is
    // delivered once. An epoch marker has no message.
    for (auto const& message : r->messages(*topic)) {
        auto* now = following(*topic);  // delivering may have let the topic go
        if (!now)
            return;
        accept(*topic, *now, message);
    }
}

jetstream_backplane::topic_state& jetstream_backplane::follow(std::string const& topic)
{
    auto it = topics_.find(topic);
    if (it != topics_.end() && it->second.by_pattern) {
        pattern_topics_.splice(pattern_topics_.end(), pattern_topics_, it->second.seen);
        return it->second;
    }
    while (pattern_topics_.size() >= std::max<std::size_t>(options_.max_pattern_topics, 1))
        forget_pattern_topic(pattern_topics_.front());
    auto& t = topics_[topic];  // forgetting may have erased it
    t.by_pattern = true;
    t.seen = pattern_topics_.insert(pattern_topics_.end(), topic);
    return t;
}

void jetstream_backplane::forget_pattern_topic(std::string topic)
{
    auto& t = topics_[topic];
    pattern_topics_.erase(t.seen);
    t.by_pattern = false;
    if (t.wanted)
        return;  // followed for its own subscription still
    bool const missing = t.catching_up;
    restart(t);
    forget_if_idle(topic);
    if (missing) {
        spdlog::warn("nats: topic {} forgotten while reading what it missed (max_pattern_topics)", topic);
        if (gap_)
            gap_(topic);  // what it held is dropped: its subscribers are told
    }
}

std::optional<position> jetstream_backplane::delivered(std::string const& topic) const
{
    auto it = topics_.find(topic);
    return it == topics_.end() ? std::nullopt : it->second.last;
}

std::size_t jetstream_backplane::subscribed_topics() const noexcept
{
    return static_cast<std::size_t>(
        std::count_if(topics_.begin(), topics_.end(), [](auto const& t) { return t.second.subscription != 0; }));
}

void jetstream_backplane::on_live(std::string const& topic, natsMsg* m)
{
    auto it = topics_.find(topic);
    if (it == topics_.end() || !it->second.wanted)
        return;
    auto r = parse_stored(m);
    if (!r) {
        spdlog::error("nats: malformed message on topic {}", topic);
        return;
    }
    learn(it->second, r->last_offset(), r->epoch, r->seq);
    for (auto const& message : r->messages(topic)) {  // none for an epoch marker
        it = topics_.find(topic);  // delivering may have let the topic go
        if (it == topics_.end() || !it->second.wanted)
            return;
        accept(topic, it->second, message);
    }
}

void jetstream_backplane::accept(std::string const& topic, topic_state& t, message_ptr const& m)
{
    if (t.catching_up) {
        if (t.held.size() >= options_.max_held)
            return gap(topic, t, m->where());
        t.held.push_back(m);
        return;
    }
    // {0, ""}: the position of a topic that had no message: any epoch continues it.
    bool const any_epoch = t.last && t.last->offset == 0 && t.last->epoch.empty();
    if (t.last && !any_epoch && m->epoch() != t.last->epoch) {
        spdlog::warn("nats: topic {} changed epoch ({} -> {})", topic, t.last->epoch, m->epoch());
        return gap(topic, t, m->where(), m);
    }
    if (t.last && m->offset() <= t.last->offset)
        return;  // delivered already (from history)
    if (t.last && m->offset() > t.last->offset + 1) {
        t.held.push_back(m);
        return catch_up(topic, t);
    }
    deliver(t, m);
}

void jetstream_backplane::deliver(topic_state& t, message_ptr const& m)
{
    t.last = m->where();
    t.recent.remember(m);
    if (delivery_)
        delivery_(m);
}

void jetstream_backplane::restart(topic_state& t)
{
    t.last.reset();
    t.held.clear();
    t.catching_up = t.catch_up_failed = false;
    t.recent.forget();
}

void jetstream_backplane::catch_up(std::string const& topic, topic_state& t)
{
    t.catching_up = true;
    t.catch_up_failed = false;
    reader_.after(topic, t.last, history_.limits_for(topic), backplane::whole_history, [this, topic](boost::system::error_code ec, history_result r) {
        auto it = topics_.find(topic);
        if (it == topics_.end() || !it->second.catching_up)
            return;
        auto& t = it->second;
        if (ec) {
            t.catch_up_failed = true;  // again when NATS is back, or soon if it still is
            return retry_catch_ups_later();
        }
        if (!r.recovered)
            return gap(topic, t, r.latest);
        for (auto const& m : r.messages) {
            // Delivering may unsubscribe the topic (its last subscriber closed): look it up each time.
            auto* now = following(topic);
            if (!now)
                return;
            if (!now->last || m->offset() > now->last->offset)
                deliver(*now, m);
        }
        if (auto* now = following(topic))
            release_held(topic, *now);
    });
}

void jetstream_backplane::retry_catch_ups_later()
{
    if (catch_up_retry_armed_ || closed_)
        return;
    catch_up_retry_armed_ = true;
    catch_up_retry_.expires_after(options_.stream_retry);
    catch_up_retry_.async_wait([this](boost::system::error_code ec) {
        if (ec)
            return;
        catch_up_retry_armed_ = false;
        if (!connected())
            return;  // on_stream_ready does it when NATS is back
        for (auto& [name, t] : topics_)
            if ((t.wanted || t.by_pattern) && t.catch_up_failed)
                catch_up(name, t);
    });
}

jetstream_backplane::topic_state* jetstream_backplane::following(std::string const& topic)
{
    auto it = topics_.find(topic);
    return it != topics_.end() && (it->second.wanted || it->second.by_pattern) ? &it->second : nullptr;
}

void jetstream_backplane::release_held(std::string const& topic, topic_state& t)
{
    t.catching_up = false;
    auto held = std::move(t.held);
    t.held.clear();
    for (auto const& m : held) {
        auto* now = following(topic);
        if (!now)
            return;
        accept(topic, *now, m);
    }
}

void jetstream_backplane::gap(std::string const& topic, topic_state& t, position now, message_ptr const& next)
{
    t.last = std::move(now);
    t.held.clear();
    t.catching_up = false;
    t.recent.forget();
    if (gap_)
        gap_(topic);  // may unsubscribe the topic: t is not used after this
    if (auto* still = next ? following(topic) : nullptr)
        deliver(*still, next);
}

void jetstream_backplane::close()
{
    if (closed_)
        return;
    closed_ = true;
    stream_retry_.cancel();
    catch_up_retry_.cancel();
    stream_ready_ = false;
    link_.close();  // fails requests in flight with closed (from here): publishes and reads end with them
    // Publishes still queued behind them fail now too: nothing is left to run after close().
    for (auto& [name, t] : topics_)
        for (auto& job : std::exchange(t.queue, {}))
            job.done(make_error_code(nats_error::closed), {});
    topics_.clear();
    pattern_topics_.clear();
    patterns_.clear();
    pending_publishes_ = 0;
}

}  // namespace switchboard::nats
