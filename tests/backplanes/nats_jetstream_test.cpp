// The JetStream design, against a real nats-server -js started per test: nodes (jetstream_backplane, each with its
// own connection) publish with acknowledgement and get contiguous offsets, one sequence per topic whoever
// publishes; history is read after a position; per-topic limits hold; a server killed and restarted keeps
// history; publishes during the outage fail at once; a node back from an outage reads what it missed, or reports
// the gap; a server that lost its store starts new epochs; a publish JetStream refuses reaches nobody; the
// backplane's sequence is the stream's, shared by every node, and a pattern's history reads it with the stream's
// subject filters (direct gets, then a consumer), names what is gone and counts topics past its page.

#include "backplanes/nats/jetstream_backplane.hpp"
#include "support/nats_process.hpp"
#include "support/run_until.hpp"

#include <switchboard/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace switchboard::nats {
namespace {

using namespace std::chrono_literals;
using test::nats_process;
using test::run_for;
using test::run_until;
using json = nlohmann::json;

// One switchboard node: a backplane on its own connection, what it delivered and the gaps it reported.
struct node {
    node(boost::asio::io_context& ioc, nats_process const& server, history_options history = {},
         std::chrono::milliseconds reconnect_wait = 50ms, jetstream_options options = {})
        : bp(ioc.get_executor(), link(server, reconnect_wait), std::move(options), std::move(history))
    {
        bp.set_delivery([this](message_ptr const& m) { got[m->topic()].push_back(m); });
        bp.set_gap([this](std::string const& topic) { gaps.push_back(topic); });
    }

    static link_options link(nats_process const& server, std::chrono::milliseconds reconnect_wait)
    {
        link_options o;
        o.url = server.url();
        o.reconnect_wait = reconnect_wait;
        o.reconnect_jitter = 10ms;
        o.request_timeout = 10s;  // a busy 2-core machine
        return o;
    }

    std::vector<std::uint64_t> offsets(std::string const& topic) const
    {
        std::vector<std::uint64_t> out;
        if (auto it = got.find(topic); it != got.end())
            for (auto const& m : it->second)
                out.push_back(m->offset());
        return out;
    }

    jetstream_backplane bp;
    std::map<std::string, std::vector<message_ptr>> got;
    std::vector<std::string> gaps;
};

std::vector<std::uint64_t> one_to(std::uint64_t first, std::uint64_t last)
{
    std::vector<std::uint64_t> out;
    for (auto i = first; i <= last; ++i)
        out.push_back(i);
    return out;
}

std::vector<std::uint64_t> offsets_of(history_result const& r)
{
    std::vector<std::uint64_t> out;
    for (auto const& m : r.messages)
        out.push_back(m->offset());
    return out;
}

class nats_jetstream : public ::testing::Test {
protected:
    bool ready(node& n, bool up = true) { return run_until(ioc, [&] { return n.bp.connected() == up; }, 30s); }

    /// Publishes and runs the loop until the answer.
    std::pair<boost::system::error_code, position> publish(node& n, std::string const& topic, std::string data)
    {
        std::optional<std::pair<boost::system::error_code, position>> out;
        n.bp.publish(topic, std::move(data), [&](boost::system::error_code ec, position p) { out.emplace(ec, p); });
        EXPECT_TRUE(run_until(ioc, [&] { return out.has_value(); }, 30s));
        return out.value_or(std::pair{make_error_code(nats_error::timed_out), position{}});
    }

    std::pair<boost::system::error_code, history_result> history(node& n, std::string const& topic,
                                                                  std::optional<position> since)
    {
        std::optional<std::pair<boost::system::error_code, history_result>> out;
        n.bp.history(topic, since, backplane::whole_history, [&](boost::system::error_code ec, history_result r) { out.emplace(ec, std::move(r)); });
        EXPECT_TRUE(run_until(ioc, [&] { return out.has_value(); }, 30s));
        return out ? std::move(*out) : std::pair{make_error_code(nats_error::timed_out), history_result{}};
    }

    std::pair<boost::system::error_code, pattern_history_result> pattern_history(
        node& n, std::string const& pattern, std::optional<position> since,
        std::size_t max_bytes = backplane::whole_history, std::size_t max_topics = 1000)
    {
        std::optional<std::pair<boost::system::error_code, pattern_history_result>> out;
        n.bp.pattern_history(pattern, since, max_bytes, max_topics,
                             [&](boost::system::error_code ec, pattern_history_result r) { out.emplace(ec, std::move(r)); });
        EXPECT_TRUE(run_until(ioc, [&] { return out.has_value(); }, 30s));
        return out ? std::move(*out) : std::pair{make_error_code(nats_error::timed_out), pattern_history_result{}};
    }

    /// The stream's info (its state: consumer_count, first_seq...).
    json stream_info(node& n)
    {
        std::optional<json> info;
        n.bp.link().request("$JS.API.STREAM.INFO.switchboard", "", {}, [&](boost::system::error_code ec, natsMsg* m) {
            info = ec ? json() : json::parse(msg_data(m), nullptr, false);
        });
        run_until(ioc, [&] { return info.has_value(); }, 30s);
        return info.value_or(json());
    }

    nats_process server;
    boost::asio::io_context ioc;
};

/// The position of the message alone in the k-th record after `start` (a pattern's position: a sequence).
position record_after(position const& start, std::uint64_t k)
{
    return {message_sequence(record_of(start.offset) + k, 0), start.epoch};
}

std::vector<std::string> names_of(std::vector<message_ptr> const& messages)
{
    std::vector<std::string> out;
    for (auto const& m : messages)
        out.push_back(m->topic() + "#" + std::string(m->data()));
    return out;
}

TEST_F(nats_jetstream, the_stream_is_made_as_designed)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n)) << server.output();
    std::optional<json> info;
    n.bp.link().request("$JS.API.STREAM.INFO.switchboard", "", {}, [&](boost::system::error_code ec, natsMsg* m) {
        ASSERT_FALSE(ec);
        info = json::parse(msg_data(m));
    });
    ASSERT_TRUE(run_until(ioc, [&] { return info.has_value(); }, 30s));
    auto const& config = (*info)["config"];
    EXPECT_EQ(config["subjects"], json::array({"switchboard.topic.>"}));
    EXPECT_EQ(config["storage"], "file");
    EXPECT_EQ(config["allow_direct"], true);
    EXPECT_EQ(config["max_msgs_per_subject"], 10'000);
    EXPECT_EQ(config["max_age"], 86'400'000'000'000LL);
    EXPECT_EQ(config["republish"]["src"], "switchboard.topic.>");
    EXPECT_EQ(config["republish"]["dest"], "switchboard.live.>");
}

