// The Redis backplane's per-topic ordering (topic_stream) fed made-up live messages and history answers, as
// Redis pub/sub and the history script would give them: deliveries in offset order, duplicates dropped, gaps
// read from history or reported. No Redis.

#include "backplanes/redis/topic_stream.hpp"
#include "support/offsets.hpp"

#include <switchboard/error.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {


message_ptr live(std::uint64_t offset, std::string const& epoch = "E")
{
    return std::make_shared<message const>("t", position{offset, epoch}, std::to_string(offset));
}

// The offsets of a recent() answer, or none.
std::optional<offsets> recent_offsets(redis::topic_stream const& s, position const& since,
                                      std::size_t max_bytes = 1 << 20)
{
    auto const r = s.recent(since, max_bytes, std::chrono::steady_clock::now() - std::chrono::hours(1));
    if (!r)
        return std::nullopt;
    offsets out;
    for (auto const& m : r->messages)
        out.push_back(m->offset());
    EXPECT_TRUE(r->recovered);
    EXPECT_EQ(r->latest, *s.last());
    return out;
}

history_result answer(std::uint64_t latest, std::vector<std::uint64_t> const& messages, bool recovered = true,
                      std::string const& epoch = "E")
{
    history_result r;
    r.latest = {latest, epoch};
    r.recovered = recovered;
    for (auto o : messages)
        r.messages.push_back(live(o, epoch));
    return r;
}

// The backplane's side: records what the stream delivers, reports and asks for.
// Named for the class under test, so the tests read topic_stream.delivers_...
class topic_stream : public ::testing::Test, public redis::topic_stream::host {
protected:
    void deliver(message_ptr const& m) override { delivered.push_back(m->offset()); }
    bool gap(std::string const& topic) override
    {
        EXPECT_EQ(topic, "t");
        ++gaps;
        return still_wanted_after_gap;
    }
    void read_missed(std::string const& topic, position const& after) override
    {
        EXPECT_EQ(topic, "t");
        reads.push_back(after);
    }

    topic_stream() { stream.keep_recent(4, budget); }

    detail::recent_budget budget{1024 * 1024};
    redis::topic_stream stream{*this, "t", 3};
    offsets delivered;
    int gaps = 0;
    bool still_wanted_after_gap = true;
    std::vector<position> reads;
};

TEST_F(topic_stream, delivers_the_next_offsets_after_its_start)
{
    stream.start_at({5, "E"});
    stream.start_at({9, "E"});  // started already: a later read does not move it
    for (std::uint64_t o : {6, 7, 8})
        stream.accept(live(o));
    EXPECT_EQ(delivered, (offsets{6, 7, 8}));
    EXPECT_EQ(stream.last(), (position{8, "E"}));
    EXPECT_TRUE(reads.empty());
    EXPECT_EQ(gaps, 0);
}

TEST_F(topic_stream, drops_what_it_delivered_already)
{
    stream.start_at({5, "E"});
    for (std::uint64_t o : {4, 5, 6, 6, 5, 7})
        stream.accept(live(o));
    EXPECT_EQ(delivered, (offsets{6, 7}));
}

TEST_F(topic_stream, a_skipped_offset_is_read_from_history_and_everything_comes_in_order)
{
    stream.start_at({5, "E"});
    stream.accept(live(8));  // 6 and 7 missing
    ASSERT_EQ(reads, (std::vector<position>{{5, "E"}}));
    EXPECT_TRUE(stream.catching_up());
    stream.accept(live(9));  // held meanwhile
    stream.accept(live(10));
    EXPECT_TRUE(delivered.empty());
    EXPECT_EQ(stream.held(), 3u);

    stream.caught_up({}, answer(9, {6, 7, 8, 9}));  // history overlaps what is held: each offset once
    EXPECT_EQ(delivered, (offsets{6, 7, 8, 9, 10}));
    EXPECT_FALSE(stream.catching_up());
    EXPECT_EQ(stream.held(), 0u);
    EXPECT_EQ(gaps, 0);
    EXPECT_EQ(reads.size(), 1u);
}

TEST_F(topic_stream, history_that_no_longer_reaches_back_is_a_gap_and_the_stream_goes_on_from_now)
{
    stream.start_at({5, "E"});
    stream.accept(live(8));
    stream.caught_up({}, answer(8, {7, 8}, false));
    EXPECT_EQ(gaps, 1);
    EXPECT_TRUE(delivered.empty());  // what is held is dropped: the subscribers resume from history themselves
    EXPECT_EQ(stream.last(), (position{8, "E"}));
    stream.accept(live(9));
    EXPECT_EQ(delivered, (offsets{9}));
}

