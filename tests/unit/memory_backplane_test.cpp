// memory_backplane: positions, history and delivery straight back to this node. Its handlers complete before
// the call returns, so the tests read results right after each call; the io_context only hosts the sweep timer.

#include "support/offsets.hpp"

#include <switchboard/cursor.hpp>
#include <switchboard/error.hpp>
#include <switchboard/memory_backplane.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

namespace {

using switchboard::error;
using switchboard::history_options;
using switchboard::history_result;
using switchboard::message_ptr;
using switchboard::position;

using switchboard::test::offsets;
using switchboard::test::offsets_of;

// Named for the class under test, so the tests read memory_backplane.numbers_each_topic_...
class memory_backplane : public ::testing::Test {
protected:
    void TearDown() override
    {
        for (auto& bp : backplanes_)
            bp->close();
        io_.run();  // the cancelled sweep timers complete; nothing else is pending
        EXPECT_TRUE(io_.stopped());
    }

    switchboard::memory_backplane& make(history_options options = {})
    {
        backplanes_.push_back(std::make_unique<switchboard::memory_backplane>(io_.get_executor(), std::move(options)));
        auto& bp = *backplanes_.back();
        bp.set_delivery([this](message_ptr const& m) { delivered_.push_back(m); });
        return bp;
    }

    switchboard::memory_backplane& bp()
    {
        if (backplanes_.empty())
            make();
        return *backplanes_.front();
    }

    struct publish_result {
        boost::system::error_code ec;
        position where;
    };

    static publish_result publish(switchboard::memory_backplane& b, std::string topic, std::string data = "null")
    {
        std::optional<publish_result> out;
        b.publish(std::move(topic), std::move(data),
                  [&](boost::system::error_code ec, position where) { out = publish_result{ec, std::move(where)}; });
        EXPECT_TRUE(out.has_value()) << "the memory backplane completes at once";
        return out.value_or(publish_result{});
    }

    position publish_ok(std::string topic, std::string data = "null")
    {
        auto r = publish(bp(), std::move(topic), std::move(data));
        EXPECT_FALSE(r.ec) << r.ec.message();
        return r.where;
    }

    struct history_outcome {
        boost::system::error_code ec;
        history_result result;
    };

    static history_outcome history(switchboard::memory_backplane& b, std::string const& topic,
                                   std::optional<position> since,
                                   std::size_t max_bytes = switchboard::backplane::whole_history)
    {
        std::optional<history_outcome> out;
        b.history(topic, since, max_bytes, [&](boost::system::error_code ec, history_result r) {
            out = history_outcome{ec, std::move(r)};
        });
        EXPECT_TRUE(out.has_value()) << "the memory backplane completes at once";
        return out.value_or(history_outcome{});
    }

    history_result history_ok(std::string const& topic, std::optional<position> since)
    {
        auto r = history(bp(), topic, std::move(since));
        EXPECT_FALSE(r.ec) << r.ec.message();
        return std::move(r.result);
    }