TEST_F(nats_jetstream, publishes_get_contiguous_offsets_and_history_reads_after_a_position)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n)) << server.output();
    std::string epoch;
    // Queued all at once: the node sends a topic's publishes one after the other, in order.
    std::vector<std::optional<position>> acks(20);
    for (int i = 0; i < 20; ++i)
        n.bp.publish("feed", json{{"n", i}}.dump(), [&acks, i](boost::system::error_code ec, position p) {
            EXPECT_FALSE(ec) << ec.message();
            acks[static_cast<std::size_t>(i)] = p;
        });
    ASSERT_TRUE(run_until(ioc, [&] { return std::all_of(acks.begin(), acks.end(), [](auto& a) { return a.has_value(); }); }, 30s));
    for (std::size_t i = 0; i < acks.size(); ++i) {
        EXPECT_EQ(acks[i]->offset, i + 1);
        EXPECT_EQ(acks[i]->epoch, acks[0]->epoch);
    }
    epoch = acks[0]->epoch;
    EXPECT_EQ(epoch.size(), 8u);

    auto [ec, after5] = history(n, "feed", position{5, epoch});
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_TRUE(after5.recovered);
    EXPECT_EQ(after5.latest, (position{20, epoch}));
    EXPECT_EQ(offsets_of(after5), one_to(6, 20));
    for (auto const& m : after5.messages)
        EXPECT_EQ(json::parse(m->data())["n"], m->offset() - 1);

    auto [ec0, all] = history(n, "feed", position{0, ""});  // from the first message, whatever its epoch
    EXPECT_TRUE(all.recovered);
    EXPECT_EQ(offsets_of(all), one_to(1, 20));

    auto [ec1, now] = history(n, "feed", std::nullopt);  // the position only
    EXPECT_TRUE(now.messages.empty());
    EXPECT_EQ(now.latest, (position{20, epoch}));

    EXPECT_TRUE(history(n, "feed", position{20, epoch}).second.recovered);  // nothing missed
    EXPECT_FALSE(history(n, "feed", position{25, epoch}).second.recovered);  // from the future
    EXPECT_FALSE(history(n, "feed", position{3, "another"}).second.recovered);  // another epoch

    auto [ec2, empty] = history(n, "never.published", position{0, ""});
    EXPECT_FALSE(ec2);
    EXPECT_TRUE(empty.recovered);
    EXPECT_EQ(empty.latest.offset, 0u);  // its epoch is given at this first read (a marker, offset 0) ...
    EXPECT_EQ(empty.latest.epoch.size(), 8u);
    EXPECT_EQ(history(n, "never.published", std::nullopt).second.latest, empty.latest);  // ... once
    std::optional<position> first;
    n.bp.publish("never.published", "1", [&](boost::system::error_code, position p) { first = p; });
    ASSERT_TRUE(run_until(ioc, [&] { return first.has_value(); }, 30s));
    EXPECT_EQ(*first, (position{1, empty.latest.epoch}));  // ... and the first publish continues it
    EXPECT_EQ(offsets_of(history(n, "never.published", empty.latest).second), one_to(1, 1));  // no marker in it
}

TEST_F(nats_jetstream, nodes_publishing_one_topic_share_one_sequence)
{
    node a(ioc, server), b(ioc, server), c(ioc, server);
    for (auto* n : {&a, &b, &c})
        ASSERT_TRUE(ready(*n)) << server.output();
    // Every node follows the topic; all three publish at once, each its own numbered messages.
    for (auto* n : {&a, &b, &c}) {
        n->bp.subscribe("shared");
        ASSERT_FALSE(history(*n, "shared", std::nullopt).first);  // the join: the node's stream starts here
    }
    constexpr int per_node = 60;
    std::map<std::string, std::vector<std::uint64_t>> acked;  // node -> offsets in its publish order
    int answered = 0;
    for (int i = 0; i < per_node; ++i)
        for (auto [n, name] : {std::pair{&a, "a"}, std::pair{&b, "b"}, std::pair{&c, "c"}})
            n->bp.publish("shared", json{{"from", name}, {"i", i}}.dump(),
                          [&, name = std::string(name)](boost::system::error_code ec, position p) {
                              EXPECT_FALSE(ec) << ec.message();
                              acked[name].push_back(p.offset);
                              ++answered;
                          });
    ASSERT_TRUE(run_until(ioc, [&] { return answered == 3 * per_node; }, 60s));

    std::set<std::uint64_t> all;
    for (auto& [name, offsets] : acked) {
        EXPECT_TRUE(std::is_sorted(offsets.begin(), offsets.end())) << name;  // a node's own order is kept
        all.insert(offsets.begin(), offsets.end());
    }
    EXPECT_EQ(all.size(), 3u * per_node);  // no offset given twice
    EXPECT_EQ(*all.begin(), 1u);
    EXPECT_EQ(*all.rbegin(), 3u * per_node);  // none skipped

    // Every node delivered the same messages in the same order with the same offsets.
    ASSERT_TRUE(run_until(ioc, [&] {
        return a.got["shared"].size() >= 3 * per_node && b.got["shared"].size() >= 3 * per_node &&
               c.got["shared"].size() >= 3 * per_node;
    }, 30s));
    run_for(ioc, 100ms);  // anything doubled would arrive now
    for (auto* n : {&a, &b, &c}) {
        EXPECT_EQ(n->offsets("shared"), one_to(1, 3 * per_node));
        for (std::size_t i = 0; i < n->got["shared"].size(); ++i)
            EXPECT_EQ(n->got["shared"][i]->data(), a.got["shared"][i]->data());
        EXPECT_TRUE(n->gaps.empty());
    }
}

