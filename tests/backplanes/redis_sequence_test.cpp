// The Redis backplane's sequence and pattern history across nodes and faults, with a real redis-server: what the
// contract suite (one backplane at a time) cannot show. Two backplanes on one Redis share one sequence; the
// topic index is bounded and says what it let go; a Redis that lost the sequence (or only the index) makes a
// resume from before it recovered:false, never a silent empty answer; entries written before sequences are read.

#include "support/redis_process.hpp"
#include "support/run_until.hpp"

#include <switchboard/error.hpp>
#include <switchboard/redis_backplane.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;

struct pattern_read {
    boost::system::error_code ec;
    pattern_history_result result;
};

class redis_sequence : public ::testing::Test {
protected:
    void TearDown() override
    {
        for (auto& n : nodes_)
            n->close();
        ioc_.run_for(1s);  // returns as soon as nothing is left to run
    }

    /// One more node on the test's Redis.
    redis_backplane& node(redis_options o = {}, history_options h = {})
    {
        o.url = redis_.url();
        nodes_.push_back(std::make_unique<redis_backplane>(ioc_.get_executor(), o, std::move(h)));
        auto& n = *nodes_.back();
        EXPECT_TRUE(run_until(ioc_, [&] { return n.connected(); }, 10s)) << "the backplane never connected";
        return n;
    }

    position publish(backplane& b, std::string topic, std::string data = "null")
    {
        std::optional<position> out;
        b.publish(std::move(topic), std::move(data), [&](boost::system::error_code ec, position p) {
            EXPECT_FALSE(ec) << ec.message();
            out = std::move(p);
        });
        EXPECT_TRUE(run_until(ioc_, [&] { return out.has_value(); }, 10s)) << "publish never answered";
        return out.value_or(position{});
    }

    pattern_read pattern_history(backplane& b, std::string const& pattern, std::optional<position> since,
                                 std::size_t max_bytes = backplane::whole_history, std::size_t max_topics = 1000)
    {
        std::optional<pattern_read> out;
        b.pattern_history(pattern, since, max_bytes, max_topics, [&](boost::system::error_code ec, pattern_history_result r) {
            out = pattern_read{ec, std::move(r)};
        });
        EXPECT_TRUE(run_until(ioc_, [&] { return out.has_value(); }, 10s)) << "pattern_history never answered";
        return out.value_or(pattern_read{make_error_code(error::backplane_unavailable), {}});
    }

    position sequence_now(backplane& b)
    {
        auto const r = pattern_history(b, "any.*", std::nullopt);
        EXPECT_FALSE(r.ec) << r.ec.message();
        return r.result.latest;
    }

    static std::vector<std::string> names_of(std::vector<message_ptr> const& messages)
    {
        std::vector<std::string> out;
        for (auto const& m : messages)
            out.push_back(m->topic() + "#" + std::to_string(m->offset()));
        return out;
    }

    redis_process redis_;  // first: up before the backplanes, stopped after them
    boost::asio::io_context ioc_;
    std::vector<std::unique_ptr<redis_backplane>> nodes_;
};

TEST_F(redis_sequence, two_nodes_share_one_sequence_and_one_pattern_history)
{
    auto& a = node();
    auto& b = node();
    std::vector<message_ptr> live;
    a.set_delivery([&](message_ptr const& m) { live.push_back(m); });
    a.subscribe_pattern("n.*");
    std::optional<boost::system::error_code> ready;
    a.pattern_ready("n.*", [&](boost::system::error_code ec) { ready = ec; });
    ASSERT_TRUE(run_until(ioc_, [&] { return ready.has_value(); }, 10s));
    ASSERT_FALSE(*ready);

    auto const start = sequence_now(b);
    EXPECT_EQ(sequence_now(a), start) << "one sequence, whichever node asks";
    std::vector<std::string> sent;
    for (int i = 0; i < 4; ++i) {
        auto& from = i % 2 ? b : a;
        auto const topic = i < 2 ? "n.x" : "n.y";
        sent.push_back(topic + std::string("#") + std::to_string(publish(from, topic, std::to_string(i)).offset));
    }
    for (auto const& r : {pattern_history(a, "n.*", start), pattern_history(b, "n.*", start)}) {
        ASSERT_FALSE(r.ec) << r.ec.message();
        EXPECT_TRUE(r.result.recovered);
        EXPECT_EQ(names_of(r.result.messages), sent);
        ASSERT_EQ(r.result.messages.size(), 4u);
        for (std::size_t i = 0; i < 4; ++i)  // one count across both nodes: the 4 publishes took the next 4
            EXPECT_EQ(r.result.messages[i]->sequence(), start.offset + 1 + i);
        EXPECT_EQ(r.result.latest, (position{start.offset + 4, start.epoch}));
    }
    // Node a's live messages, from both publishers, carry the same sequences.
    ASSERT_TRUE(run_until(ioc_, [&] { return live.size() == 4; }, 10s));
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_EQ(live[i]->sequence(), start.offset + 1 + i) << names_of(live)[i];
    // And history() gives them too.
    std::optional<history_result> h;
    b.history("n.y", position{0, ""}, backplane::whole_history, [&](boost::system::error_code, history_result r) { h = r; });
    ASSERT_TRUE(run_until(ioc_, [&] { return h.has_value(); }, 10s));
    ASSERT_EQ(h->messages.size(), 2u);
    EXPECT_EQ(h->messages[1]->sequence(), start.offset + 4);
}

