// The backplane contract: the same assertions against every backplane (memory in this process, a node of a
// loop_cluster, Redis with a real redis-server, NATS with a real nats-server -js, each on a free port), so a new one passes by adding its
// kind to `kinds`. What a caller may
// rely on, whichever backplane the server holds:
// - publish assigns each topic's positions 1, 2, 3, ... in one epoch, and a refused publish says why;
// - history after a position returns exactly the later messages, byte for byte, and the topic's position, a
//   page at a time: the envelopes of a page total at most max_bytes (its first message always) and a page is
//   as full as that allows;
// - a read from before what history still holds (trimmed by count or age), or from another epoch, says
//   recovered:false; set_history_options changes the limits for the topics' next publishes and reads;
// - once a subscribe's history read has answered, every later publish of the topic is delivered to this node,
//   once, in offset order, and again after an unsubscribe and a new subscribe.
// - every publish has the backplane's next sequence, across topics and nodes; pattern_history after a
//   sequence returns every later message of every topic a pattern matches (topics made since included), in
//   sequence order, byte for byte, a page at a time, naming the topics whose messages history no longer has
//   (recovered:false), refusing more matched topics than asked (too_many_topics); live messages carry the same
//   sequence as history's;
// - a publish with an idempotency key the topic saw within history_options::idempotency_window is answered with
//   the first publish's position, also while the first is still in flight, and nothing is stored or delivered
//   again; another key, or the same key on another topic, publishes; past the window the key publishes again;
//   the memory backplane remembers at most max_idempotency_keys, the oldest forgotten first;
// - a pattern this node subscribes to (subscribe_pattern, then pattern_ready) brings every later publish of
//   every topic it matches, topics made after it included, once and in each topic's offset order, also when
//   the node holds the topic exactly too; a broker-backed backplane brings nothing its patterns do not match
//   (Redis' glob covers more: the backplane filters), stops after unsubscribe_pattern, and after its broker
//   came back has the pattern again and tells the gap handler that the pattern may have missed messages.
// What is not promised: that an unsubscribed node receives nothing. The memory backplane hands every publish back
// to its node (there is no traffic to save, and the hub drops topics nobody holds); a broker-backed backplane
// stops the broker's traffic, and a loop cluster stops handing the node the topic (a kind says so through
// listening(), which the memory kind cannot answer).
//
// A kind is a backplane and what the tests need around it: ready() once it can publish; break_broker() /
// mend_broker() to make it unavailable and back (false: it has no broker to lose); listening(topic), whether its
// broker sends this node the topic (nullopt: not applicable); bounds_total_history_bytes, whether
// history_options::max_bytes applies (Redis is bounded by its own maxmemory instead, NATS by nats_options::max_bytes,
// docs/scaling.md); bounds_idempotency_keys, whether history_options::max_idempotency_keys applies (Redis and NATS
// hold keys in the broker, for the window).

#include "support/nats_process.hpp"
#include "support/offsets.hpp"
#include "support/redis_process.hpp"
#include "support/run_until.hpp"

#include <switchboard/error.hpp>
#include <switchboard/loop_cluster.hpp>
#include <switchboard/memory_backplane.hpp>
#include <switchboard/nats_backplane.hpp>
#include <switchboard/redis_backplane.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;

struct memory_kind {
    static constexpr char const* name = "memory";
    static constexpr bool bounds_total_history_bytes = true;
    static constexpr bool bounds_idempotency_keys = true;
    memory_kind(boost::asio::io_context& ioc, history_options h) : backplane(ioc.get_executor(), std::move(h)) {}
    bool ready() const { return true; }
    bool break_broker() { return false; }
    void mend_broker() {}
    std::optional<bool> listening(std::string const&) const { return std::nullopt; }
    memory_backplane backplane;
};

// One node of a loop_cluster on the test's loop: the cluster's answers come through the node's inbox, a later turn
// of the loop (multi-node cases, with nodes on other threads: loop_cluster_test.cpp).
struct loop_cluster_kind {
    static constexpr char const* name = "loop_cluster";
    static constexpr bool bounds_total_history_bytes = true;
    static constexpr bool bounds_idempotency_keys = true;
    loop_cluster_kind(boost::asio::io_context& ioc, history_options h)
        : cluster(std::move(h)), node(cluster.node(ioc.get_executor())), backplane(*node)
    {
    }
    bool ready() const { return true; }
    bool break_broker() { return false; }
    void mend_broker() {}
    std::optional<bool> listening(std::string const& topic) const { return cluster.nodes_receiving(topic) > 0; }
    loop_cluster cluster;
    std::unique_ptr<switchboard::backplane> node;
    switchboard::backplane& backplane;
};

struct redis_kind {
    static constexpr char const* name = "redis";
    static constexpr bool bounds_total_history_bytes = false;
    static constexpr bool bounds_idempotency_keys = false;
    static redis_options options_for(redis_process const& r)
    {
        redis_options o;
        o.url = r.url();
        o.reconnect_min = 10ms;  // back soon after mend_broker()
        o.reconnect_max = 100ms;
        return o;
    }
    redis_kind(boost::asio::io_context& ioc, history_options h)
        : backplane(ioc.get_executor(), options_for(redis), std::move(h))
    {
    }
    bool ready() const { return backplane.connected(); }
    bool break_broker()
    {
        redis.stop();
        return true;
    }
    void mend_broker() { redis.start(); }
    std::optional<bool> listening(std::string const& topic) const
    {
        return redis.subscribers(redis_options{}.prefix + topic) > 0;
    }
    redis_process redis;  // first: up before the backplane, stopped after it
    redis_backplane backplane;
};

struct nats_kind {
    static constexpr char const* name = "nats";
    static constexpr bool bounds_total_history_bytes = false;  // nats_options::max_bytes, the stream's own bound
    static constexpr bool bounds_idempotency_keys = false;
    static nats_options options_for(nats_process const& n)
    {
        nats_options o;
        o.url = n.url();
        o.reconnect_wait = 10ms;  // back soon after mend_broker()
        return o;
    }
    nats_kind(boost::asio::io_context& ioc, history_options h)
        : backplane(ioc.get_executor(), options_for(nats), std::move(h))
    {
    }
    bool ready() const { return backplane.connected(); }
    bool break_broker()
    {
        nats.stop();
        return true;
    }
    void mend_broker() { nats.start(); }
    std::optional<bool> listening(std::string const& topic) const
    {
        return nats.subscribers(nats_options{}.prefix + ".live." + topic) > 0;
    }
    nats_process nats;  // first: up before the backplane, stopped after it
    nats_backplane backplane;
};