// Publishes queued behind a topic's record in flight go in one record (group commit): one acknowledgement and
// one live message for many. Every reader splits it: live delivery on another node, history from inside a
// record (walking back and through a consumer), a pattern's history from inside a record and in pages cut
// inside one. Payloads with integers past 2^53 come back byte for byte.
TEST_F(nats_jetstream, publishes_queued_behind_one_go_in_one_record_and_every_reader_splits_it)
{
    node a(ioc, server), b(ioc, server);
    ASSERT_TRUE(ready(a));
    ASSERT_TRUE(ready(b));
    b.bp.subscribe("grouped.t");
    ASSERT_FALSE(history(b, "grouped.t", std::nullopt).first);  // b's stream of it starts here (a marker)
    auto const start = pattern_history(b, "grouped.*", std::nullopt).second.latest;
    auto const records_before = stream_info(a)["state"]["messages"].get<std::uint64_t>();

    constexpr std::size_t count = 600;
    std::vector<std::string> payloads;
    std::vector<std::optional<position>> acks(count);
    for (std::size_t i = 0; i < count; ++i) {
        payloads.push_back(R"({"n":)" + std::to_string(i) + R"(,"big":123456789012345678901234567890})");
        a.bp.publish("grouped.t", payloads.back(), [&acks, i](boost::system::error_code ec, position p) {
            EXPECT_FALSE(ec) << ec.message();
            acks[i] = p;
        });
    }
    auto const all_answered = [&] {
        return std::all_of(acks.begin(), acks.end(), [](auto& x) { return x.has_value(); });
    };
    ASSERT_TRUE(run_until(ioc, all_answered, 60s));
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_EQ(acks[i]->offset, i + 1);
        EXPECT_EQ(acks[i]->epoch, acks[0]->epoch);
    }
    // Up to max_record_messages a record (the first waits for the topic's tip, while the others queue behind it).
    auto const records = stream_info(a)["state"]["messages"].get<std::uint64_t>() - records_before;
    EXPECT_GE(records, (count + max_record_messages - 1) / max_record_messages);
    EXPECT_LE(records, 10u);

    // Live on b: each message once, in order, byte for byte, with increasing sequences.
    ASSERT_TRUE(run_until(ioc, [&] { return b.got["grouped.t"].size() >= count; }, 30s));
    auto const& live = b.got["grouped.t"];
    ASSERT_EQ(live.size(), count);
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_EQ(live[i]->data(), payloads[i]);
        EXPECT_EQ(live[i]->offset(), i + 1);
        if (i > 0) {
            EXPECT_GT(live[i]->sequence(), live[i - 1]->sequence());
        }
    }
    EXPECT_TRUE(b.gaps.empty());

    // History from anywhere, inside a record or at its edge: a walk back (the last few) or a consumer.
    for (std::uint64_t since : {0u, 1u, 2u, 100u, 255u, 256u, 257u, 590u, 599u, 600u}) {
        auto [ec, r] = history(a, "grouped.t", position{since, since == 0 ? "" : acks[0]->epoch});
        ASSERT_FALSE(ec) << since << ": " << ec.message();
        EXPECT_TRUE(r.recovered) << since;
        EXPECT_EQ(r.latest, (position{count, acks[0]->epoch}));
        ASSERT_EQ(offsets_of(r), one_to(since + 1, count)) << since;
        for (auto const& m : r.messages)
            EXPECT_EQ(m->data(), payloads[m->offset() - 1]);
    }

    // A pattern's history from inside a record: the rest of it, then the later records, with live's sequences.
    auto [ec, rest] = pattern_history(a, "grouped.*", position{live[99]->sequence(), start.epoch});
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_TRUE(rest.recovered);
    ASSERT_EQ(rest.messages.size(), count - 100);
    for (std::size_t i = 0; i < rest.messages.size(); ++i) {
        EXPECT_EQ(rest.messages[i]->data(), payloads[100 + i]);
        EXPECT_EQ(rest.messages[i]->sequence(), live[100 + i]->sequence());
    }
    // Pages of a few messages, cut inside records: each message once, in order.
    std::vector<std::string> paged;
    position from = start;
    for (int pages = 0; pages < 400; ++pages) {
        auto [ec2, page] = pattern_history(a, "grouped.*", from, 1'000);
        ASSERT_FALSE(ec2) << ec2.message();
        ASSERT_FALSE(page.messages.empty());
        EXPECT_TRUE(page.recovered);
        for (auto const& m : page.messages)
            paged.push_back(std::string(m->data()));
        from = {page.messages.back()->sequence(), start.epoch};
        if (!page.more)
            break;
    }
    EXPECT_EQ(paged, payloads);
}

// A record of several stays within what the stream takes (its max_msg_size): publishes that fit alone never
// fail for being queued together.
TEST_F(nats_jetstream, a_record_of_several_stays_within_the_streams_largest_message)
{
    jetstream_options options;
    options.max_message_size = 4096;
    node n(ioc, server, {}, 50ms, options);
    ASSERT_TRUE(ready(n));
    constexpr std::size_t count = 40;
    std::vector<std::optional<boost::system::error_code>> answers(count);
    for (std::size_t i = 0; i < count; ++i)
        n.bp.publish("sized", "\"" + std::string(1500, 'x') + "\"",
                     [&answers, i](boost::system::error_code ec, position) { answers[i] = ec; });
    auto const all_answered = [&] {
        return std::all_of(answers.begin(), answers.end(), [](auto& x) { return x.has_value(); });
    };
    ASSERT_TRUE(run_until(ioc, all_answered, 60s));
    for (std::size_t i = 0; i < count; ++i)
        EXPECT_FALSE(*answers[i]) << i << ": " << answers[i]->message();
    auto [ec, all] = history(n, "sized", position{0, ""});
    EXPECT_EQ(offsets_of(all), one_to(1, count));
}