    boost::asio::io_context io_;
    std::vector<std::unique_ptr<switchboard::memory_backplane>> backplanes_;
    std::vector<message_ptr> delivered_;
};

TEST_F(memory_backplane, numbers_each_topic_from_1_without_gaps)
{
    EXPECT_EQ(publish_ok("a").offset, 1u);
    EXPECT_EQ(publish_ok("a").offset, 2u);
    EXPECT_EQ(publish_ok("b").offset, 1u);
    EXPECT_EQ(publish_ok("a").offset, 3u);
    EXPECT_EQ(publish_ok("b").offset, 2u);
    EXPECT_EQ(publish_ok("c").offset, 1u);
    EXPECT_EQ(bp().topic_count(), 3u);
}

TEST_F(memory_backplane, keeps_one_epoch_per_topic)
{
    auto const first = publish_ok("a");
    EXPECT_FALSE(first.epoch.empty());
    EXPECT_EQ(publish_ok("a").epoch, first.epoch);
    EXPECT_EQ(publish_ok("a").epoch, first.epoch);
    EXPECT_EQ(history_ok("a", std::nullopt).latest, (position{3, first.epoch}));
}

TEST_F(memory_backplane, makes_epochs_that_fit_in_a_cursor)
{
    auto const where = publish_ok("a");
    EXPECT_LE(where.epoch.size(), switchboard::max_epoch_length);
    EXPECT_TRUE(std::all_of(where.epoch.begin(), where.epoch.end(),
                            [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }))
        << where.epoch;
    switchboard::cursor decoded;
    ASSERT_FALSE(switchboard::decode_cursor(switchboard::encode_cursor({{"a", where}}), decoded, 1));
    EXPECT_EQ(decoded.at(0).where, where);
}

TEST_F(memory_backplane, gives_another_instance_another_epoch)
{
    auto& one = make();
    auto& two = make();
    auto const p1 = publish(one, "a").where;
    auto const p2 = publish(two, "a").where;
    EXPECT_EQ(p1.offset, 1u);
    EXPECT_EQ(p2.offset, 1u);
    EXPECT_NE(p1.epoch, p2.epoch);

    // So a client resuming on the other instance learns that its position is gone.
    auto const r = history(two, "a", p1);
    EXPECT_FALSE(r.ec);
    EXPECT_FALSE(r.result.recovered);
}

TEST_F(memory_backplane, delivers_each_message_once_with_its_envelope)
{
    auto const p1 = publish_ok("T", R"({"x":1})");
    auto const p2 = publish_ok("T", R"("two")");
    auto const other = publish_ok("U", "[1,2]");

    ASSERT_EQ(delivered_.size(), 3u);
    EXPECT_EQ(*delivered_[0]->envelope(), R"({"type":"message","topic":"T","offset":1,"data":{"x":1}})");
    EXPECT_EQ(*delivered_[1]->envelope(), R"({"type":"message","topic":"T","offset":2,"data":"two"})");
    EXPECT_EQ(*delivered_[2]->envelope(), R"({"type":"message","topic":"U","offset":1,"data":[1,2]})");
    EXPECT_EQ(delivered_[0]->data(), R"({"x":1})");
    EXPECT_EQ(delivered_[0]->where(), p1);
    EXPECT_EQ(delivered_[1]->where(), p2);
    EXPECT_EQ(delivered_[2]->where(), other);
    EXPECT_EQ(delivered_[2]->topic(), "U");
}

TEST_F(memory_backplane, delivers_a_publish_made_from_the_delivery_handler)
{
    auto& b = make();
    std::vector<std::uint64_t> seen;
    b.set_delivery([&](message_ptr const& m) {
        seen.push_back(m->offset());
        if (m->offset() == 1)
            publish(b, "t");
    });
    publish(b, "t");
    EXPECT_EQ(seen, (offsets{1, 2}));
}

TEST_F(memory_backplane, history_since_returns_exactly_the_later_messages)
{
    position p;
    for (int i = 0; i < 5; ++i)
        p = publish_ok("t", std::to_string(i));
    std::string const epoch = p.epoch;

    auto r = history_ok("t", position{2, epoch});
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{3, 4, 5}));
    EXPECT_EQ(r.latest, (position{5, epoch}));
    EXPECT_EQ(r.messages[0]->data(), "2");

    r = history_ok("t", position{0, epoch});
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{1, 2, 3, 4, 5}));

    r = history_ok("t", position{5, epoch});
    EXPECT_TRUE(r.recovered);
    EXPECT_TRUE(r.messages.empty());

    // The same message objects that were delivered.
    r = history_ok("t", position{4, epoch});
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0], delivered_.back());
}

TEST_F(memory_backplane, history_with_an_empty_epoch_from_0_returns_everything_kept)
{
    publish_ok("t");
    auto const p = publish_ok("t");
    auto r = history_ok("t", position{0, ""});
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{1, 2}));
    EXPECT_EQ(r.latest, p);

    r = history_ok("t", position{1, ""});  // an offset without its epoch means nothing
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
}

TEST_F(memory_backplane, history_since_another_epoch_is_not_recovered)
{
    publish_ok("t");
    auto const p = publish_ok("t");
    auto const r = history_ok("t", position{1, "otherEpoch"});
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_EQ(r.latest, p);
}