template <class Kind>
class backplane_contract : public ::testing::Test {
protected:
    void TearDown() override
    {
        if (kind_) {
            kind_->backplane.close();
            ioc_.run_for(1s);  // returns as soon as nothing is left to run
        }
    }

    backplane& make(history_options h = {})
    {
        kind_ = std::make_unique<Kind>(ioc_, std::move(h));
        kind_->backplane.set_delivery([this](message_ptr const& m) { delivered_.push_back(m); });
        EXPECT_TRUE(run_until(ioc_, [&] { return kind_->ready(); }, 10s)) << "the backplane never connected";
        return kind_->backplane;
    }
    backplane& bp() { return kind_->backplane; }

    struct publish_result {
        boost::system::error_code ec;
        position where;
    };

    publish_result try_publish(std::string topic, std::string data = "null", publish_options options = {})
    {
        std::optional<publish_result> out;
        bp().publish(std::move(topic), std::move(data), std::move(options),
                     [&](boost::system::error_code ec, position p) { out = publish_result{ec, std::move(p)}; });
        EXPECT_TRUE(run_until(ioc_, [&] { return out.has_value(); }, 10s)) << "publish never answered";
        return out.value_or(publish_result{make_error_code(error::backplane_unavailable), {}});
    }

    position publish(std::string topic, std::string data = "null", publish_options options = {})
    {
        auto r = try_publish(std::move(topic), std::move(data), std::move(options));
        EXPECT_FALSE(r.ec) << r.ec.message();
        return r.where;
    }

    history_result history(std::string const& topic, std::optional<position> since,
                           std::size_t max_bytes = backplane::whole_history)
    {
        std::optional<history_result> out;
        bp().history(topic, since, max_bytes, [&](boost::system::error_code ec, history_result r) {
            EXPECT_FALSE(ec) << ec.message();
            out = std::move(r);
        });
        EXPECT_TRUE(run_until(ioc_, [&] { return out.has_value(); }, 10s)) << "history never answered";
        return out.value_or(history_result{});
    }

    struct pattern_read {
        boost::system::error_code ec;
        pattern_history_result result;
    };

    pattern_read pattern_history(std::string const& pattern, std::optional<position> since,
                                 std::size_t max_bytes = backplane::whole_history, std::size_t max_topics = 1000)
    {
        std::optional<pattern_read> out;
        bp().pattern_history(pattern, since, max_bytes, max_topics,
                             [&](boost::system::error_code ec, pattern_history_result r) {
                                 out = pattern_read{ec, std::move(r)};
                             });
        EXPECT_TRUE(run_until(ioc_, [&] { return out.has_value(); }, 10s)) << "pattern_history never answered";
        return out.value_or(pattern_read{make_error_code(error::backplane_unavailable), {}});
    }

    /// The sequence now: where a pattern subscriber starting now resumes from.
    position sequence_now(std::string const& pattern = "any.*")
    {
        auto r = pattern_history(pattern, std::nullopt);
        EXPECT_FALSE(r.ec) << r.ec.message();
        EXPECT_TRUE(r.result.messages.empty());
        return r.result.latest;
    }

    /// Subscribes this node to `pattern`: messages of its topics published from now on are delivered here.
    /// False when the backplane never said the subscription holds.
    bool subscribe_pattern(std::string const& pattern)
    {
        bp().subscribe_pattern(pattern);
        return pattern_ready(pattern);
    }

    bool pattern_ready(std::string const& pattern)
    {
        std::optional<boost::system::error_code> ready;
        bp().pattern_ready(pattern, [&](boost::system::error_code ec) { ready = ec; });
        EXPECT_TRUE(run_until(ioc_, [&] { return ready.has_value(); }, 10s)) << "pattern_ready never answered";
        return ready && !*ready;
    }

    /// Subscribes this node to `topic`: its messages published from now on are delivered here.
    void subscribe(std::string const& topic)
    {
        bp().subscribe(topic);
        history(topic, std::nullopt);  // answers once the subscription holds (Redis: once confirmed)
    }

    std::vector<message_ptr> delivered_of(std::string const& topic) const
    {
        std::vector<message_ptr> out;
        for (auto const& m : delivered_)
            if (m->topic() == topic)
                out.push_back(m);
        return out;
    }

    boost::asio::io_context ioc_;
    std::unique_ptr<Kind> kind_;
    std::vector<message_ptr> delivered_;
};

using kinds = ::testing::Types<memory_kind, loop_cluster_kind, redis_kind, nats_kind>;
struct kind_names {
    template <class Kind>
    static std::string GetName(int)
    {
        return Kind::name;
    }
};
TYPED_TEST_SUITE(backplane_contract, kinds, kind_names);

TYPED_TEST(backplane_contract, publish_numbers_each_topic_from_1_in_one_epoch)
{
    this->make();
    auto const first = this->publish("a");
    EXPECT_EQ(first.offset, 1u);
    EXPECT_FALSE(first.epoch.empty());
    for (std::uint64_t expected = 2; expected <= 4; ++expected)
        EXPECT_EQ(this->publish("a"), (position{expected, first.epoch}));
    EXPECT_EQ(this->publish("b").offset, 1u);  // each topic its own count
}

