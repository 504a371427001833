#include "backplanes/nats/history_reader.hpp"

#include "backplanes/nats/stream_config.hpp"

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace switchboard::nats {

using json = nlohmann::json;

struct history_reader::read {
    read(boost::asio::any_io_executor ex) : deadline(ex) {}

    std::string topic;
    position since;
    stream_record latest;        // the topic's last record
    std::uint64_t want_from = 0;  // the first offset to return
    std::uint64_t oldest = 0;     // a walk back: the first offset of the oldest record read
    std::int64_t oldest_ms = 0;   // older messages are past the topic's max_age
    std::size_t max_bytes = 0;    // the page's bound, in envelope bytes
    std::size_t bytes = 0;        // envelope bytes of the messages read so far
    history_result result;
    history_handler done;
    int probes = 0;
    // a push consumer's read
    std::uint64_t inbox = 0;
    std::string consumer;
    std::uint64_t next_delivery = 1;
    bool finished = false;
    boost::asio::steady_timer deadline;
};

history_reader::history_reader(boost::asio::any_io_executor ex, nats_link& link, subjects const& names,
                               std::string stream)
    : ex_(ex), link_(link), names_(names), stream_(std::move(stream))
{
}

void history_reader::get(std::string const& request, record_handler done)
{
    link_.request("$JS.API.DIRECT.GET." + stream_, request, {},
                  [done = std::move(done)](boost::system::error_code ec, natsMsg* m) {
                      if (ec)
                          return done(ec, std::nullopt);
                      auto const status = msg_status(m);
                      if (status == 404)
                          return done({}, std::nullopt);
                      auto r = status == 0 ? parse_stored(m) : std::nullopt;
                      if (!r)
                          return done(make_error_code(nats_error::bad_reply), std::nullopt);
                      done({}, std::move(r));
                  });
}

void history_reader::last(std::string const& topic, record_handler done)
{
    get(json{{"last_by_subj", names_.stored(topic)}}.dump(), std::move(done));
}

void history_reader::at(std::uint64_t seq, record_handler done)
{
    get(json{{"seq", seq}}.dump(), std::move(done));
}

void history_reader::after(std::string const& topic, std::optional<position> const& since,
                           history_limits const& limits, std::size_t max_bytes, history_handler done)
{
    last(topic, [this, topic, since, limits, max_bytes, done = std::move(done)](boost::system::error_code ec,
                                                                      std::optional<stream_record> last) mutable {
        if (ec)
            return done(ec, {});
        history_result result;
        // A topic without a message has no epoch yet: {0, ""} resumes from its first message, whatever epoch
        // that one starts.
        if (last)
            result.latest = {last->last_offset(), last->epoch};
        if (!since)
            return done({}, std::move(result));
        bool const same_epoch = since->epoch.empty() ? since->offset == 0 : since->epoch == result.latest.epoch;
        if (!same_epoch || since->offset > result.latest.offset) {
            result.recovered = false;
            return done({}, std::move(result));
        }
        if (since->offset == result.latest.offset)
            return done({}, std::move(result));
        auto const latest = result.latest.offset;
        std::uint64_t const oldest_kept = limits.max_messages >= latest ? 1 : latest - limits.max_messages + 1;
        auto r = std::make_shared<read>(ex_);
        r->topic = topic;
        r->since = *since;
        r->want_from = std::max(since->offset + 1, oldest_kept);
        r->oldest_ms = now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(limits.max_age).count();
        r->max_bytes = max_bytes;
        r->result = std::move(result);
        r->done = std::move(done);
        if (limits.max_messages == 0 || last->at_ms < r->oldest_ms) {
            r->result.recovered = false;  // nothing of it is history any more
            return finish(r);
        }
        r->latest = std::move(*last);
        if (latest - r->want_from + 1 <= walk_limit) {
            take(*r, r->latest);
            return walk_back(r, r->latest.prev);
        }
        // The record with offset want_from is at or before the last one (a record may hold several offsets).
        find_start(r, 1, r->latest.seq);
    });
}

void history_reader::finish(std::shared_ptr<read> const& r, boost::system::error_code ec)
{
    r->finished = true;
    r->deadline.cancel();
    if (r->inbox)
        link_.unsubscribe(std::exchange(r->inbox, 0));
    if (!r->consumer.empty())  // no answer needed: the consumer would go by itself after inactive_threshold
        link_.publish("$JS.API.CONSUMER.DELETE." + stream_ + "." + std::exchange(r->consumer, {}), "");
    if (ec)
        return r->done(ec, {});
    auto& messages = r->result.messages;
    std::sort(messages.begin(), messages.end(), [](auto const& a, auto const& b) { return a->offset() < b->offset(); });
    // A walk back reads newest first: its page is the oldest messages that fit.
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        bytes += messages[i]->envelope()->size();
        if (i > 0 && bytes > r->max_bytes) {
            messages.resize(i);
            break;
        }
    }
    if (!messages.empty())
        r->result.recovered = messages.front()->offset() == r->since.offset + 1;
    else if (r->since.offset < r->result.latest.offset)
        r->result.recovered = false;
    r->done({}, std::move(r->result));
}