TEST_F(nats_jetstream, a_publish_jetstream_refuses_reaches_nobody)
{
    node n(ioc, server), raw(ioc, server);
    ASSERT_TRUE(ready(n));
    ASSERT_TRUE(ready(raw));
    n.bp.subscribe("guarded");
    ASSERT_FALSE(history(n, "guarded", std::nullopt).first);
    auto [ec, first] = publish(n, "guarded", R"("first")");
    ASSERT_FALSE(ec);
    // A writer that does not know the topic's last message: JetStream refuses it, and it never reaches nodes.
    std::optional<json> refusal;
    raw.bp.link().request("switchboard.topic.guarded", R"("intruder")",
                          {{"Nats-Expected-Last-Subject-Sequence", "0"}, {"Switchboard-Offset", "1"},
                           {"Switchboard-Epoch", "forged"}},
                          [&](boost::system::error_code ec, natsMsg* m) {
                              ASSERT_FALSE(ec);
                              refusal = json::parse(msg_data(m));
                          });
    ASSERT_TRUE(run_until(ioc, [&] { return refusal.has_value(); }, 30s));
    EXPECT_EQ((*refusal)["error"]["err_code"], 10071) << refusal->dump();
    auto [ec2, second] = publish(n, "guarded", R"("second")");
    ASSERT_FALSE(ec2);
    EXPECT_EQ(second.offset, 2u);
    ASSERT_TRUE(run_until(ioc, [&] { return n.got["guarded"].size() >= 2; }, 30s));
    run_for(ioc, 100ms);
    ASSERT_EQ(n.got["guarded"].size(), 2u);
    EXPECT_EQ(n.got["guarded"][0]->data(), R"("first")");
    EXPECT_EQ(n.got["guarded"][1]->data(), R"("second")");
}

// More than history_reader::walk_limit messages: the first one's stream sequence is found by bisection among
// another topic's messages, then an ephemeral push consumer streams them, and is deleted.
TEST_F(nats_jetstream, a_long_history_read_streams_through_a_consumer)
{
    history_options limits;
    limits.overrides.push_back({"capped", {100, 300s}});
    node n(ioc, server, limits);
    ASSERT_TRUE(ready(n));
    std::string epoch;
    int answered = 0;
    for (int i = 1; i <= 300; ++i)
        for (std::string topic : {"long", "other", "capped"})
            n.bp.publish(topic, std::to_string(i), [&, topic](boost::system::error_code ec, position p) {
                ASSERT_FALSE(ec) << ec.message();
                if (topic == "long")
                    epoch = p.epoch;
                ++answered;
            });
    ASSERT_TRUE(run_until(ioc, [&] { return answered == 900; }, 60s));

    for (std::uint64_t since : {0u, 1u, 37u, 150u, 283u, 290u}) {  // 290: few enough to walk back
        auto [ec, r] = history(n, "long", position{since, since == 0 ? "" : epoch});
        ASSERT_FALSE(ec) << since << ": " << ec.message();
        EXPECT_TRUE(r.recovered) << since;
        EXPECT_EQ(offsets_of(r), one_to(since + 1, 300)) << since;
        for (auto const& m : r.messages)
            EXPECT_EQ(m->data(), std::to_string(m->offset()));
    }
    auto [ec, capped] = history(n, "capped", position{0, ""});
    EXPECT_FALSE(capped.recovered);
    EXPECT_EQ(offsets_of(capped), one_to(201, 300));

    // No consumer is left behind (the deletes are not answered: wait until the server has them).
    auto consumers = [&] {
        std::optional<int> count;
        n.bp.link().request("$JS.API.STREAM.INFO.switchboard", "", {}, [&](boost::system::error_code ec, natsMsg* m) {
            count = ec ? -1 : json::parse(msg_data(m))["state"]["consumer_count"].get<int>();
        });
        run_until(ioc, [&] { return count.has_value(); }, 30s);
        return count.value_or(-1);
    };
    EXPECT_TRUE(run_until(ioc, [&] { return consumers() == 0; }, 30s));
}

TEST_F(nats_jetstream, history_limits_hold_per_topic)
{
    history_options limits;
    limits.limits = {5, 300s};
    limits.overrides.push_back({"long.", {50, 300s}});
    limits.overrides.push_back({"short.", {100, 1s}});
    node n(ioc, server, limits);
    ASSERT_TRUE(ready(n));

    std::string epoch;
    for (int i = 1; i <= 20; ++i)
        epoch = publish(n, "plain", std::to_string(i)).second.epoch;
    auto [ec, plain] = history(n, "plain", position{0, ""});
    EXPECT_FALSE(plain.recovered);  // 1..15 are past the topic's 5
    EXPECT_EQ(offsets_of(plain), one_to(16, 20));
    EXPECT_TRUE(history(n, "plain", position{15, epoch}).second.recovered);

    for (int i = 1; i <= 60; ++i)
        ASSERT_FALSE(publish(n, "long.x", std::to_string(i)).first);
    auto [ec2, longer] = history(n, "long.x", position{0, ""});
    EXPECT_FALSE(longer.recovered);
    EXPECT_EQ(offsets_of(longer), one_to(11, 60));  // the stream keeps 50 per subject: the largest rule

    std::string short_epoch;
    for (int i = 1; i <= 3; ++i)
        short_epoch = publish(n, "short.x", std::to_string(i)).second.epoch;
    EXPECT_EQ(offsets_of(history(n, "short.x", position{0, ""}).second), one_to(1, 3));
    // Past its one second, the topic's history is empty, but its position stays: it lives as long as the
    // stream keeps the topic's last message (position_ttl).
    ASSERT_TRUE(run_until(ioc, [&] { return history(n, "short.x", position{0, ""}).second.messages.empty(); }, 30s));
    auto [ec3, expired] = history(n, "short.x", position{1, short_epoch});
    EXPECT_FALSE(expired.recovered);
    EXPECT_EQ(expired.latest, (position{3, short_epoch}));
    EXPECT_TRUE(history(n, "short.x", position{3, short_epoch}).second.recovered);  // nothing was missed
    EXPECT_EQ(publish(n, "short.x", "4").second, (position{4, short_epoch}));
}