TYPED_TEST(backplane_contract, history_after_a_position_is_exactly_the_later_messages_byte_for_byte)
{
    this->make();
    position p;
    for (auto const* data : {"1", "{\"a\": [1, 2]}", "\"x\\ny\"", "{\n  \"b\": \"c d\"\n}"})
        p = this->publish("t", data);

    auto r = this->history("t", position{2, p.epoch});
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(r.latest, p);
    ASSERT_EQ(offsets_of(r.messages), (offsets{3, 4}));
    EXPECT_EQ(r.messages[0]->data(), "\"x\\ny\"");
    EXPECT_EQ(r.messages[1]->data(), "{\n  \"b\": \"c d\"\n}");  // line feeds and spaces kept
    EXPECT_EQ(r.messages[0]->topic(), "t");
    EXPECT_EQ(r.messages[1]->where(), p);

    r = this->history("t", p);  // nothing after the latest
    EXPECT_TRUE(r.recovered);
    EXPECT_TRUE(r.messages.empty());

    r = this->history("t", position{0, ""});  // no epoch, from 0: everything retained, whatever the epoch
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{1, 2, 3, 4}));
}

TYPED_TEST(backplane_contract, history_without_a_position_is_the_position_only)
{
    this->make();
    auto const p = this->publish("t");
    auto const r = this->history("t", std::nullopt);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_EQ(r.latest, p);
    // A topic never published still has a position that its first publish continues.
    auto const fresh = this->history("never", std::nullopt);
    EXPECT_EQ(fresh.latest.offset, 0u);
    EXPECT_EQ(this->publish("never"), (position{1, fresh.latest.epoch}));
}

TYPED_TEST(backplane_contract, a_history_page_is_bounded_by_max_bytes_of_envelopes_and_as_full_as_it_allows)
{
    this->make();
    std::string const data = "\"" + std::string(100, 'x') + "\"";
    position p;
    for (int i = 0; i < 12; ++i)
        p = this->publish("p", data);

    for (std::size_t max_bytes : {std::size_t{1}, std::size_t{150}, std::size_t{300}, std::size_t{400},
                                  std::size_t{500}, std::size_t{1000}}) {
        SCOPED_TRACE("max_bytes " + std::to_string(max_bytes));
        std::vector<history_result> pages;
        position from{0, p.epoch};
        for (int i = 0; i < 20 && from.offset < p.offset; ++i) {  // bounded: 12 messages, at least one a page
            pages.push_back(this->history("p", from, max_bytes));
            auto const& page = pages.back();
            ASSERT_FALSE(page.messages.empty()) << "a page holds its first message whatever its size";
            EXPECT_TRUE(page.recovered);
            EXPECT_EQ(page.latest, p);
            from = page.messages.back()->where();
        }
        offsets all;
        for (std::size_t i = 0; i < pages.size(); ++i) {
            auto const& page = pages[i].messages;
            std::size_t bytes = 0;
            for (auto const& m : page) {
                all.push_back(m->offset());
                bytes += m->envelope()->size();
            }
            if (page.size() > 1) {
                EXPECT_LE(bytes, max_bytes) << "page " << i;
            }
            if (i + 1 < pages.size()) {  // the next message did not fit
                EXPECT_GT(bytes + pages[i + 1].messages.front()->envelope()->size(), max_bytes) << "page " << i;
            }
        }
        EXPECT_EQ(all, (offsets{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    }
}

TYPED_TEST(backplane_contract, reading_from_before_what_history_holds_is_not_recovered)
{
    history_options h;
    h.limits.max_messages = 2;
    this->make(h);
    position p;
    for (int i = 0; i < 4; ++i)
        p = this->publish("t");

    auto r = this->history("t", position{1, p.epoch});  // 2 is gone
    EXPECT_FALSE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{3, 4}));
    r = this->history("t", position{2, p.epoch});  // nothing missing
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{3, 4}));
}

TYPED_TEST(backplane_contract, a_topic_without_history_recovers_nothing_missed)
{
    history_options h;
    h.overrides.push_back({"live.", {0, 300s}});
    this->make(h);
    auto const p1 = this->publish("live.a");
    auto const p2 = this->publish("live.a");
    EXPECT_EQ(p2.offset, 2u);  // still numbered
    auto r = this->history("live.a", p1);
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    r = this->history("live.a", p2);  // nothing missed: nothing to recover
    EXPECT_TRUE(r.recovered);
}

TYPED_TEST(backplane_contract, history_older_than_max_age_is_gone)
{
    history_options h;
    h.limits.max_age = 1s;
    this->make(h);
    auto const p = this->publish("t");
    auto r = this->history("t", position{0, p.epoch});
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{1}));

    // Polled, not slept: at most 50 reads 100 ms apart, a second or so after the publish it is gone.
    for (int i = 0; i < 50 && r.recovered; ++i) {
        run_for(this->ioc_, 100ms);
        r = this->history("t", position{0, p.epoch});
    }
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_EQ(r.latest, p);  // the position outlives the history
}

TYPED_TEST(backplane_contract, history_bounded_in_total_bytes_drops_the_oldest_first)
{
    if (!TypeParam::bounds_total_history_bytes)
        GTEST_SKIP() << TypeParam::name << " is bounded by its broker (Redis maxmemory, nats_options::max_bytes), not history_options::max_bytes";
    history_options h;
    h.max_bytes = 3 * (memory_backplane::cost(message("t", {1, "12345678"}, "null")) + 8);  // about 3 messages
    this->make(h);
    position p;
    for (int i = 0; i < 6; ++i)
        p = this->publish("t");
    auto const r = this->history("t", position{0, p.epoch});
    EXPECT_FALSE(r.recovered);
    ASSERT_FALSE(r.messages.empty());
    EXPECT_EQ(r.messages.back()->offset(), 6u);  // the newest kept
    EXPECT_LE(r.messages.size(), 3u);
}

TYPED_TEST(backplane_contract, reading_from_another_epoch_is_not_recovered)
{
    this->make();
    auto const p = this->publish("t");
    auto const r = this->history("t", position{0, p.epoch + "-other"});
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_EQ(r.latest, p);
}

TYPED_TEST(backplane_contract, new_history_options_apply_to_the_next_publishes)
{
    history_options h;
    h.limits.max_messages = 10;
    this->make(h);
    for (int i = 0; i < 3; ++i) {
        this->publish("short.a");
        this->publish("long.a");
    }
    h.overrides.push_back({"short.", {1, 300s}});
    this->kind_->backplane.set_history_options(h);
    auto const p = this->publish("short.a");
    auto const q = this->publish("long.a");

    auto r = this->history("short.a", position{2, p.epoch});
    EXPECT_FALSE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{4}));
    r = this->history("long.a", position{0, q.epoch});  // the default still keeps 10
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{1, 2, 3, 4}));
}