void history_reader::take(read& r, stream_record const& record)
{
    r.oldest = record.offset;
    for (auto& m : record.messages(r.topic))
        if (m->offset() >= r.want_from)
            r.result.messages.push_back(std::move(m));
}

// Each stored record names its predecessor's stream sequence: one direct get per older record, newest first.
void history_reader::walk_back(std::shared_ptr<read> r, std::uint64_t prev)
{
    if (r->oldest <= r->want_from || prev == 0)
        return finish(r);
    get(json{{"seq", prev}}.dump(), [this, r](boost::system::error_code ec, std::optional<stream_record> m) {
        if (ec)
            return finish(r, ec);
        // Gone (count or byte limits), too old for this topic, or not the one before: history ends here.
        if (!m || m->offset == 0 || m->at_ms < r->oldest_ms || m->last_offset() != r->oldest - 1 ||
            m->epoch != r->latest.epoch)
            return finish(r);
        take(*r, *m);
        walk_back(r, m->prev);
    });
}

// The smallest stream sequence X in [lo, hi] whose next record of the topic ends at want_from or later (true at
// hi). A probe that lands before it moves lo past the record it found, not just past X.
void history_reader::find_start(std::shared_ptr<read> r, std::uint64_t lo, std::uint64_t hi)
{
    if (lo >= hi)
        return consume(r, hi);
    // First at lo: the topic's oldest message, already wanted whenever history was trimmed past `since`.
    auto const x = r->probes++ == 0 ? lo : lo + (hi - lo) / 2;
    get(json{{"seq", x}, {"next_by_subj", names_.stored(r->topic)}}.dump(),
        [this, r, lo, hi, x](boost::system::error_code ec, std::optional<stream_record> m) {
            if (ec)
                return finish(r, ec);
            if (!m || m->last_offset() >= r->want_from)
                return find_start(r, lo, x);
            find_start(r, m->seq + 1, hi);
        });
}

void history_reader::consume(std::shared_ptr<read> r, std::uint64_t start)
{
    // Subscribed before the consumer is asked for: the SUB reaches the server first on this connection.
    auto [inbox, subject] = link_.open_inbox([this, r](natsMsg* m) {
        if (r->finished)
            return;
        auto d = parse_delivery(m);
        if (!d || d->consumer_seq != r->next_delivery++)
            // Unreadable, or a delivery lost on the way (the client's pending limits): the read cannot be trusted.
            return finish(r, make_error_code(nats_error::bad_reply));
        if (d->at_ms >= r->oldest_ms && d->epoch == r->latest.epoch) {
            for (auto& m : d->messages(r->topic)) {
                if (m->offset() < r->want_from || m->offset() > r->latest.last_offset())
                    continue;
                r->bytes += m->envelope()->size();
                if (!r->result.messages.empty() && r->bytes > r->max_bytes)
                    return finish(r);  // the page is full: the rest is the next read's
                r->result.messages.push_back(std::move(m));
            }
        }
        if (d->last_offset() >= r->latest.last_offset() || d->pending == 0)
            finish(r);
    });
    r->inbox = inbox;
    auto const request = reader_consumer_request(stream_, subject, start, names_.stored(r->topic), consumer_timeout);
    link_.request("$JS.API.CONSUMER.CREATE." + stream_, request.dump(), {},
                  [this, r](boost::system::error_code ec, natsMsg* m) {
                      auto const answer = ec ? json() : json::parse(msg_data(m), nullptr, false);
                      bool const made = !ec && answer.is_object() && answer.contains("name");
                      if (made)
                          r->consumer = answer["name"].get<std::string>();
                      if (r->finished) {  // everything came before the answer: only the delete is left
                          if (made)
                              link_.publish("$JS.API.CONSUMER.DELETE." + stream_ + "." + r->consumer, "");
                          return;
                      }
                      if (!made)
                          finish(r, ec ? ec : make_error_code(nats_error::api_error));
                  });
    r->deadline.expires_after(consumer_timeout);
    r->deadline.async_wait([this, r](boost::system::error_code ec) {
        if (!ec && !r->finished)
            finish(r, make_error_code(nats_error::timed_out));
    });
}

}  // namespace switchboard::nats