TEST_F(nats_jetstream, history_survives_a_server_crash_and_publishes_fail_at_once_meanwhile)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n));
    std::string epoch;
    for (int i = 1; i <= 10; ++i)
        epoch = publish(n, "durable", std::to_string(i)).second.epoch;

    server.kill();
    ASSERT_TRUE(ready(n, false));
    auto const asked = std::chrono::steady_clock::now();
    auto [ec, nothing] = publish(n, "durable", "11");
    EXPECT_EQ(ec, nats_error::not_connected);
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);  // refused, not timed out
    EXPECT_EQ(history(n, "durable", position{0, ""}).first, nats_error::not_connected);

    server.start();
    ASSERT_TRUE(ready(n)) << server.output();
    auto [ec2, all] = history(n, "durable", position{0, ""});
    ASSERT_FALSE(ec2) << ec2.message();
    EXPECT_EQ(offsets_of(all), one_to(1, 10));
    EXPECT_EQ(all.latest, (position{10, epoch}));
    EXPECT_EQ(publish(n, "durable", "11").second, (position{11, epoch}));
}

TEST_F(nats_jetstream, a_node_back_from_an_outage_reads_what_it_missed)
{
    // The follower comes back 2 s after the publisher: long enough for the publisher to publish meanwhile.
    node follower(ioc, server, {}, 2000ms), publisher(ioc, server);
    ASSERT_TRUE(ready(follower));
    ASSERT_TRUE(ready(publisher));
    follower.bp.subscribe("ticks");
    ASSERT_FALSE(history(follower, "ticks", std::nullopt).first);
    for (int i = 1; i <= 5; ++i)
        ASSERT_FALSE(publish(publisher, "ticks", std::to_string(i)).first);
    ASSERT_TRUE(run_until(ioc, [&] { return follower.got["ticks"].size() == 5; }, 30s));

    server.stop();
    ASSERT_TRUE(ready(follower, false));
    ASSERT_TRUE(ready(publisher, false));
    server.start();
    ASSERT_TRUE(ready(publisher)) << server.output();
    ASSERT_FALSE(follower.bp.connected());  // still waiting to reconnect
    for (int i = 6; i <= 30; ++i)
        ASSERT_FALSE(publish(publisher, "ticks", std::to_string(i)).first);
    ASSERT_TRUE(ready(follower));
    // Nothing else is published: what it missed comes from history, in order, once.
    ASSERT_TRUE(run_until(ioc, [&] { return follower.got["ticks"].size() >= 30; }, 30s))
        << follower.got["ticks"].size();
    ASSERT_FALSE(publish(publisher, "ticks", "31").first);
    ASSERT_TRUE(run_until(ioc, [&] { return follower.got["ticks"].size() >= 31; }, 30s));
    run_for(ioc, 100ms);
    EXPECT_EQ(follower.offsets("ticks"), one_to(1, 31));
    EXPECT_TRUE(follower.gaps.empty());
}

TEST_F(nats_jetstream, messages_gone_from_history_while_a_node_was_away_are_reported_as_a_gap)
{
    history_options limits;
    limits.limits = {5, 300s};
    node follower(ioc, server, limits, 2000ms), publisher(ioc, server, limits);
    ASSERT_TRUE(ready(follower));
    ASSERT_TRUE(ready(publisher));
    follower.bp.subscribe("short");
    ASSERT_FALSE(history(follower, "short", std::nullopt).first);
    ASSERT_FALSE(publish(publisher, "short", "1").first);
    ASSERT_TRUE(run_until(ioc, [&] { return follower.got["short"].size() == 1; }, 30s));

    server.stop();
    ASSERT_TRUE(ready(follower, false));
    ASSERT_TRUE(ready(publisher, false));
    server.start();
    ASSERT_TRUE(ready(publisher));
    for (int i = 2; i <= 21; ++i)  // 20 while the follower is away: more than the 5 history keeps
        ASSERT_FALSE(publish(publisher, "short", std::to_string(i)).first);
    ASSERT_TRUE(ready(follower));
    ASSERT_TRUE(run_until(ioc, [&] { return !follower.gaps.empty(); }, 30s));
    EXPECT_EQ(follower.gaps, std::vector<std::string>{"short"});
    EXPECT_EQ(follower.offsets("short"), one_to(1, 1));  // nothing after the hole was delivered as if whole
    EXPECT_EQ(follower.bp.delivered("short")->offset, 21u);  // the node's stream restarts at the latest
    // The next message continues from there.
    ASSERT_FALSE(publish(publisher, "short", "22").first);
    ASSERT_TRUE(run_until(ioc, [&] { return follower.got["short"].size() == 2; }, 30s));
    EXPECT_EQ(follower.got["short"].back()->offset(), 22u);
}

TEST_F(nats_jetstream, a_server_that_lost_its_store_starts_new_epochs_and_followers_are_told)
{
    node follower(ioc, server), publisher(ioc, server);
    ASSERT_TRUE(ready(follower));
    ASSERT_TRUE(ready(publisher));
    follower.bp.subscribe("lost");
    ASSERT_FALSE(history(follower, "lost", std::nullopt).first);
    std::string epoch;
    for (int i = 1; i <= 3; ++i)
        epoch = publish(publisher, "lost", std::to_string(i)).second.epoch;
    ASSERT_TRUE(run_until(ioc, [&] { return follower.got["lost"].size() == 3; }, 30s));

    server.stop();
    ASSERT_TRUE(ready(follower, false));
    ASSERT_TRUE(ready(publisher, false));
    server.restart_empty();
    ASSERT_TRUE(ready(publisher)) << server.output();  // the stream is made again
    ASSERT_TRUE(ready(follower));
    auto [ec, p] = publish(publisher, "lost", "new");
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(p.offset, 1u);
    EXPECT_NE(p.epoch, epoch);
    ASSERT_TRUE(run_until(ioc, [&] { return !follower.gaps.empty(); }, 30s));
    EXPECT_EQ(follower.gaps, std::vector<std::string>{"lost"});
    EXPECT_FALSE(history(follower, "lost", position{3, epoch}).second.recovered);
}