TYPED_TEST(backplane_contract, a_subscribed_topic_is_delivered_once_in_offset_order)
{
    this->make();
    this->subscribe("s");
    std::vector<position> published;
    for (int i = 0; i < 5; ++i)
        published.push_back(this->publish("s", std::to_string(i)));

    ASSERT_TRUE(run_until(this->ioc_, [&] { return this->delivered_of("s").size() >= 5; }, 10s));
    run_for(this->ioc_, 50ms);  // a duplicate would show now
    auto const got = this->delivered_of("s");
    ASSERT_EQ(got.size(), 5u);
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(got[i]->where(), published[i]);
        EXPECT_EQ(got[i]->data(), std::to_string(i));
    }
    EXPECT_EQ(this->kind_->backplane.delivered("s"), published.back());
}

TYPED_TEST(backplane_contract, unsubscribing_and_subscribing_again_resumes_delivery_once_in_order)
{
    this->make();
    this->kind_->backplane.unsubscribe("never-subscribed");  // harmless
    this->subscribe("s");
    if (auto listening = this->kind_->listening("s")) {
        EXPECT_TRUE(*listening);
    }
    auto const first = this->publish("s");
    ASSERT_TRUE(run_until(this->ioc_, [&] { return this->delivered_of("s").size() == 1; }, 10s));

    this->kind_->backplane.unsubscribe("s");
    bool const filters = this->kind_->listening("s").has_value();
    if (filters) {  // the broker stops sending this node the topic
        EXPECT_TRUE(run_until(this->ioc_, [&] { return !*this->kind_->listening("s"); }, 10s));
    }
    auto const missed = this->publish("s");
    run_for(this->ioc_, 50ms);
    if (filters) {
        EXPECT_EQ(this->delivered_of("s").size(), 1u) << "an unsubscribed node received the topic";
    }

    this->subscribe("s");
    auto const next = this->publish("s");
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->delivered_of("s").empty() &&
                                                   this->delivered_of("s").back()->where() == next; }, 10s));
    run_for(this->ioc_, 50ms);
    auto const got = offsets_of(this->delivered_of("s"));
    auto const expected =
        filters ? offsets{first.offset, next.offset} : offsets{first.offset, missed.offset, next.offset};
    EXPECT_EQ(got, expected);
}

TYPED_TEST(backplane_contract, a_pattern_brings_every_topic_it_matches_once_in_offset_order)
{
    this->make();
    ASSERT_TRUE(this->bp().delivers_patterns());
    auto const before = this->publish("p.old");  // a topic older than the pattern: only later messages come
    ASSERT_TRUE(this->subscribe_pattern("p.*"));
    ASSERT_TRUE(this->subscribe_pattern("p.>"));  // overlapping (on Redis, the same glob)
    this->subscribe("p.both");                    // held exactly too: Redis and NATS send it twice
    std::vector<position> both;
    for (int i = 0; i < 3; ++i)
        both.push_back(this->publish("p.both", std::to_string(i)));
    auto const old = this->publish("p.old");
    auto const fresh = this->publish("p.new");  // made after the pattern
    auto const deep = this->publish("p.a.b");   // p.> only
    auto const other = this->publish("q.x");    // no pattern
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->delivered_of("p.a.b").empty(); }, 10s));
    run_for(this->ioc_, 100ms);  // a duplicate would show now
    EXPECT_EQ(offsets_of(this->delivered_of("p.both")), (offsets{1, 2, 3}));
    EXPECT_EQ(this->delivered_of("p.both").back()->where(), both.back());
    EXPECT_EQ(this->delivered_of("p.both")[1]->data(), "1");
    auto const older = this->delivered_of("p.old");
    ASSERT_FALSE(older.empty());
    EXPECT_EQ(older.back()->where(), old);
    if (this->kind_->listening("p.old")) {  // a broker-backed backplane: only what came after the pattern
        EXPECT_EQ(offsets_of(older), (offsets{before.offset + 1}));
        EXPECT_TRUE(this->delivered_of("q.x").empty()) << "a topic no pattern matches";
    }
    EXPECT_EQ(offsets_of(this->delivered_of("p.new")), (offsets{fresh.offset}));
    EXPECT_EQ(offsets_of(this->delivered_of("p.a.b")), (offsets{deep.offset}));
    (void)other;
}

TYPED_TEST(backplane_contract, a_pattern_is_delivered_no_further_than_it_matches_and_stops_when_unsubscribed)
{
    this->make();
    bool const filters = this->kind_->listening("x").has_value();
    ASSERT_TRUE(this->subscribe_pattern("a.*"));
    this->publish("a.b.c");  // Redis' glob "a.*" covers it; the pattern does not
    this->publish("a.b");
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->delivered_of("a.b").empty(); }, 10s));
    if (filters) {
        EXPECT_TRUE(this->delivered_of("a.b.c").empty()) << "a topic the pattern does not match";
    }
    this->bp().unsubscribe_pattern("a.*");
    this->bp().unsubscribe_pattern("a.*");  // harmless
    this->bp().unsubscribe_pattern("never.*");
    if (filters) {  // the broker stops sending: by the time a subscription made after it holds, it has stopped
        ASSERT_TRUE(this->subscribe_pattern("z.*"));
        this->publish("a.b");
        this->publish("z.z");
        ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->delivered_of("z.z").empty(); }, 10s));
        run_for(this->ioc_, 50ms);
        EXPECT_EQ(this->delivered_of("a.b").size(), 1u) << "an unsubscribed pattern's topic was delivered";
    }
    ASSERT_TRUE(this->subscribe_pattern("a.*"));  // again: from the next publish on
    auto const next = this->publish("a.b");
    ASSERT_TRUE(run_until(this->ioc_, [&] { return this->delivered_of("a.b").back()->where() == next; }, 10s));
}

