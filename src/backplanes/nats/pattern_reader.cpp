#include "backplanes/nats/pattern_reader.hpp"

#include "backplanes/nats/stream_config.hpp"

#include <switchboard/cursor.hpp>
#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include "backplanes/nats/nats_error.hpp"
#include "backplanes/nats/nats_message.hpp"

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <vector>

namespace switchboard::nats {

using json = nlohmann::json;

namespace {

/// An offset past any stream's subjects: the info answers with their total and no list.
constexpr std::uint64_t past_every_subject = 1'000'000'000'000;

}  // namespace

std::string sequence_epoch(std::string_view created)
{
    std::string out;
    for (char c : created)
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            out += c;
    // "20261204T183416052847718Z": 25 characters; keep the most significant should a server write more.
    if (out.empty())
        return out;
    if (out.size() > max_epoch_length - 1)
        out.resize(max_epoch_length - 1);
    // Sequences count records and places in them (stream_record.hpp): a position from before they did, when
    // a sequence was the stream's alone, names another epoch.
    return out + 'r';
}

struct pattern_reader::read_state {
    explicit read_state(boost::asio::any_io_executor ex) : deadline(ex) {}

    struct topic_seen {
        std::uint64_t last_seq = 0;  // the last record of the topic this read examined
        bool lost = false;
    };

    std::string pattern;
    std::string filter;  // "<prefix>.topic.<pattern>"
    bool has_since = false;
    std::uint64_t since = 0;        // a sequence (stream_record.hpp)
    std::uint64_t from_record = 0;  // the first record that may hold a message after it
    std::uint64_t resume_from = 0;  // a page read again: its messages before this sequence are not wanted
    std::string since_epoch;
    std::uint64_t first_seq = 0;  // the stream's, when the read began
    std::uint64_t last_seq = 0;   // read up to here: later messages reach subscribers live
    std::size_t max_bytes = 0;
    std::size_t max_topics = 0;
    bool may_count = false;          // the stream has more subjects than max_topics
    bool count_beyond_page = false;  // the filter matches more subjects than max_topics
    history_options history;
    std::int64_t now_ms = 0;
    backplane::pattern_history_handler done;

    pattern_history_result result;
    std::size_t bytes = 0;
    bool page_full = false;
    std::uint64_t next = 0;      // every matching record before this sequence has been examined
    std::uint64_t page_end = 0;  // once the page is full: the sequence of the first message past it
    std::size_t walked = 0;
    std::unordered_map<std::string, topic_seen> topics;  // matched topics with messages after `since`
    bool finished = false;