TEST_F(topic_stream, a_failed_catch_up_is_retried_when_redis_is_back)
{
    stream.start_at({5, "E"});
    stream.accept(live(7));
    stream.caught_up(make_error_code(error::backplane_unavailable), {});
    EXPECT_TRUE(stream.catching_up());  // still: live messages wait
    stream.accept(live(8));
    EXPECT_TRUE(delivered.empty());

    stream.retry();
    ASSERT_EQ(reads.size(), 2u);
    EXPECT_EQ(reads[1], (position{5, "E"}));
    stream.caught_up({}, answer(8, {6, 7, 8}));
    EXPECT_EQ(delivered, (offsets{6, 7, 8}));
    stream.retry();  // nothing failed: no read
    EXPECT_EQ(reads.size(), 2u);
}

TEST_F(topic_stream, too_many_held_while_catching_up_is_a_gap)
{
    stream.start_at({5, "E"});
    stream.accept(live(7));
    stream.accept(live(8));
    stream.accept(live(9));  // 3 held: the bound
    stream.accept(live(10));
    EXPECT_EQ(gaps, 1);
    EXPECT_EQ(stream.held(), 0u);
    EXPECT_FALSE(stream.catching_up());
    EXPECT_EQ(stream.last(), (position{10, "E"}));

    stream.caught_up({}, answer(10, {6, 7, 8, 9, 10}));  // the old read's answer comes late: ignored
    EXPECT_TRUE(delivered.empty());
    stream.accept(live(11));
    EXPECT_EQ(delivered, (offsets{11}));
}

TEST_F(topic_stream, a_new_epoch_is_a_gap_then_the_start_of_the_new_stream)
{
    stream.start_at({5, "E"});
    stream.accept(live(6));
    stream.accept(live(1, "F"));  // Redis lost the topic
    EXPECT_EQ(gaps, 1);
    EXPECT_EQ(delivered, (offsets{6, 1}));
    EXPECT_EQ(stream.last(), (position{1, "F"}));
    stream.accept(live(2, "F"));
    EXPECT_EQ(delivered, (offsets{6, 1, 2}));
}

TEST_F(topic_stream, a_new_epoch_is_not_delivered_when_the_gap_closed_every_subscriber)
{
    still_wanted_after_gap = false;
    stream.start_at({5, "E"});
    stream.accept(live(1, "F"));
    EXPECT_EQ(gaps, 1);
    EXPECT_TRUE(delivered.empty());
}

TEST_F(topic_stream, resuming_reads_what_was_published_while_the_subscription_was_gone)
{
    stream.resume();  // never started: nothing to catch up
    EXPECT_TRUE(reads.empty());
    stream.start_at({5, "E"});
    stream.accept(live(6));
    stream.resume();
    ASSERT_EQ(reads, (std::vector<position>{{6, "E"}}));
    stream.accept(live(9));  // live again before history answers: held
    stream.caught_up({}, answer(9, {7, 8, 9}));
    EXPECT_EQ(delivered, (offsets{6, 7, 8, 9}));
}

TEST_F(topic_stream, a_reset_stream_starts_again_and_ignores_an_answer_for_before)
{
    stream.start_at({5, "E"});
    stream.accept(live(7));
    stream.reset();
    EXPECT_FALSE(stream.last());
    EXPECT_EQ(stream.held(), 0u);
    stream.caught_up({}, answer(7, {6, 7}));
    EXPECT_TRUE(delivered.empty());
    stream.start_at({20, "E"});
    stream.accept(live(21));
    EXPECT_EQ(delivered, (offsets{21}));
}

TEST_F(topic_stream, answers_a_read_from_among_its_last_messages_itself)
{
    stream.start_at({5, "E"});
    EXPECT_EQ(recent_offsets(stream, {5, "E"}), offsets{});  // at the end already: nothing to read
    EXPECT_FALSE(recent_offsets(stream, {4, "E"}));          // before what it has seen: Redis
    for (std::uint64_t o = 6; o <= 10; ++o)
        stream.accept(live(o));
    EXPECT_EQ(stream.recent_count(), 4u);  // at most max_recent: 7..10
    EXPECT_EQ(recent_offsets(stream, {6, "E"}), (offsets{7, 8, 9, 10}));
    EXPECT_EQ(recent_offsets(stream, {8, "E"}), (offsets{9, 10}));
    EXPECT_EQ(recent_offsets(stream, {10, "E"}), offsets{});
    EXPECT_FALSE(recent_offsets(stream, {5, "E"}));   // 6 is no longer kept
    EXPECT_FALSE(recent_offsets(stream, {11, "E"}));  // ahead of this node: Redis knows more
    EXPECT_FALSE(recent_offsets(stream, {8, "F"}));   // another epoch
    EXPECT_FALSE(recent_offsets(stream, {8, ""}));
}