TYPED_TEST(backplane_contract, a_pattern_comes_back_with_its_broker_and_its_gap_is_reported)
{
    this->make();
    std::vector<std::string> gaps;
    this->bp().set_gap([&](std::string const& t) { gaps.push_back(t); });
    ASSERT_TRUE(this->subscribe_pattern("r.*"));
    auto const first = this->publish("r.known");
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->delivered_of("r.known").empty(); }, 10s));
    if (!this->kind_->break_broker())
        GTEST_SKIP() << TypeParam::name << " has no broker to lose";
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->kind_->ready(); }, 10s)) << "connected() never fell";
    this->kind_->mend_broker();
    ASSERT_TRUE(run_until(this->ioc_, [&] { return this->kind_->ready(); }, 10s)) << "never reconnected";
    // The subscription comes back by itself: ready as soon as the broker has it again.
    ASSERT_TRUE(run_until(this->ioc_, [&] { return this->pattern_ready("r.*"); }, 10s));
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !gaps.empty(); }, 10s));
    for (auto const& g : gaps)  // the pattern, not r.known: that one read what it missed
        EXPECT_EQ(g, "r.*") << "the pattern may have missed topics it never saw";
    auto const again = this->publish("r.known");
    auto const fresh = this->publish("r.fresh");
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->delivered_of("r.fresh").empty(); }, 10s));
    run_for(this->ioc_, 50ms);
    EXPECT_EQ(offsets_of(this->delivered_of("r.known")), (offsets{first.offset, again.offset}));
    EXPECT_EQ(offsets_of(this->delivered_of("r.fresh")), (offsets{fresh.offset}));
}

TYPED_TEST(backplane_contract, a_publish_the_backplane_cannot_take_fails_and_assigns_nothing)
{
    this->make();
    auto const before = this->publish("t");
    if (!this->kind_->break_broker())
        GTEST_SKIP() << TypeParam::name << " has no broker to lose";
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->kind_->ready(); }, 10s)) << "connected() never fell";
    auto const refused = this->try_publish("t");
    EXPECT_EQ(refused.ec, make_error_code(error::backplane_unavailable));
    std::optional<boost::system::error_code> history_error;
    this->bp().history("t", before, backplane::whole_history,
                       [&](boost::system::error_code ec, history_result) { history_error = ec; });
    ASSERT_TRUE(run_until(this->ioc_, [&] { return history_error.has_value(); }, 10s));
    EXPECT_EQ(*history_error, make_error_code(error::backplane_unavailable));

    this->kind_->mend_broker();
    ASSERT_TRUE(run_until(this->ioc_, [&] { return this->kind_->ready(); }, 10s)) << "never reconnected";
    // Connected is not yet able to store: a NATS server just started may answer its first publishes with
    // "no responders" while JetStream recovers its streams. Those fail the same way and take no offset either.
    auto const deadline = std::chrono::steady_clock::now() + 10s;
    auto after = this->try_publish("t");
    while (after.ec == make_error_code(error::backplane_unavailable) && std::chrono::steady_clock::now() < deadline) {
        run_for(this->ioc_, 20ms);
        after = this->try_publish("t");
    }
    ASSERT_FALSE(after.ec) << after.ec.message();
    EXPECT_EQ(after.where, (position{before.offset + 1, before.epoch}));  // the refused ones took no offset
}

std::vector<std::string> names_of(std::vector<message_ptr> const& messages)
{
    std::vector<std::string> out;
    for (auto const& m : messages)
        out.push_back(m->topic() + "#" + std::to_string(m->offset()));
    return out;
}

// ---- idempotent publish ----

publish_options keyed(std::string key)
{
    return {std::move(key)};
}

TYPED_TEST(backplane_contract, a_retry_with_the_same_idempotency_key_gets_the_first_position_and_is_delivered_once)
{
    this->make();
    this->subscribe("t");
    auto const first = this->publish("t", "\"first\"", keyed("order-17"));
    EXPECT_EQ(first.offset, 1u);
    // Retried: the same answer, whatever the retry carries; nothing stored or sent.
    EXPECT_EQ(this->publish("t", "\"first\"", keyed("order-17")), first);
    EXPECT_EQ(this->publish("t", "\"other data\"", keyed("order-17")), first);

    // Two more sent at once, before the first of them is answered (a retry while the first is in flight).
    std::vector<position> answers;
    for (int i = 0; i < 2; ++i)
        this->bp().publish("t", "\"again\"", keyed("order-18"), [&](boost::system::error_code ec, position p) {
            EXPECT_FALSE(ec) << ec.message();
            answers.push_back(std::move(p));
        });
    ASSERT_TRUE(run_until(this->ioc_, [&] { return answers.size() == 2; }, 10s));
    EXPECT_EQ(answers[0], (position{2, first.epoch}));
    EXPECT_EQ(answers[1], answers[0]);

    auto const last = this->publish("t", "\"last\"");  // no key: a new message
    EXPECT_EQ(last, (position{3, first.epoch}));
    ASSERT_TRUE(run_until(this->ioc_, [&] { return this->delivered_of("t").size() >= 3; }, 10s));
    auto const h = this->history("t", position{0, first.epoch});
    EXPECT_EQ(offsets_of(h.messages), (offsets{1, 2, 3}));
    EXPECT_EQ(h.messages[0]->data(), "\"first\"");
    EXPECT_EQ(h.messages[1]->data(), "\"again\"");
    // Once each: the last message delivered means nothing of the retries is still on its way.
    EXPECT_EQ(offsets_of(this->delivered_of("t")), (offsets{1, 2, 3}));
}

TYPED_TEST(backplane_contract, another_idempotency_key_or_topic_publishes)
{
    this->make();
    auto const a = this->publish("t", "1", keyed("k1"));
    EXPECT_EQ(this->publish("t", "2", keyed("k2")), (position{2, a.epoch}));
    EXPECT_EQ(this->publish("u", "3", keyed("k1")).offset, 1u);  // keys are scoped per topic
    EXPECT_EQ(this->publish("t", "4", keyed("K1")), (position{3, a.epoch}));  // compared byte for byte
    EXPECT_EQ(this->publish("t", "1", keyed("k1")), a);
}