TEST_F(redis_sequence, the_topic_index_is_bounded_and_a_resume_from_before_what_it_let_go_is_not_recovered)
{
    redis_options o;
    o.max_indexed_topics = 2;
    auto& a = node(o);
    auto const start = sequence_now(a);
    publish(a, "i.1");
    auto const after_first = sequence_now(a);
    publish(a, "i.2");
    publish(a, "i.3");  // i.1 is let go
    auto const index = redis_.command({"ZCARD", "switchboard:topics"});
    ASSERT_TRUE(index);
    EXPECT_EQ(index->integer, 2);

    auto const r = pattern_history(a, "i.*", start);
    ASSERT_FALSE(r.ec);
    EXPECT_FALSE(r.result.recovered) << "i.1 may have had messages nobody can name now";
    EXPECT_TRUE(r.result.lost.empty());
    EXPECT_EQ(names_of(r.result.messages), (std::vector<std::string>{"i.2#1", "i.3#1"}));
    auto const later = pattern_history(a, "i.*", after_first);  // i.1 had nothing after this
    EXPECT_TRUE(later.result.recovered);
    EXPECT_EQ(names_of(later.result.messages), (std::vector<std::string>{"i.2#1", "i.3#1"}));
}

TEST_F(redis_sequence, a_redis_that_lost_its_data_starts_a_new_sequence_epoch)
{
    auto& a = node();
    auto const start = sequence_now(a);
    publish(a, "l.a");
    redis_.restart_empty();
    ASSERT_TRUE(run_until(ioc_, [&] { return !a.connected(); }, 10s));
    ASSERT_TRUE(run_until(ioc_, [&] { return a.connected(); }, 10s));
    publish(a, "l.a");
    auto const r = pattern_history(a, "l.*", start);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_FALSE(r.result.recovered);
    EXPECT_TRUE(r.result.messages.empty());
    EXPECT_NE(r.result.latest.epoch, start.epoch);
}

TEST_F(redis_sequence, an_index_gone_alone_makes_earlier_resumes_not_recovered)
{
    auto& a = node();
    auto const start = sequence_now(a);
    publish(a, "g.a");
    ASSERT_TRUE(redis_.command({"DEL", "switchboard:topics"}));  // as an eviction would
    auto const before_next = sequence_now(a);
    publish(a, "g.b");
    auto const r = pattern_history(a, "g.*", start);
    EXPECT_FALSE(r.result.recovered) << "g.a's message is there, but the index cannot say what else was";
    EXPECT_EQ(names_of(r.result.messages), (std::vector<std::string>{"g.b#1"}));
    auto const later = pattern_history(a, "g.*", before_next);
    EXPECT_TRUE(later.result.recovered);
    EXPECT_EQ(names_of(later.result.messages), (std::vector<std::string>{"g.b#1"}));
}