TEST_F(memory_backplane, history_since_beyond_the_latest_offset_is_not_recovered)
{
    auto const p = publish_ok("t");
    auto const r = history_ok("t", position{2, p.epoch});
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_EQ(r.latest, p);
}

TEST_F(memory_backplane, history_without_since_returns_the_position_only)
{
    publish_ok("t");
    auto const p = publish_ok("t");
    auto const r = history_ok("t", std::nullopt);
    EXPECT_TRUE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_EQ(r.latest, p);
}

TEST_F(memory_backplane, history_of_a_new_topic_starts_the_epoch_that_publishing_continues)
{
    auto const r = history_ok("fresh", std::nullopt);
    EXPECT_EQ(r.latest.offset, 0u);
    EXPECT_FALSE(r.latest.epoch.empty());
    auto const p = publish_ok("fresh");
    EXPECT_EQ(p, (position{1, r.latest.epoch}));

    // A subscriber that started from the empty topic gets the first message.
    auto const resumed = history_ok("fresh", r.latest);
    EXPECT_TRUE(resumed.recovered);
    EXPECT_EQ(offsets_of(resumed.messages), (offsets{1}));
}

TEST_F(memory_backplane, max_messages_trims_history)
{
    history_options options;
    options.limits.max_messages = 3;
    auto& b = make(options);
    position p;
    for (int i = 0; i < 5; ++i)
        p = publish(b, "t").where;

    // Kept: 3, 4, 5. Resuming after 2 misses nothing; from earlier it does.
    auto r = history(b, "t", position{2, p.epoch}).result;
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{3, 4, 5}));

    r = history(b, "t", position{1, p.epoch}).result;
    EXPECT_FALSE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{3, 4, 5}));

    r = history(b, "t", position{0, p.epoch}).result;
    EXPECT_FALSE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{3, 4, 5}));

    r = history(b, "t", position{4, p.epoch}).result;
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{5}));
}

// A reload reaches the backplane through its interface (the server holds a backplane&, never asks which one).
TEST_F(memory_backplane, new_history_options_through_the_interface_trim_every_topic_at_once)
{
    auto& b = make();
    position p;
    for (int i = 0; i < 5; ++i)
        p = publish(b, "t").where;

    history_options tighter;
    tighter.limits.max_messages = 2;
    switchboard::backplane& any = b;
    any.set_history_options(tighter);

    auto r = history(b, "t", position{0, p.epoch}).result;
    EXPECT_FALSE(r.recovered);
    EXPECT_EQ(offsets_of(r.messages), (offsets{4, 5}));
    EXPECT_EQ(publish(b, "t").where.offset, 6u);  // the position goes on
    EXPECT_EQ(offsets_of(history(b, "t", position{0, p.epoch}).result.messages), (offsets{5, 6}));
}

TEST_F(memory_backplane, max_messages_0_keeps_no_history)
{
    history_options options;
    options.limits.max_messages = 0;
    auto& b = make(options);
    publish(b, "t");
    auto const p = publish(b, "t").where;
    EXPECT_EQ(delivered_.size(), 2u) << "delivery does not depend on history";

    auto r = history(b, "t", p).result;
    EXPECT_TRUE(r.recovered) << "nothing was missed";
    EXPECT_TRUE(r.messages.empty());

    r = history(b, "t", position{1, p.epoch}).result;
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
}

TEST_F(memory_backplane, the_longest_matching_prefix_sets_the_limits)
{
    history_options options;
    options.limits.max_messages = 10;
    // Listed shortest-last and shortest-first, so that the order of the list is not what decides.
    options.overrides.push_back({"chat.vip.", {5, std::chrono::seconds{300}}});
    options.overrides.push_back({"chat.", {2, std::chrono::seconds{300}}});
    options.overrides.push_back({"chat.vip.gold.", {1, std::chrono::seconds{300}}});
    options.overrides.push_back({"c", {3, std::chrono::seconds{300}}});
    auto& b = make(options);

    auto kept = [&](std::string const& topic) {
        position p;
        for (int i = 0; i < 12; ++i)
            p = publish(b, topic).where;
        return history(b, topic, position{0, p.epoch}).result.messages.size();
    };
    EXPECT_EQ(kept("news"), 10u);
    EXPECT_EQ(kept("chat.room"), 2u);
    EXPECT_EQ(kept("chat.vip.room"), 5u);
    EXPECT_EQ(kept("chat.vip.gold.room"), 1u);
    EXPECT_EQ(kept("chatter"), 3u);
    EXPECT_EQ(kept("chat.vip"), 2u) << "a prefix must match whole";
}