TYPED_TEST(backplane_contract, an_idempotency_key_publishes_again_after_the_window)
{
    history_options h;
    h.idempotency_window = 500ms;
    this->make(h);
    auto const started = std::chrono::steady_clock::now();
    auto const first = this->publish("t", "1", keyed("k"));
    // Retried every 20 ms (a client's back-off) until it publishes: within the window every retry gets the first
    // answer.
    auto next = first;
    for (auto const deadline = started + 20s; next == first && std::chrono::steady_clock::now() < deadline;) {
        boost::asio::steady_timer backoff(this->ioc_, 20ms);
        bool waited = false;
        backoff.async_wait([&](boost::system::error_code) { waited = true; });
        ASSERT_TRUE(run_until(this->ioc_, [&] { return waited; }, 5s));
        next = this->publish("t", "1", keyed("k"));
    }
    EXPECT_GE(std::chrono::steady_clock::now() - started, 500ms);
    EXPECT_EQ(next, (position{2, first.epoch}));
    EXPECT_EQ(this->publish("t", "1", keyed("k")), next);  // remembered again, from its new publish
}

TYPED_TEST(backplane_contract, the_memory_backplane_remembers_at_most_max_idempotency_keys_oldest_forgotten_first)
{
    if (!TypeParam::bounds_idempotency_keys)
        GTEST_SKIP() << "held in the broker for the window (docs/scaling.md)";
    history_options h;
    h.max_idempotency_keys = 3;
    this->make(h);
    for (int i = 1; i <= 4; ++i)
        EXPECT_EQ(this->publish("t", "1", keyed("k" + std::to_string(i))).offset, static_cast<std::uint64_t>(i));
    EXPECT_EQ(this->publish("t", "1", keyed("k4")).offset, 4u);  // remembered
    EXPECT_EQ(this->publish("t", "1", keyed("k1")).offset, 5u);  // the oldest, forgotten: published again

    // A flood of unique keys holds no more than the bound.
    for (int i = 0; i < 5'000; ++i)
        this->publish("flood", "1", keyed("f" + std::to_string(i)));
    if constexpr (requires { this->kind_->backplane.idempotency_key_count(); }) {
        EXPECT_LE(this->kind_->backplane.idempotency_key_count(), 3u);
    }
    EXPECT_EQ(this->publish("flood", "1", keyed("f4999")).offset, 5'000u);  // the newest are the ones kept
}

TYPED_TEST(backplane_contract, a_pattern_history_is_every_later_message_of_its_topics_in_sequence_order)
{
    this->make();
    this->publish("h.a", "0");  // before: not asked for
    auto const start = this->sequence_now("h.*");
    EXPECT_FALSE(start.epoch.empty());
    this->publish("h.a", "1");
    this->publish("x.y");       // not matched
    this->publish("h.b", "{\n \"b\": [1, 2] }");
    this->publish("h.a", "2");
    this->publish("h.new", "3");  // a topic made after `start`
    this->publish("h.a.deep");  // h.* does not match it

    auto r = this->pattern_history("h.*", start);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_TRUE(r.result.recovered);
    EXPECT_TRUE(r.result.lost.empty());
    EXPECT_FALSE(r.result.more);
    EXPECT_EQ(names_of(r.result.messages), (std::vector<std::string>{"h.a#2", "h.b#1", "h.a#3", "h.new#1"}));
    ASSERT_EQ(r.result.messages.size(), 4u);
    EXPECT_EQ(r.result.messages[1]->data(), "{\n \"b\": [1, 2] }");  // byte for byte
    std::uint64_t previous = start.offset;
    for (auto const& m : r.result.messages) {
        EXPECT_GT(m->sequence(), previous) << m->topic();
        previous = m->sequence();
    }
    EXPECT_EQ(r.result.latest.epoch, start.epoch);
    EXPECT_GT(r.result.latest.offset, previous) << "h.a.deep came after";

    // From the middle: the rest only. From the latest: nothing.
    auto const middle = this->pattern_history("h.*", position{r.result.messages[1]->sequence(), start.epoch});
    EXPECT_EQ(names_of(middle.result.messages), (std::vector<std::string>{"h.a#3", "h.new#1"}));
    EXPECT_TRUE(middle.result.recovered);
    auto const none = this->pattern_history("h.*", r.result.latest);
    EXPECT_TRUE(none.result.messages.empty());
    EXPECT_TRUE(none.result.recovered);
    // A wider pattern gets the deeper topic too.
    auto const wide = this->pattern_history("h.>", start);
    EXPECT_EQ(names_of(wide.result.messages),
              (std::vector<std::string>{"h.a#2", "h.b#1", "h.a#3", "h.new#1", "h.a.deep#1"}));
}

TYPED_TEST(backplane_contract, live_messages_carry_the_sequence_history_gives_them)
{
    this->make();
    ASSERT_TRUE(this->subscribe_pattern("s.*"));
    auto const start = this->sequence_now("s.*");
    this->publish("s.a", "1");
    this->publish("s.b", "2");
    ASSERT_TRUE(run_until(this->ioc_, [&] { return !this->delivered_of("s.b").empty(); }, 10s));
    auto const r = this->pattern_history("s.*", start);
    ASSERT_EQ(r.result.messages.size(), 2u);
    EXPECT_EQ(this->delivered_of("s.a").at(0)->sequence(), r.result.messages[0]->sequence());
    EXPECT_EQ(this->delivered_of("s.b").at(0)->sequence(), r.result.messages[1]->sequence());
    EXPECT_NE(r.result.messages[0]->sequence(), 0u);
}

TYPED_TEST(backplane_contract, a_pattern_history_page_is_bounded_by_max_bytes_and_pages_read_on)
{
    this->make();
    auto const start = this->sequence_now("g.*");
    std::string const data = "\"" + std::string(100, 'x') + "\"";
    std::vector<std::string> all;
    for (int i = 0; i < 9; ++i) {
        auto const topic = "g." + std::to_string(i % 3);
        all.push_back(topic + "#" + std::to_string(this->publish(topic, data).offset));
    }
    for (std::size_t max_bytes : {std::size_t{1}, std::size_t{300}, std::size_t{1000}}) {
        SCOPED_TRACE("max_bytes " + std::to_string(max_bytes));
        std::vector<std::string> got;
        position from = start;
        for (int i = 0; i < 20; ++i) {  // bounded: 9 messages, at least one a page
            auto const page = this->pattern_history("g.*", from, max_bytes);
            ASSERT_FALSE(page.ec);
            ASSERT_FALSE(page.result.messages.empty()) << "a page holds its first message whatever its size";
            std::size_t bytes = 0;
            for (auto const& m : page.result.messages)
                bytes += m->envelope()->size();
            if (page.result.messages.size() > 1) {
                EXPECT_LE(bytes, max_bytes);
            }
            auto const names = names_of(page.result.messages);
            got.insert(got.end(), names.begin(), names.end());
            from = {page.result.messages.back()->sequence(), start.epoch};
            if (!page.result.more)
                break;
        }
        EXPECT_EQ(got, all);
    }
}

TYPED_TEST(backplane_contract, a_pattern_history_names_the_topics_whose_messages_are_gone)
{
    history_options h;
    h.limits.max_messages = 2;
    h.overrides.push_back({"k.live", {0, 300s}});  // keeps no history
    this->make(h);
    auto const start = this->sequence_now("k.*");
    for (int i = 0; i < 4; ++i)
        this->publish("k.trimmed", std::to_string(i));
    this->publish("k.whole");
    this->publish("k.live");
    auto const r = this->pattern_history("k.*", start);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_FALSE(r.result.recovered);
    auto lost = r.result.lost;
    std::sort(lost.begin(), lost.end());
    EXPECT_EQ(lost, (std::vector<std::string>{"k.live", "k.trimmed"}));
    EXPECT_EQ(names_of(r.result.messages), (std::vector<std::string>{"k.trimmed#3", "k.trimmed#4", "k.whole#1"}));
    // From a message still held: k.trimmed lost nothing after it, but k.live did.
    auto const from_third = this->pattern_history("k.*", position{r.result.messages[0]->sequence(), start.epoch});
    EXPECT_EQ(names_of(from_third.result.messages), (std::vector<std::string>{"k.trimmed#4", "k.whole#1"}));
    EXPECT_EQ(from_third.result.lost, (std::vector<std::string>{"k.live"}));
}

TYPED_TEST(backplane_contract, a_pattern_history_from_another_epoch_is_not_recovered)
{
    this->make();
    this->sequence_now("e.*");
    this->publish("e.a");
    auto const r = this->pattern_history("e.*", position{1, "otherepoch"});
    ASSERT_FALSE(r.ec);
    EXPECT_FALSE(r.result.recovered);
    EXPECT_TRUE(r.result.messages.empty());
    auto const everything = this->pattern_history("e.*", position{0, ""});  // no epoch, from 0: all retained
    EXPECT_TRUE(everything.result.recovered);
    EXPECT_EQ(names_of(everything.result.messages), (std::vector<std::string>{"e.a#1"}));
}

TYPED_TEST(backplane_contract, a_pattern_history_over_more_topics_than_asked_is_refused)
{
    this->make();
    auto const start = this->sequence_now("m.*");
    for (auto const* topic : {"m.a", "m.b", "m.c", "n.d"})
        this->publish(topic);
    EXPECT_EQ(this->pattern_history("m.*", start, backplane::whole_history, 2).ec,
              make_error_code(error::too_many_topics));
    auto const r = this->pattern_history("m.*", start, backplane::whole_history, 3);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.result.messages.size(), 3u);
}

// The bound on the topics a node follows through patterns (redis_options / nats_options::max_pattern_topics):
// past it the least recently seen topic is forgotten, and its next message starts it again, nothing lost.
template <class Backplane, class Broker, class Options>
void pattern_topics_are_bounded(Broker& broker, Options options)
{
    boost::asio::io_context ioc;
    options.url = broker.url();
    options.max_pattern_topics = 2;
    Backplane bp(ioc.get_executor(), options);
    std::vector<message_ptr> got;
    bp.set_delivery([&](message_ptr const& m) { got.push_back(m); });
    ASSERT_TRUE(run_until(ioc, [&] { return bp.connected(); }, 10s));
    bp.subscribe_pattern("b.*");
    std::optional<boost::system::error_code> ready;
    bp.pattern_ready("b.*", [&](boost::system::error_code ec) { ready = ec; });
    ASSERT_TRUE(run_until(ioc, [&] { return ready.has_value(); }, 10s));
    ASSERT_FALSE(*ready);
    std::vector<std::string> sent;
    for (auto const* topic : {"b.1", "b.2", "b.3", "b.1", "b.3"}) {
        std::optional<boost::system::error_code> done;
        bp.publish(topic, "null", [&](boost::system::error_code ec, position) { done = ec; });
        ASSERT_TRUE(run_until(ioc, [&] { return done.has_value(); }, 10s));
        ASSERT_FALSE(*done);
        sent.push_back(topic);
        ASSERT_TRUE(run_until(ioc, [&] { return got.size() == sent.size(); }, 10s)) << topic;
        EXPECT_LE(bp.pattern_topics(), 2u);
    }
    std::vector<std::string> topics;
    for (auto const& m : got)
        topics.push_back(m->topic() + "#" + std::to_string(m->offset()));
    EXPECT_EQ(topics, (std::vector<std::string>{"b.1#1", "b.2#1", "b.3#1", "b.1#2", "b.3#2"}));
    EXPECT_EQ(bp.pattern_topics(), 2u);
    bp.close();
    ioc.run_for(1s);
}

TEST(pattern_topics, redis_follows_at_most_max_pattern_topics)
{
    redis_process redis;
    pattern_topics_are_bounded<redis_backplane>(redis, redis_options{});
}

TEST(pattern_topics, nats_follows_at_most_max_pattern_topics)
{
    nats_process nats;
    pattern_topics_are_bounded<nats_backplane>(nats, nats_options{});
}

// Presence (presence.hpp): a backplane that keeps it (supports_presence) hands every node each join and leave
// once, in order, keeps the members in client id order for paged snapshots whose cursor survives churn, counts
// clients and distinct users, and refuses a join past max_members; one that does not answers every presence call
// presence_unavailable, never a silent empty answer.
namespace presence_contract {

presence_member member(std::string client, std::string user = {}, std::string info = "null")
{
    return {std::move(client), std::move(user), std::move(info)};
}

std::string id(int n)
{
    auto s = std::to_string(n);
    return std::string(32 - s.size(), '0') + s;
}

}  // namespace presence_contract

TYPED_TEST(backplane_contract, presence_joins_and_leaves_reach_this_node_once_and_in_order_or_are_unavailable)
{
    using namespace presence_contract;
    auto& bp = this->make();
    std::vector<presence_event_ptr> events;
    bp.set_presence_delivery([&](presence_event_ptr const& e) { events.push_back(e); });
    auto join = [&](presence_member m, std::size_t max = 100) {
        std::optional<boost::system::error_code> out;
        bp.presence_join("room", std::move(m), max, [&](boost::system::error_code ec) { out = ec; });
        EXPECT_TRUE(run_until(this->ioc_, [&] { return out.has_value(); }, 10s)) << "presence_join never answered";
        return out.value_or(make_error_code(error::backplane_unavailable));
    };
    if (!bp.supports_presence()) {
        EXPECT_EQ(join(member(id(1))), error::presence_unavailable);
        std::optional<boost::system::error_code> page_ec, stats_ec;
        bp.presence_members("room", {}, 10, [&](boost::system::error_code ec, presence_page) { page_ec = ec; });
        bp.presence_stats("room", [&](boost::system::error_code ec, presence_counts) { stats_ec = ec; });
        ASSERT_TRUE(run_until(this->ioc_, [&] { return page_ec && stats_ec; }, 10s));
        EXPECT_EQ(*page_ec, error::presence_unavailable);
        EXPECT_EQ(*stats_ec, error::presence_unavailable);
        bp.presence_leave("room", id(1));
        EXPECT_TRUE(events.empty());
        return;
    }
    // Subscribed, as the node's hub is once a member's channel subscribes: the loop cluster hands a topic's
    // presence events to its subscribed nodes only (Redis and NATS to every node).
    bp.subscribe("room");
    EXPECT_FALSE(join(member(id(1), "ann", R"({"name":"Ann"})")));
    EXPECT_FALSE(join(member(id(2), "bob")));
    EXPECT_FALSE(join(member(id(1), "ann")));  // present already: no event
    bp.presence_leave("room", id(2));
    bp.presence_leave("room", id(2));  // gone already: no event
    bp.presence_leave("room", id(9));  // never there: no event
    ASSERT_TRUE(run_until(this->ioc_, [&] { return events.size() >= 3; }, 10s));
    this->ioc_.poll();
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(*events[0]->envelope(),
              R"({"type":"join","topic":"room","client":")" + id(1) + R"(","user":"ann","info":{"name":"Ann"}})");
    EXPECT_EQ(events[1]->type(), presence_event::kind::join);
    EXPECT_EQ(events[1]->member().client, id(2));
    EXPECT_EQ(*events[2]->envelope(),
              R"({"type":"leave","topic":"room","client":")" + id(2) + R"(","user":"bob","info":null})");
}

TYPED_TEST(backplane_contract, presence_members_come_in_pages_in_client_order_and_counts_are_distinct_users)
{
    using namespace presence_contract;
    auto& bp = this->make();
    if (!bp.supports_presence())
        GTEST_SKIP() << "no presence here: the test above checks it says so";
    constexpr int members = 2000;
    std::optional<boost::system::error_code> last;
    for (int n = members; n >= 1; --n)  // joined in reverse: pages follow client ids, not arrival
        bp.presence_join("big", member(id(n), n % 2 ? "" : "user" + std::to_string(n % 10)), members,
                         [&](boost::system::error_code ec) { last = ec; });
    ASSERT_TRUE(run_until(this->ioc_, [&] { return last.has_value(); }, 10s));
    ASSERT_FALSE(*last);
    std::optional<boost::system::error_code> refused;
    bp.presence_join("big", member(id(members + 1)), members, [&](boost::system::error_code ec) { refused = ec; });
    ASSERT_TRUE(run_until(this->ioc_, [&] { return refused.has_value(); }, 10s));
    EXPECT_EQ(*refused, error::too_many_members);

    auto read = [&](std::string const& after, std::size_t limit) {
        std::optional<presence_page> out;
        bp.presence_members("big", after, limit, [&](boost::system::error_code ec, presence_page p) {
            EXPECT_FALSE(ec);
            out = std::move(p);
        });
        EXPECT_TRUE(run_until(this->ioc_, [&] { return out.has_value(); }, 10s));
        return out.value_or(presence_page{});
    };
    std::vector<std::string> seen;
    std::string cursor;
    int pages = 0;
    do {
        auto page = read(cursor, 300);
        EXPECT_LE(page.members.size(), 300u);
        for (auto const& m : page.members)
            seen.push_back(m.client);
        if (++pages == 2)
            bp.presence_leave("big", id(1));  // churn behind the cursor changes nothing ahead of it
        cursor = page.next;
    } while (!cursor.empty() && pages < 100);
    ASSERT_EQ(seen.size(), std::size_t{members});
    for (int n = 1; n <= members; ++n)
        EXPECT_EQ(seen[n - 1], id(n));

    std::optional<presence_counts> counts;
    bp.presence_stats("big", [&](boost::system::error_code ec, presence_counts c) {
        EXPECT_FALSE(ec);
        counts = c;
    });
    ASSERT_TRUE(run_until(this->ioc_, [&] { return counts.has_value(); }, 10s));
    EXPECT_EQ(counts->clients, std::size_t{members - 1});
    EXPECT_EQ(counts->users, std::size_t{members / 2 - 1 + 5});  // 999 anonymous left, user0..user8 (even)
    auto const none = read({}, 10);
    EXPECT_EQ(none.members.size(), 10u);
    bool empty_topic_answered = false;
    bp.presence_members("nobody.here", {}, 10, [&](boost::system::error_code ec, presence_page p) {
        EXPECT_FALSE(ec);
        EXPECT_TRUE(p.members.empty());
        EXPECT_TRUE(p.next.empty());
        empty_topic_answered = true;
    });
    EXPECT_TRUE(run_until(this->ioc_, [&] { return empty_topic_answered; }, 10s));
}

}  // namespace
}  // namespace switchboard::test