TEST_F(nats_jetstream, topics_with_empty_parts_work_end_to_end)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n));
    for (std::string topic : {"a..b", ".lead", "trail.", "chat/room:1@host"}) {
        n.bp.subscribe(topic);
        ASSERT_FALSE(history(n, topic, std::nullopt).first) << topic;
        auto [ec, p] = publish(n, topic, R"({"t":1})");
        ASSERT_FALSE(ec) << topic << ": " << ec.message();
        EXPECT_EQ(p.offset, 1u) << topic;
        ASSERT_TRUE(run_until(ioc, [&] { return n.got[topic].size() == 1; }, 30s)) << topic;
    }
    // "a..b" and "a.b" are different topics.
    EXPECT_EQ(publish(n, "a.b", "{}").second.offset, 1u);
}

// Two nodes on one nats-server share the stream's sequence by construction: one pattern history sees both nodes'
// publishes in the order the stream stored them, each with the sequence its publisher's node delivered it with.
TEST_F(nats_jetstream, nodes_share_one_sequence_and_a_pattern_history_sees_every_node_in_stream_order)
{
    node a(ioc, server), b(ioc, server);
    ASSERT_TRUE(ready(a));
    ASSERT_TRUE(ready(b));
    auto [ec0, start] = pattern_history(a, "room.*", std::nullopt);
    ASSERT_FALSE(ec0) << ec0.message();
    auto [ec1, start_b] = pattern_history(b, "room.*", std::nullopt);
    EXPECT_EQ(start.latest, start_b.latest);  // one sequence, one epoch
    EXPECT_FALSE(start.latest.epoch.empty());
    EXPECT_LE(start.latest.epoch.size(), 32u);

    b.bp.subscribe_pattern("room.*");
    std::optional<boost::system::error_code> held;
    b.bp.pattern_ready("room.*", [&](boost::system::error_code ec) { held = ec; });
    ASSERT_TRUE(run_until(ioc, [&] { return held.has_value(); }, 30s));
    ASSERT_FALSE(*held);

    std::vector<std::string> published;
    for (int i = 0; i < 12; ++i) {
        auto& n = i % 3 == 0 ? b : a;
        auto const topic = i % 2 == 0 ? "room.1" : "room.2";
        auto const data = std::string(i % 3 == 0 ? "\"b" : "\"a") + std::to_string(i) + "\"";
        ASSERT_FALSE(publish(n, topic, data).first);
        published.push_back(std::string(topic) + "#" + data);
        ASSERT_FALSE(publish(n, "hall", "0").first);  // not matched
    }
    for (auto* n : {&a, &b}) {
        auto [ec, r] = pattern_history(*n, "room.*", start.latest);
        ASSERT_FALSE(ec) << ec.message();
        EXPECT_TRUE(r.recovered);
        EXPECT_EQ(names_of(r.messages), published);
        // One record each (published one at a time): its stream sequence, and place 0 in it.
        std::uint64_t previous = record_of(start.latest.offset);
        EXPECT_EQ(start.latest.offset, message_sequence(previous, record_end));  // after all of the last record
        for (auto const& m : r.messages) {
            auto const record = previous + 1 + (m == r.messages.front() ? 0 : 1);  // "hall" in between
            EXPECT_EQ(m->sequence(), message_sequence(record, 0));
            previous = record;
        }
        EXPECT_EQ(r.latest.offset, message_sequence(previous + 1, record_end));
        EXPECT_EQ(r.latest.epoch, start.latest.epoch);
    }
    // Delivered live on b with the sequences history gives, whichever node published.
    ASSERT_TRUE(run_until(ioc, [&] { return b.got["room.1"].size() == 6 && b.got["room.2"].size() == 6; }, 30s));
    auto [ec2, r] = pattern_history(a, "room.*", start.latest);
    for (auto const& m : r.messages) {
        auto const& live = b.got[m->topic()];
        auto it = std::find_if(live.begin(), live.end(), [&](auto const& x) { return x->offset() == m->offset(); });
        ASSERT_NE(it, live.end());
        EXPECT_EQ((*it)->sequence(), m->sequence());
    }
    // history() gives them too.
    auto [ec3, h] = history(a, "room.1", position{0, ""});
    ASSERT_EQ(h.messages.size(), 6u);
    EXPECT_EQ(h.messages[0]->sequence(), r.messages[0]->sequence());
}