TEST_F(memory_backplane, max_topics_refuses_a_new_topic)
{
    history_options options;
    options.max_topics = 2;
    auto& b = make(options);
    EXPECT_FALSE(publish(b, "a").ec);
    EXPECT_FALSE(publish(b, "b").ec);

    auto const refused = publish(b, "c");
    EXPECT_EQ(refused.ec, error::too_many_topics);
    EXPECT_EQ(delivered_.size(), 2u) << "a refused message is not delivered";
    EXPECT_EQ(history(b, "c", std::nullopt).ec, error::too_many_topics);
    EXPECT_EQ(b.topic_count(), 2u);

    // Known topics go on.
    EXPECT_EQ(publish(b, "a").where.offset, 2u);
    EXPECT_FALSE(history(b, "b", std::nullopt).ec);
}

TEST_F(memory_backplane, subscribing_makes_a_topic_that_counts_against_max_topics)
{
    history_options options;
    options.max_topics = 1;
    auto& b = make(options);
    b.subscribe("a");
    EXPECT_EQ(b.topic_count(), 1u);
    EXPECT_EQ(publish(b, "b").ec, error::too_many_topics);
    b.unsubscribe("a");
    b.unsubscribe("never-seen");  // harmless
    EXPECT_FALSE(publish(b, "a").ec);
}

TEST_F(memory_backplane, the_sweep_drops_idle_topics_and_keeps_the_rest)
{
    history_options options;
    options.sweep_interval = std::chrono::seconds{0};  // due at once: no waiting in the test
    options.overrides.push_back({"idle.", {0, std::chrono::seconds{300}}});
    auto& b = make(options);
    auto const idle = publish(b, "idle.x").where;  // no history, no subscriber: nothing worth keeping
    publish(b, "kept");                            // has history
    b.subscribe("idle.listened");                  // has a subscriber
    ASSERT_EQ(b.topic_count(), 3u);

    for (int i = 0; i < 100 && b.topic_count() != 2; ++i)
        io_.poll_one();
    EXPECT_EQ(b.topic_count(), 2u);

    // Used again, the dropped topic starts over in a new epoch, so a resuming client is told it missed out.
    auto const again = publish(b, "idle.x").where;
    EXPECT_EQ(again.offset, 1u);
    EXPECT_NE(again.epoch, idle.epoch);
    EXPECT_FALSE(history(b, "idle.x", idle).result.recovered);
}

TEST_F(memory_backplane, a_history_read_is_a_page_of_at_most_max_bytes_and_one_message_at_least)
{
    auto& b = bp();
    position p;
    for (int i = 0; i < 10; ++i)
        p = publish(b, "t", "\"" + std::string(100, 'x') + "\"").where;
    auto const size = history(b, "t", position{9, p.epoch}).result.messages.at(0)->envelope()->size();

    auto r = history(b, "t", position{0, p.epoch}, 3 * size).result;
    EXPECT_EQ(offsets_of(r.messages), (offsets{1, 2, 3}));
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(r.latest.offset, 10u) << "the topic's position, past the page";
    r = history(b, "t", position{3, p.epoch}, 3 * size + 1).result;
    EXPECT_EQ(offsets_of(r.messages), (offsets{4, 5, 6}));
    r = history(b, "t", position{6, p.epoch}, 1).result;
    EXPECT_EQ(offsets_of(r.messages), (offsets{7})) << "one message always";
    r = history(b, "t", position{7, p.epoch}, 0).result;
    EXPECT_EQ(offsets_of(r.messages), (offsets{8}));
}