    // a push consumer's read
    std::uint64_t inbox = 0;
    std::string consumer;
    std::uint64_t next_delivery = 1;
    std::uint64_t generation = 0;  // of the current consumer: deliveries and answers of an earlier one are ignored
    boost::asio::steady_timer deadline;
};

pattern_reader::pattern_reader(boost::asio::any_io_executor ex, nats_link& link, subjects const& names,
                               std::string stream)
    : ex_(std::move(ex)), link_(link), names_(names), stream_(std::move(stream))
{
}

pattern_reader::~pattern_reader()
{
    *alive_ = false;
}

void pattern_reader::read(std::string const& pattern, std::optional<position> const& since, std::size_t max_bytes,
                          std::size_t max_topics, history_options const& history,
                          backplane::pattern_history_handler done)
{
    auto r = std::make_shared<read_state>(ex_);
    r->pattern = pattern;
    r->filter = names_.prefix + ".topic." + pattern;  // a pattern's tokens are NATS' own (subject.hpp)
    r->has_since = since.has_value();
    if (since) {
        r->since = since->offset;
        r->since_epoch = since->epoch;
        // Its own record may hold more messages after it.
        r->from_record = std::max<std::uint64_t>(
            1, record_of(r->since) + (index_in_record(r->since) == record_end ? 1 : 0));
        r->next = r->from_record;
    }
    r->max_bytes = max_bytes;
    r->max_topics = max_topics;
    r->history = history;
    r->done = std::move(done);
    link_.request("$JS.API.STREAM.INFO." + stream_, "", {},
                  [this, r, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec, natsMsg* m) {
                      if (!alive.expired())
                          on_info(r, ec, m);
                  });
}

void pattern_reader::on_info(read_ptr const& r, boost::system::error_code ec, natsMsg* m)
{
    if (ec)
        return finish(r, ec);
    auto const info = json::parse(msg_data(m), nullptr, false);
    if (!info.is_object() || info.contains("error") || !info.contains("state") || !info.contains("created"))
        return finish(r, make_error_code(info.is_object() && info.contains("error") ? nats_error::api_error
                                                                                      : nats_error::bad_reply));
    auto const epoch = sequence_epoch(info["created"].get<std::string>());
    auto const& state = info["state"];
    r->first_seq = state.value("first_seq", std::uint64_t{0});
    r->last_seq = state.value("last_seq", std::uint64_t{0});
    r->result.latest = {message_sequence(r->last_seq, record_end), epoch};
    if (!r->has_since)
        return finish(r);
    bool const same_epoch = r->since_epoch.empty() ? r->since == 0 : r->since_epoch == epoch;
    if (!same_epoch || r->since > r->result.latest.offset) {
        r->result.recovered = false;
        return finish(r);
    }
    if (r->from_record > r->last_seq)
        return finish(r);
    // Few subjects in the whole stream: no page needs topics counted past it.
    r->may_count = state.value("num_subjects", std::uint64_t{0}) > r->max_topics;
    r->now_ms = now_ms();
    walk(r);
}

// One direct get per matching message: the next one from r->next on.
void pattern_reader::walk(read_ptr r)
{
    if (r->next > r->last_seq)
        return complete(r);
    if (r->walked >= walk_limit)
        return consume(r);
    ++r->walked;
    link_.request("$JS.API.DIRECT.GET." + stream_, json{{"seq", r->next}, {"next_by_subj", r->filter}}.dump(), {},
                  [this, r, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec, natsMsg* m) {
                      if (alive.expired() || r->finished)
                          return;
                      if (ec)
                          return finish(r, ec);
                      if (msg_status(m) == 404)
                          return complete(r);  // nothing matches past r->next
                      auto rec = msg_status(m) == 0 ? parse_stored(m) : std::nullopt;
                      auto const subject = rec ? msg_header(m, "Nats-Subject") : std::nullopt;
                      auto const topic = subject ? names_.topic_of(*subject) : std::nullopt;
                      if (!topic)
                          return finish(r, make_error_code(nats_error::bad_reply));
                      if (rec->seq > r->last_seq)
                          return complete(r);  // published after the read began: it comes live
                      if (examine(r, *topic, *rec))
                          walk(r);
                  });
}

bool pattern_reader::examine(read_ptr const& r, std::string const& topic, stream_record const& rec)
{
    r->next = rec.seq + 1;
    // NATS' `*` also matches the "~" of an empty topic token (subject.hpp); switchboard's pattern decides.
    if (rec.offset == 0 || !pattern_matches(r->pattern, topic))
        return true;  // an epoch marker (no message), or a topic the pattern does not match
    if (message_sequence(rec.seq, rec.count() - 1) <= r->since)
        return true;  // the record `since` is in, and nothing of it after `since`
    auto [it, fresh] = r->topics.try_emplace(topic);
    if (fresh && r->topics.size() > r->max_topics) {
        finish(r, make_error_code(error::too_many_topics));
        return false;
    }
    auto& seen = it->second;
    // Its previous record is before `since`('s own), or the one read just before, or it starts its topic's epoch
    // (what came before it is an epoch marker, or records that left with the head of the stream).
    if (rec.offset != 1 && rec.prev > record_of(r->since) && rec.prev != seen.last_seq)
        seen.lost = true;
    seen.last_seq = rec.seq;
    if (r->page_full)
        return true;  // counting topics only
    auto const& limits = r->history.limits_for(topic);
    auto const max_age = std::chrono::duration_cast<std::chrono::milliseconds>(limits.max_age).count();
    if (limits.max_messages == 0 || (rec.at_ms != 0 && rec.at_ms < r->now_ms - max_age)) {
        seen.lost = true;  // past its own topic's limits: not history any more
        return true;
    }
    for (auto& m : rec.messages(topic)) {
        if (m->sequence() <= r->since || m->sequence() < r->resume_from)
            continue;
        r->bytes += m->envelope()->size();
        if (!r->result.messages.empty() && r->bytes > r->max_bytes) {
            r->page_full = true;
            r->result.more = true;
            r->page_end = m->sequence();  // the next page's first (reading goes on past it only to count topics)
            if (r->may_count) {
                page_filled(r);
                return false;
            }
            if (!r->count_beyond_page) {
                complete(r);
                return false;
            }
            return true;
        }
        r->result.messages.push_back(std::move(m));
    }
    return true;
}

void pattern_reader::page_filled(read_ptr r)
{
    // Reading stops while the stream says how many subjects the filter matches (the total only, with an offset
    // past them all: O(subjects) on the server, paid by resumes longer than a page in a stream of many topics).
    r->may_count = false;
    end_consumer(r);
    r->deadline.cancel();
    ++r->generation;  // what the consumer still sends is ignored
    r->walked = 0;
    link_.request("$JS.API.STREAM.INFO." + stream_,
                  json{{"subjects_filter", r->filter}, {"offset", past_every_subject}}.dump(), {},
                  [this, r, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec, natsMsg* m) {
                      if (alive.expired() || r->finished)
                          return;
                      if (ec)
                          return finish(r, ec);
                      auto const info = json::parse(msg_data(m), nullptr, false);
                      if (!info.is_object() || info.contains("error"))
                          return finish(r, make_error_code(nats_error::api_error));
                      r->count_beyond_page = info.value("total", std::uint64_t{0}) > r->max_topics;
                      if (!r->count_beyond_page)
                          return complete(r);
                      walk(r);  // on from r->next, counting
                  });
}

void pattern_reader::consume(read_ptr r)
{
    auto const generation = ++r->generation;
    // Subscribed before the consumer is asked for: the SUB reaches the server first on this connection.
    r->next_delivery = 1;
    auto [inbox, subject] = link_.open_inbox([this, r, generation, alive = std::weak_ptr<bool>(alive_)](natsMsg* m) {
        if (alive.expired() || r->finished || generation != r->generation)
            return;
        auto d = parse_delivery(m);
        auto const topic = d ? names_.topic_of(msg_subject(m)) : std::nullopt;
        if (!topic || d->consumer_seq != r->next_delivery++)
            // Unreadable, or a delivery lost on the way (the client's pending limits): the read cannot be trusted.
            return finish(r, make_error_code(nats_error::bad_reply));
        if (d->seq > r->last_seq)
            return complete(r);
        if (!examine(r, *topic, *d))
            return;
        if (d->seq == r->last_seq || d->pending == 0)
            complete(r);
    });
    r->inbox = inbox;
    auto const request = reader_consumer_request(stream_, subject, r->next, r->filter, consumer_timeout);
    link_.request("$JS.API.CONSUMER.CREATE." + stream_, request.dump(), {},
                  [this, r, generation, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec,
                                                                             natsMsg* m) {
                      if (alive.expired())
                          return;
                      auto const answer = ec ? json() : json::parse(msg_data(m), nullptr, false);
                      bool const made = !ec && answer.is_object() && answer.contains("name");
                      if (generation != r->generation) {  // left behind by a page that filled meanwhile
                          if (made)
                              link_.publish("$JS.API.CONSUMER.DELETE." + stream_ + "." +
                                            answer["name"].get<std::string>(), "");
                          return;
                      }
                      if (made)
                          r->consumer = answer["name"].get<std::string>();
                      if (r->finished)  // everything came before the answer: only the delete is left
                          return end_consumer(r);
                      if (!made)
                          return finish(r, ec ? ec : make_error_code(nats_error::api_error));
                      // Nothing to deliver (what matched past the walk was published after the read began, or
                      // nothing did), and nothing delivered still on its way: no delivery would end the read.
                      auto const delivered = answer.value("delivered", json::object()).value("consumer_seq", 0ull);
                      if (answer.value("num_pending", 0ull) == 0 && delivered + 1 == r->next_delivery)
                          complete(r);
                  });
    r->deadline.expires_after(consumer_timeout);
    r->deadline.async_wait([this, r, generation, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
        if (!ec && !alive.expired() && !r->finished && generation == r->generation)
            finish(r, make_error_code(nats_error::timed_out));
    });
}

void pattern_reader::end_consumer(read_ptr const& r)
{
    if (r->inbox)
        link_.unsubscribe(std::exchange(r->inbox, 0));
    if (!r->consumer.empty())  // no answer needed: the consumer would go by itself after inactive_threshold
        link_.publish("$JS.API.CONSUMER.DELETE." + stream_ + "." + std::exchange(r->consumer, {}), "");
}

void pattern_reader::complete(read_ptr r)
{
    if (r->finished)
        return;
    end_consumer(r);
    r->deadline.cancel();
    // Topics whose own count limit is below the stream's (which keeps the largest of every rule): their
    // messages past it are not history. Each one's last message says where its history begins.
    std::size_t stream_max = std::max<std::size_t>(r->history.limits.max_messages, 1);
    for (auto const& rule : r->history.overrides)
        stream_max = std::max(stream_max, rule.limits.max_messages);
    std::vector<std::string> bounded;
    for (auto const& m : r->result.messages) {
        auto const limit = r->history.limits_for(m->topic()).max_messages;
        if (limit > 0 && limit < stream_max && std::find(bounded.begin(), bounded.end(), m->topic()) == bounded.end())
            bounded.push_back(m->topic());
    }
    if (bounded.empty())
        return finish(r);
    r->finished = true;  // until the last gets answer
    auto left = std::make_shared<std::size_t>(bounded.size());
    auto failed = std::make_shared<boost::system::error_code>();
    for (auto const& topic : bounded) {
        link_.request(
            "$JS.API.DIRECT.GET." + stream_, json{{"last_by_subj", names_.stored(topic)}}.dump(), {},
            [this, r, topic, left, failed, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec,
                                                                                natsMsg* m) {
                if (alive.expired())
                    return;
                auto last = !ec && msg_status(m) == 0 ? parse_stored(m) : std::nullopt;
                if (!ec && !last && msg_status(m) != 404)
                    ec = make_error_code(nats_error::bad_reply);
                if (ec)
                    *failed = ec;
                else if (last) {
                    auto const limit = r->history.limits_for(topic).max_messages;
                    auto& messages = r->result.messages;
                    auto const before = messages.size();
                    std::erase_if(messages, [&](message_ptr const& x) {
                        return x->topic() == topic && x->epoch() == last->epoch &&
                               x->offset() + limit <= last->last_offset();
                    });
                    if (messages.size() != before)
                        r->topics[topic].lost = true;
                }
                if (--*left > 0)
                    return;
                r->finished = false;
                if (*failed)
                    return finish(r, *failed);
                if (r->result.messages.empty() && r->result.more) {
                    // Everything on the page was past its topics' limits: read on from where it stopped, those
                    // topics lost already, every topic's chain to be followed again from there.
                    r->result.more = false;
                    r->page_full = false;
                    r->bytes = 0;
                    r->walked = 0;
                    r->next = record_of(r->page_end);
                    r->resume_from = r->page_end;
                    for (auto& [name, seen] : r->topics)
                        seen.last_seq = 0;
                    return walk(r);
                }
                finish(r);
            });
    }
}

void pattern_reader::finish(read_ptr const& r, boost::system::error_code ec)
{
    if (r->finished)
        return;
    r->finished = true;
    r->deadline.cancel();
    end_consumer(r);
    auto done = std::move(r->done);
    if (ec)
        return done(ec, {});
    for (auto const& [topic, seen] : r->topics)
        if (seen.lost)
            r->result.lost.push_back(topic);
    std::sort(r->result.lost.begin(), r->result.lost.end());
    // Messages after `since` left with the head of the stream: whose, nobody can say.
    if ((r->has_since && r->from_record < r->first_seq) || !r->result.lost.empty())
        r->result.recovered = false;
    done({}, std::move(r->result));
}

}  // namespace switchboard::nats