// Past walk_limit the rest comes through a consumer, paged; no consumer is left behind.
TEST_F(nats_jetstream, a_long_pattern_history_streams_through_a_consumer_and_pages)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n));
    n.bp.patterns_reader().walk_limit = 3;
    auto const start = pattern_history(n, "long.>", std::nullopt).second.latest;
    std::vector<std::string> published;
    int answered = 0;
    for (int i = 0; i < 60; ++i) {
        auto const topic = "long." + std::to_string(i % 4) + (i % 5 == 0 ? ".deep" : "");
        n.bp.publish(topic, std::to_string(i), [&](boost::system::error_code ec, position) {
            EXPECT_FALSE(ec);
            ++answered;
        });
        n.bp.publish("short." + std::to_string(i % 4), "0", [&](boost::system::error_code, position) { ++answered; });
        published.push_back(topic + "#" + std::to_string(i));
    }
    ASSERT_TRUE(run_until(ioc, [&] { return answered == 120; }, 60s));
    // Publishes of different topics go in parallel: the stream's order is the sequences'.
    auto [ec, all] = pattern_history(n, "long.>", start);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_TRUE(all.recovered);
    EXPECT_FALSE(all.more);
    auto got = names_of(all.messages);
    EXPECT_EQ(got.size(), published.size());
    EXPECT_TRUE(std::is_sorted(all.messages.begin(), all.messages.end(),
                               [](auto const& x, auto const& y) { return x->sequence() < y->sequence(); }));
    std::sort(got.begin(), got.end());
    std::sort(published.begin(), published.end());
    EXPECT_EQ(got, published);

    for (std::size_t max_bytes : {std::size_t{1}, std::size_t{400}}) {
        std::vector<std::string> paged;
        position from = start;
        int pages = 0;
        for (; pages < 100; ++pages) {
            auto [ec2, page] = pattern_history(n, "long.>", from, max_bytes);
            ASSERT_FALSE(ec2) << ec2.message();
            ASSERT_FALSE(page.messages.empty());
            auto const names = names_of(page.messages);
            paged.insert(paged.end(), names.begin(), names.end());
            from = {page.messages.back()->sequence(), start.epoch};
            if (!page.more)
                break;
        }
        EXPECT_EQ(paged, names_of(all.messages)) << max_bytes;
        EXPECT_GT(pages, max_bytes == 1 ? 58 : 3);
    }
    EXPECT_TRUE(run_until(ioc, [&] { return stream_info(n)["state"]["consumer_count"] == 0; }, 30s));
}

// The topics are counted past the page when the filter matches more subjects than allowed.
TEST_F(nats_jetstream, a_pattern_history_counts_topics_past_its_page)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n));
    auto const start = pattern_history(n, "c.*", std::nullopt).second.latest;
    for (auto const* topic : {"c.a", "c.a", "c.b", "c.c"})
        ASSERT_FALSE(publish(n, topic, "1").first);
    EXPECT_EQ(pattern_history(n, "c.*", start, 1, 2).first, make_error_code(error::too_many_topics));
    auto [ec, page] = pattern_history(n, "c.*", start, 1, 3);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(page.messages.size(), 1u);
    EXPECT_TRUE(page.more);
    // From the fourth message on only c.c is left: one topic, whatever the filter matches in the stream; counted
    // past the page (each message once: nothing is lost).
    ASSERT_FALSE(publish(n, "c.c", "2").first);
    auto [ec2, last] = pattern_history(n, "c.*", record_after(start, 3), 1, 1);
    ASSERT_FALSE(ec2) << ec2.message();
    EXPECT_EQ(names_of(last.messages), std::vector<std::string>{"c.c#1"});
    EXPECT_TRUE(last.more);
    EXPECT_TRUE(last.recovered);
    EXPECT_TRUE(last.lost.empty());
    // The same past walk_limit: counted through the consumer.
    n.bp.patterns_reader().walk_limit = 1;
    position const after_c_a = record_after(start, 2);  // c.b and c.c after it
    auto [ec3, walked] = pattern_history(n, "c.*", after_c_a, 1, 2);
    ASSERT_FALSE(ec3) << ec3.message();
    EXPECT_EQ(names_of(walked.messages), std::vector<std::string>{"c.b#1"});
    EXPECT_TRUE(walked.recovered);
    EXPECT_TRUE(walked.lost.empty());
    EXPECT_EQ(pattern_history(n, "c.*", after_c_a, 1, 1).first, make_error_code(error::too_many_topics));
}

// In a stream of more subjects than allowed, a page that fills asks how many the pattern matches, and stops
// there when they are few; the consumer it stopped is deleted.
TEST_F(nats_jetstream, a_pattern_history_in_a_stream_of_many_topics_pages_a_pattern_of_few)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n));
    n.bp.patterns_reader().walk_limit = 2;
    auto const start = pattern_history(n, "few.*", std::nullopt).second.latest;
    std::vector<std::string> published;
    for (int i = 0; i < 30; ++i) {
        auto const topic = i % 2 == 0 ? "few.a" : "few.b";
        ASSERT_FALSE(publish(n, topic, std::to_string(i)).first);
        ASSERT_FALSE(publish(n, "many." + std::to_string(i), "0").first);
        published.push_back(std::string(topic) + "#" + std::to_string(i));
    }
    std::vector<std::string> got;
    position from = start;
    for (int pages = 0; pages < 40; ++pages) {
        auto [ec, page] = pattern_history(n, "few.*", from, 400, 2);
        ASSERT_FALSE(ec) << ec.message();
        ASSERT_FALSE(page.messages.empty());
        EXPECT_TRUE(page.recovered);
        auto const names = names_of(page.messages);
        got.insert(got.end(), names.begin(), names.end());
        from = {page.messages.back()->sequence(), start.epoch};
        if (!page.more)
            break;
    }
    EXPECT_EQ(got, published);
    EXPECT_EQ(pattern_history(n, "few.*", start, 400, 1).first, make_error_code(error::too_many_topics));
    EXPECT_TRUE(run_until(ioc, [&] { return stream_info(n)["state"]["consumer_count"] == 0; }, 30s));
}