TEST_F(memory_backplane, max_bytes_bounds_history_across_topics_oldest_first)
{
    history_options options;
    options.max_bytes = 100 * 1'000;
    options.max_topics = 1'000;
    auto& b = make(options);
    std::string const data = "\"" + std::string(1'000, 'x') + "\"";
    auto const first = publish(b, "first", data).where;
    std::vector<position> later;
    for (int i = 0; i < 300; ++i)
        later.push_back(publish(b, "t" + std::to_string(i % 30), data).where);

    EXPECT_LE(b.history_bytes(), options.max_bytes);
    EXPECT_GT(b.history_bytes(), options.max_bytes - 2'000);
    // The oldest message of all went first; what is gone is reported.
    auto const r = history(b, "first", position{0, first.epoch}).result;
    EXPECT_FALSE(r.recovered);
    EXPECT_TRUE(r.messages.empty());
    EXPECT_EQ(r.latest, first) << "the topic keeps its position";
    // The newest ~75 messages are kept, whatever their topic, and counted.
    std::size_t bytes = 0;
    for (int t = 0; t < 30; ++t) {
        auto const h = history(b, "t" + std::to_string(t), position{0, later[t].epoch}).result;
        for (auto const& m : h.messages) {
            EXPECT_GT(m->offset(), 7u) << "an older message outlived a newer one";
            bytes += switchboard::memory_backplane::cost(*m);
        }
    }
    EXPECT_EQ(bytes, b.history_bytes());
}

TEST_F(memory_backplane, max_topics_per_client_bounds_each_client_alone)
{
    history_options options;
    options.max_topics = 100;
    options.max_topics_per_client = 10;
    auto& b = make(options);
    {
        auto const as_greedy = b.on_behalf_of("ip:127.0.0.2");
        for (int i = 0; i < 10; ++i)
            EXPECT_FALSE(publish(b, "g" + std::to_string(i)).ec);
        EXPECT_EQ(publish(b, "g10").ec, error::too_many_topics);
        b.subscribe("g11");
        EXPECT_EQ(history(b, "g11", std::nullopt).ec, error::too_many_topics) << "a refused subscription";
        EXPECT_FALSE(publish(b, "g3").ec) << "its own topics go on";
    }
    {
        auto const as_other = b.on_behalf_of("user:bob");
        EXPECT_FALSE(publish(b, "b0").ec);
        EXPECT_FALSE(publish(b, "g10").ec) << "the same name, another client";
    }
    // The service itself is not bounded per client.
    for (int i = 0; i < 50; ++i)
        EXPECT_FALSE(publish(b, "service" + std::to_string(i)).ec);
}

TEST_F(memory_backplane, an_idle_topic_keeps_its_position_until_its_room_is_needed)
{
    history_options options;
    options.max_topics = 3;
    options.max_topics_per_client = 2;
    auto& b = make(options);
    auto const as_client = b.on_behalf_of("ip:127.0.0.2");
    b.subscribe("quiet");
    auto const at = history(b, "quiet", std::nullopt).result.latest;
    b.unsubscribe("quiet");
    // Idle (no subscriber, no history): a client coming back still resumes it.
    b.subscribe("quiet");
    auto r = history(b, "quiet", at).result;
    EXPECT_TRUE(r.recovered);
    EXPECT_EQ(r.latest, at);
    b.unsubscribe("quiet");

    // At its bound, the client's own idle topic makes room; then the server's idle ones do.
    b.subscribe("a");
    b.subscribe("b");
    EXPECT_EQ(b.topic_count(), 2u) << "quiet gave its room to b";
    b.unsubscribe("a");
    auto const back = history(b, "quiet", at);
    EXPECT_FALSE(back.ec) << "a gave its room to quiet";
    EXPECT_NE(back.result.latest.epoch, at.epoch) << "a new epoch:";
    EXPECT_FALSE(back.result.recovered) << "resumes are told";
    b.unsubscribe("b");
    auto const as_other = b.on_behalf_of("user:carol");
    EXPECT_FALSE(publish(b, "c1").ec);
    EXPECT_FALSE(publish(b, "c2").ec);
    EXPECT_EQ(b.topic_count(), 3u);
}

}  // namespace