TEST_F(topic_stream, answers_a_page_of_its_recent_messages)
{
    stream.start_at({0, "E"});
    for (std::uint64_t o = 1; o <= 3; ++o)
        stream.accept(live(o));
    EXPECT_EQ(recent_offsets(stream, {0, "E"}, 1), offsets{1});  // one message at least
    auto const one = live(1)->envelope()->size();
    EXPECT_EQ(recent_offsets(stream, {0, "E"}, 2 * one), (offsets{1, 2}));
}

TEST_F(topic_stream, answers_nothing_itself_while_catching_up_and_keeps_only_what_has_no_hole)
{
    stream.start_at({5, "E"});
    stream.accept(live(6));
    stream.accept(live(8));  // 7 is missing: caught up from history
    EXPECT_FALSE(recent_offsets(stream, {6, "E"}));
    stream.caught_up({}, answer(8, {7, 8}));
    EXPECT_EQ(delivered, (offsets{6, 7, 8}));
    EXPECT_EQ(recent_offsets(stream, {5, "E"}), (offsets{6, 7, 8}));
}

TEST_F(topic_stream, forgets_its_recent_messages_on_a_gap_and_a_reset)
{
    stream.start_at({5, "E"});
    stream.accept(live(6));
    stream.accept(live(1, "F"));  // Redis lost the topic: a new epoch starts with this message
    EXPECT_EQ(recent_offsets(stream, {0, "F"}), offsets{1});
    EXPECT_FALSE(recent_offsets(stream, {5, "E"}));
    stream.reset();
    EXPECT_EQ(stream.recent_count(), 0u);
    EXPECT_EQ(budget.used, 0u);
}

TEST_F(topic_stream, answers_nothing_itself_past_the_topics_max_age)
{
    stream.start_at({5, "E"});
    stream.accept(live(6));
    auto const r = stream.recent({5, "E"}, 1 << 20, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    EXPECT_FALSE(r);  // 6 is older than the oldest a read may return: Redis decides what is left
}

TEST(topic_stream_recent, a_stream_that_keeps_none_answers_no_read_itself)
{
    struct sink final : redis::topic_stream::host {
        void deliver(message_ptr const&) override {}
        bool gap(std::string const&) override { return true; }
        void read_missed(std::string const&, position const&) override {}
    } host;
    redis::topic_stream s{host, "t", 10};  // no keep_recent: redis.recent_bytes 0, or a topic of a pattern only
    s.start_at({0, "E"});
    s.accept(live(1));
    auto const any_age = std::chrono::steady_clock::now() - std::chrono::hours(1);
    EXPECT_FALSE(s.recent({1, "E"}, 1 << 20, any_age)) << "not even a reader at the end: Redis answers every read";
    EXPECT_FALSE(s.recent({0, "E"}, 1 << 20, any_age));
}

TEST(topic_stream_budget, the_nodes_topics_share_one_budget_of_bytes)
{
    struct sink final : redis::topic_stream::host {
        void deliver(message_ptr const&) override {}
        bool gap(std::string const&) override { return true; }
        void read_missed(std::string const&, position const&) override {}
    } host;
    auto const cost = live(1)->envelope()->size() + 256;
    auto const any_age = std::chrono::steady_clock::now() - std::chrono::hours(1);
    detail::recent_budget budget{3 * cost};
    {
        redis::topic_stream a{host, "t", 10};
        redis::topic_stream b{host, "t", 10};
        a.keep_recent(64, budget);
        b.keep_recent(64, budget);
        a.start_at({0, "E"});
        b.start_at({0, "E"});
        a.accept(live(1));
        a.accept(live(2));
        b.accept(live(1));
        EXPECT_EQ(budget.used, 3 * cost);
        b.accept(live(2));  // full: b makes room from its own oldest
        EXPECT_EQ(b.recent_count(), 1u);
        EXPECT_EQ(a.recent_count(), 2u);
        EXPECT_FALSE(b.recent({0, "E"}, 1 << 20, any_age));  // 1 is gone: that read goes to Redis
        EXPECT_TRUE(b.recent({1, "E"}, 1 << 20, any_age));
        {
            redis::topic_stream c{host, "t", 10};
            c.keep_recent(64, budget);
            c.start_at({0, "E"});
            c.accept(live(1));  // full, and nothing of its own to give: c keeps nothing
            EXPECT_EQ(c.recent_count(), 0u);
            EXPECT_FALSE(c.recent({0, "E"}, 1 << 20, any_age));
            EXPECT_TRUE(c.recent({1, "E"}, 1 << 20, any_age));  // a reader at its end needs nothing kept
        }
        EXPECT_EQ(budget.used, 3 * cost);
    }
    EXPECT_EQ(budget.used, 0u);  // a stream gives its share back as it goes
}

}  // namespace
}  // namespace switchboard::test