// A message deleted from the middle of a topic names the topic; one gone from the head of the stream with its
// topic cannot be named: recovered:false with nobody in `lost`.
TEST_F(nats_jetstream, a_pattern_history_says_what_is_gone)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n));
    auto const start = pattern_history(n, "d.*", std::nullopt).second.latest;
    ASSERT_FALSE(publish(n, "d.once", "1").first);   // start + 1: the head of the stream
    ASSERT_FALSE(publish(n, "d.hole", "1").first);   // start + 2
    ASSERT_FALSE(publish(n, "d.hole", "2").first);   // start + 3: deleted below
    ASSERT_FALSE(publish(n, "d.hole", "3").first);
    ASSERT_FALSE(publish(n, "d.whole", "1").first);
    auto erase = [&](std::uint64_t seq) {
        std::optional<json> answer;
        n.bp.link().request("$JS.API.STREAM.MSG.DELETE.switchboard", json{{"seq", seq}}.dump(), {},
                            [&](boost::system::error_code ec, natsMsg* m) {
                                answer = ec ? json() : json::parse(msg_data(m), nullptr, false);
                            });
        ASSERT_TRUE(run_until(ioc, [&] { return answer.has_value(); }, 30s));
        ASSERT_EQ((*answer)["success"], true) << answer->dump();
    };
    erase(record_of(start.offset) + 3);
    auto [ec, r] = pattern_history(n, "d.*", start);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_FALSE(r.recovered);
    EXPECT_EQ(r.lost, std::vector<std::string>{"d.hole"});
    EXPECT_EQ(names_of(r.messages), (std::vector<std::string>{"d.once#1", "d.hole#1", "d.hole#3", "d.whole#1"}));
    // From after the hole: nothing missing.
    auto [ec2, after] = pattern_history(n, "d.*", record_after(start, 3));
    EXPECT_TRUE(after.recovered);
    EXPECT_TRUE(after.lost.empty());

    erase(record_of(start.offset) + 1);  // d.once's only message, at the head: its subject goes with it
    auto [ec3, headless] = pattern_history(n, "d.*", start);
    ASSERT_FALSE(ec3) << ec3.message();
    EXPECT_FALSE(headless.recovered);
    EXPECT_EQ(headless.lost, std::vector<std::string>{"d.hole"});
    auto [ec4, from_head] = pattern_history(n, "d.*", record_after(start, 3));
    EXPECT_TRUE(from_head.recovered);  // what left the head was before `since`
}

// A topic whose own count limit is below the stream's (the largest of every rule): its older messages are still
// stored but not history; they are skipped, also when a whole page was of them, and the topic is named.
TEST_F(nats_jetstream, a_pattern_history_applies_each_topics_own_count_limit)
{
    history_options limits;
    limits.overrides.push_back({"b.small", {1, 300s}});
    node n(ioc, server, limits);
    ASSERT_TRUE(ready(n));
    auto const start = pattern_history(n, "b.*", std::nullopt).second.latest;
    for (auto const* data : {"1", "2", "3"})
        ASSERT_FALSE(publish(n, "b.small", data).first);
    ASSERT_FALSE(publish(n, "b.big", "1").first);
    for (std::size_t max_bytes : {backplane::whole_history, std::size_t{1}}) {
        auto [ec, r] = pattern_history(n, "b.*", start, max_bytes);
        ASSERT_FALSE(ec) << ec.message();
        EXPECT_FALSE(r.recovered);
        EXPECT_EQ(r.lost, std::vector<std::string>{"b.small"});
        EXPECT_EQ(names_of(r.messages).front(), "b.small#3") << max_bytes;  // pages of hidden ones read past
        EXPECT_EQ(r.more, max_bytes == 1);
    }
}

// The consumer that takes over from the direct gets may have nothing to deliver (what matches was all walked):
// the read ends on its answer, not on its timeout.
TEST_F(nats_jetstream, a_pattern_history_whose_consumer_has_nothing_ends_at_once)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n));
    n.bp.patterns_reader().walk_limit = 2;
    n.bp.patterns_reader().consumer_timeout = 20s;
    auto const start = pattern_history(n, "q.*", std::nullopt).second.latest;
    for (auto const* topic : {"q.a", "q.b", "other"})
        ASSERT_FALSE(publish(n, topic, "1").first);
    auto const asked = std::chrono::steady_clock::now();
    auto [ec, r] = pattern_history(n, "q.*", start);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s);
    EXPECT_EQ(names_of(r.messages), (std::vector<std::string>{"q.a#1", "q.b#1"}));
    // From the future: not recovered.
    EXPECT_FALSE(pattern_history(n, "q.*", position{r.latest.offset + 5, r.latest.epoch}).second.recovered);
    EXPECT_TRUE(run_until(ioc, [&] { return stream_info(n)["state"]["consumer_count"] == 0; }, 30s));
}

// The sequence epoch is the stream's: kept by a server back with its store, new when the server lost it.
TEST_F(nats_jetstream, a_stream_made_again_starts_a_new_sequence_epoch)
{
    node n(ioc, server);
    ASSERT_TRUE(ready(n));
    ASSERT_FALSE(publish(n, "e.a", "1").first);
    auto const before = pattern_history(n, "e.*", std::nullopt).second.latest;
    EXPECT_EQ(before.offset, message_sequence(1, record_end));  // after all of the stream's first record
    // A server back with its store keeps the stream, and so the epoch: resuming loses nothing.
    server.kill();
    ASSERT_TRUE(ready(n, false));
    server.start();
    ASSERT_TRUE(ready(n)) << server.output();
    auto [ec0, kept] = pattern_history(n, "e.*", position{0, ""});
    ASSERT_FALSE(ec0) << ec0.message();
    EXPECT_EQ(kept.latest, before);
    EXPECT_TRUE(kept.recovered);
    EXPECT_EQ(names_of(kept.messages), std::vector<std::string>{"e.a#1"});
    server.stop();
    ASSERT_TRUE(ready(n, false));
    server.restart_empty();
    ASSERT_TRUE(ready(n)) << server.output();
    ASSERT_FALSE(publish(n, "e.a", "2").first);
    auto [ec, r] = pattern_history(n, "e.*", before);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_NE(r.latest.epoch, before.epoch);
    EXPECT_EQ(r.latest.offset, message_sequence(1, record_end));
}

TEST(nats_sequence_epoch, is_the_creation_time_in_digits_and_letters)
{
    EXPECT_EQ(sequence_epoch("2026-12-04T18:34:16.052847718Z"), "20261204T183416052847718Zr");
    EXPECT_EQ(sequence_epoch("2026-12-04T18:34:16.052847718123456789+00:00").size(), 32u);
    EXPECT_EQ(sequence_epoch(""), "");
}

}  // namespace
}  // namespace switchboard::nats