TEST_F(redis_sequence, a_topic_whose_position_was_lost_is_named)
{
    auto& a = node();
    auto const start = sequence_now(a);
    publish(a, "e.a", "1");
    publish(a, "e.b", "2");
    auto const middle = sequence_now(a);
    ASSERT_TRUE(redis_.command({"DEL", "switchboard:{e.a}.position"}));  // evicted, or past redis.position_ttl
    auto const again = publish(a, "e.a", "3");
    EXPECT_EQ(again.offset, 1u) << "a new epoch of the topic";
    auto const r = pattern_history(a, "e.*", start);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_FALSE(r.result.recovered);
    EXPECT_EQ(r.result.lost, (std::vector<std::string>{"e.a"})) << "its message 1 is of an epoch that ended";
    EXPECT_EQ(names_of(r.result.messages), (std::vector<std::string>{"e.b#1", "e.a#1"}));
    auto const later = pattern_history(a, "e.*", middle);  // it lost nothing after this
    EXPECT_TRUE(later.result.recovered);
    EXPECT_EQ(names_of(later.result.messages), (std::vector<std::string>{"e.a#1"}));
}

// Each topic's list is read in chunks of 64 entries, merged across topics: long interleaved histories come back
// whole and in sequence order, in one answer or page by page.
TEST_F(redis_sequence, long_interleaved_histories_are_merged_across_chunks_and_pages)
{
    auto& a = node();
    auto const start = sequence_now(a);
    std::vector<std::string> sent;
    for (int i = 0; i < 200; ++i) {
        auto const topic = i % 3 == 0 ? "c.rare" : (i % 2 ? "c.odd" : "c.even");
        sent.push_back(topic + std::string("#") + std::to_string(publish(a, topic, std::to_string(i)).offset));
    }
    auto const whole = pattern_history(a, "c.*", start);
    ASSERT_FALSE(whole.ec);
    EXPECT_TRUE(whole.result.recovered);
    EXPECT_FALSE(whole.result.more);
    EXPECT_EQ(names_of(whole.result.messages), sent);

    for (std::size_t max_bytes : {std::size_t{1}, std::size_t{700}, std::size_t{5000}}) {
        SCOPED_TRACE("max_bytes " + std::to_string(max_bytes));
        std::vector<std::string> got;
        position from = start;
        for (int i = 0; i < 250; ++i) {  // bounded: 200 messages, at least one a page
            auto const page = pattern_history(a, "c.*", from, max_bytes);
            ASSERT_FALSE(page.ec);
            ASSERT_FALSE(page.result.messages.empty());
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
        EXPECT_EQ(got, sent);
    }
}

TEST_F(redis_sequence, entries_written_before_sequences_are_still_read)
{
    // A topic an older version published: position and entries without sequences.
    ASSERT_TRUE(redis_.command({"HSET", "switchboard:{old.t}.position", "e", "OldEpoch", "o", "2"}));
    ASSERT_TRUE(redis_.command({"RPUSH", "switchboard:{old.t}.history", "2 OldEpoch 99999999999999 \"b\"",
                                "1 OldEpoch 99999999999999 \"a\""}));
    auto& a = node();
    std::optional<history_result> h;
    a.history("old.t", position{0, "OldEpoch"}, backplane::whole_history,
              [&](boost::system::error_code, history_result r) { h = r; });
    ASSERT_TRUE(run_until(ioc_, [&] { return h.has_value(); }, 10s));
    ASSERT_EQ(h->messages.size(), 2u);
    EXPECT_EQ(h->messages[1]->data(), "\"b\"");
    EXPECT_EQ(h->messages[1]->sequence(), 0u);
    // Its next publish joins the sequence; a pattern resume has what came after, and is whole.
    auto const start = sequence_now(a);
    EXPECT_EQ(publish(a, "old.t", "\"c\""), (position{3, "OldEpoch"}));
    auto const r = pattern_history(a, "old.*", start);
    EXPECT_TRUE(r.result.recovered);
    EXPECT_EQ(names_of(r.result.messages), (std::vector<std::string>{"old.t#3"}));
}

TEST_F(redis_sequence, a_resume_from_a_sequence_not_reached_or_of_another_epoch_reads_nothing)
{
    auto& a = node();
    auto const now = sequence_now(a);
    publish(a, "f.a");
    for (auto const& since : {position{now.offset + 1000, now.epoch}, position{0, "nope"}, position{3, ""}}) {
        auto const r = pattern_history(a, "f.*", since);
        ASSERT_FALSE(r.ec);
        EXPECT_FALSE(r.result.recovered) << since.offset << " " << since.epoch;
        EXPECT_TRUE(r.result.messages.empty());
    }
}

}  // namespace
}  // namespace switchboard::test
