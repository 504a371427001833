// loop_cluster across threads: what the contract suite (one node on the test's loop) cannot show. Nodes on loops
// of their own threads share one store: each topic is numbered in one place whichever loop publishes, every node
// subscribed to a topic gets it in offset order once, whatever thread published it, and a node with no subscriber
// of a topic does not get it at all (unless it follows a pattern matching it); one sequence and one pattern history; a
// history answer comes after every message published before its read (so a join takes over exactly there);
// budgets hold across loops; a node may go while messages are on their way to it.

#include <switchboard/error.hpp>
#include <switchboard/loop_cluster.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;

// One loop on its own thread with one node of the cluster, subscribed to `topics` (as its hub would be by their
// first subscribers); what it receives is kept on its thread.
struct loop {
    loop(loop_cluster& cluster, std::vector<std::string> const& topics) : node(cluster.node(ioc.get_executor()))
    {
        node->set_delivery([this](message_ptr const& m) { got.push_back(m); });
        // Before the loop's thread starts, the node is this thread's.
        for (auto const& topic : topics)
            node->subscribe(topic);
        thread = std::thread([this] { ioc.run(); });
    }
    ~loop()
    {
        // The node goes on its loop, as the server's does.
        run([this] {
            node->close();
            node.reset();
            return 0;
        });
        work.reset();
        thread.join();
    }

    /// Runs `f` on the loop and waits for its result (a test failure after 10 s).
    template <class F>
    auto run(F f) -> decltype(f())
    {
        std::promise<decltype(f())> p;
        auto result = p.get_future();
        boost::asio::post(ioc, [&] { p.set_value(f()); });
        EXPECT_EQ(result.wait_for(10s), std::future_status::ready) << "the loop did not answer within 10 s";
        return result.get();
    }

    /// Waits until `pred` holds on the loop (false after 10 s).
    template <class Pred>
    bool wait(Pred pred)
    {
        auto const deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            if (run(pred))
                return true;
            std::this_thread::sleep_for(1ms);
        }
        return false;
    }

    boost::asio::io_context ioc{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
    std::unique_ptr<backplane> node;
    std::vector<message_ptr> got;  // the loop's
    std::thread thread;
};

std::vector<message_ptr> of_topic(std::vector<message_ptr> const& all, std::string const& topic)
{
    std::vector<message_ptr> out;
    for (auto const& m : all)
        if (m->topic() == topic)
            out.push_back(m);
    return out;
}

TEST(loop_cluster, every_subscribed_node_gets_its_topics_in_offset_order_once_whichever_thread_published)
{
    loop_cluster cluster;
    std::vector<std::unique_ptr<loop>> loops;
    for (int i = 0; i < 4; ++i)
        loops.push_back(std::make_unique<loop>(cluster, std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(cluster.node_count(), 4u);

    // Every loop publishes to the same two topics at once, from its own thread.
    constexpr std::size_t per_loop = 500;
    std::atomic<std::size_t> answered = 0;
    for (auto& l : loops)
        boost::asio::post(l->ioc, [&l = *l, &answered] {
            for (std::size_t i = 0; i < per_loop; ++i)
                l.node->publish(i % 2 ? "a" : "b", std::to_string(i), [&answered](boost::system::error_code ec, position) {
                    EXPECT_FALSE(ec) << ec.message();
                    ++answered;
                });
        });
    std::size_t const total = per_loop * loops.size();
    for (auto& l : loops)
        ASSERT_TRUE(l->wait([&] { return l->got.size() == total; })) << "a node did not get every message";
    for (auto& l : loops) {
        auto const got = l->run([&] { return l->got; });
        for (auto const* topic : {"a", "b"}) {
            auto const mine = of_topic(got, topic);
            ASSERT_EQ(mine.size(), total / 2);
            for (std::size_t i = 0; i < mine.size(); ++i) {
                EXPECT_EQ(mine[i]->offset(), i + 1) << topic << ": out of order or duplicated";
                EXPECT_EQ(mine[i]->epoch(), mine[0]->epoch());
            }
        }
        // One sequence across topics and loops: increasing in the order each node got them.
        for (std::size_t i = 1; i < got.size(); ++i)
            EXPECT_LT(got[i - 1]->sequence(), got[i]->sequence());
    }
    EXPECT_TRUE(loops[0]->wait([&] { return answered == total; }));
}

std::vector<std::string> topics_of(std::vector<message_ptr> const& all)
{
    std::vector<std::string> out;
    for (auto const& m : all)
        out.push_back(m->topic());
    return out;
}

// A loop is handed a topic's messages only while its hub has a subscriber of it or follows a pattern matching
// it: at many loops and many small topics, a message costs only the loops that deliver it.
TEST(loop_cluster, a_loop_is_handed_only_the_topics_it_subscribed_to_or_follows_a_pattern_of)
{
    loop_cluster cluster;
    loop a(cluster, {"x", "end"}), b(cluster, {"y", "end"}), c(cluster, {"end"});
    auto publish = [](loop& from, std::vector<std::string> const& topics) {
        from.run([&] {
            for (auto const& topic : topics)
                from.node->publish(topic, "1", [](boost::system::error_code ec, position) { EXPECT_FALSE(ec); });
            return 0;
        });
    };
    // Once "end" reached a loop, so did every message published before it that the loop was to get: the cluster
    // hands each node its messages in the order it took them.
    auto received = [&](loop& l, std::size_t ends) {
        EXPECT_TRUE(l.wait([&] { return of_topic(l.got, "end").size() == ends; })) << "\"end\" did not arrive";
        return l.run([&] { return topics_of(l.got); });
    };
    using topics = std::vector<std::string>;

    for (loop* from : {&a, &b, &c})
        publish(*from, {"x", "y", "q.z"});
    publish(a, {"end"});
    EXPECT_EQ(received(a, 1), (topics{"x", "x", "x", "end"}));
    EXPECT_EQ(received(b, 1), (topics{"y", "y", "y", "end"}));
    EXPECT_EQ(received(c, 1), (topics{"end"})) << "a loop with no subscriber of x, y or q.z was handed them";
    EXPECT_EQ(cluster.nodes_receiving("x"), 1u);
    EXPECT_EQ(cluster.nodes_receiving("q.z"), 0u);

    // Following q.*, c takes what it matches; unsubscribed from x, a takes x no more.
    c.run([&] {
        c.node->subscribe_pattern("q.*");
        return 0;
    });
    a.run([&] {
        a.node->unsubscribe("x");
        return 0;
    });
    EXPECT_EQ(cluster.nodes_receiving("q.z"), 1u);
    EXPECT_EQ(cluster.nodes_receiving("x"), 0u);
    publish(b, {"x", "q.z", "r.z", "end"});
    EXPECT_EQ(received(a, 2), (topics{"x", "x", "x", "end", "end"}));
    EXPECT_EQ(received(c, 2), (topics{"end", "q.z", "end"}));

    c.run([&] {
        c.node->unsubscribe_pattern("q.*");
        return 0;
    });
    publish(b, {"q.z", "end"});
    EXPECT_EQ(received(c, 3), (topics{"end", "q.z", "end", "end"}));
}

// A loop's own publish is delivered to that loop and answered before the call returns, as on the memory
// backplane, whatever the other loops publish meanwhile: so the publishes a connection pipelined, handled in
// one turn, fan out in that turn and share its flush (with a hop to the loop's next turn, two loops had one
// turn, and one write per subscriber, per publish). The other loops' messages queued before it come first.
TEST(loop_cluster, a_loops_own_publish_is_delivered_and_answered_before_the_call_returns)
{
    // Declared before the loops: the other loop's last posted publish may run after the test body.
    std::atomic<bool> stop = false;
    std::atomic<std::size_t> others = 0;
    std::function<void()> keep_publishing;
    loop_cluster cluster;
    loop mine(cluster, {"t"}), other(cluster, {"t"});

    // The other loop publishes to the same topic all along, from its thread.
    keep_publishing = [&] {
        if (stop)
            return;
        other.node->publish("t", "\"other\"", [&](boost::system::error_code, position) { ++others; });
        boost::asio::post(other.ioc, keep_publishing);
    };
    boost::asio::post(other.ioc, keep_publishing);
    ASSERT_TRUE(other.wait([&] { return others > 10; }));

    constexpr std::size_t count = 200;
    auto const in_call = mine.run([&] {
        std::size_t answered_in_call = 0, delivered_in_call = 0;
        for (std::size_t i = 0; i < count; ++i) {
            bool answered = false;
            auto const before = mine.got.size();
            mine.node->publish("t", std::to_string(i), [&](boost::system::error_code ec, position p) {
                EXPECT_FALSE(ec) << ec.message();
                // Its message reached this loop first.
                EXPECT_TRUE(!mine.got.empty() && mine.got.back()->offset() == p.offset);
                answered = true;
            });
            answered_in_call += answered;
            // Its own message among what the call delivered (the other loop's may follow it).
            delivered_in_call += std::any_of(mine.got.begin() + static_cast<std::ptrdiff_t>(before), mine.got.end(),
                                             [&](message_ptr const& m) { return m->data() == std::to_string(i); });
        }
        return std::pair{answered_in_call, delivered_in_call};
    });
    stop = true;
    EXPECT_EQ(in_call.first, count);
    EXPECT_EQ(in_call.second, count);

    // Still one order: every message of the topic once, by offset, on both loops.
    auto const total = mine.run([&] { return mine.got.back()->offset(); });
    for (auto* l : {&mine, &other}) {
        ASSERT_TRUE(l->wait([&] { return !l->got.empty() && l->got.back()->offset() >= total; }));
        auto const got = l->run([&] { return l->got; });
        for (std::size_t i = 0; i < got.size(); ++i)
            ASSERT_EQ(got[i]->offset(), i + 1) << "out of order or duplicated";
    }
}

// A service publishing in a tight loop on its own loop thread makes one long turn. The other loops must not wait
// for its end (they did: 30-180 ms in bench/loop_hop): they are woken every few dozen messages handed to them.
TEST(loop_cluster, a_loop_publishing_in_one_long_turn_wakes_the_others_as_it_goes)
{
    loop_cluster cluster;
    loop mine(cluster, {}), other(cluster, {"t"});
    auto const handed_in_turn = mine.run([&] {
        for (int i = 0; i < 1'000; ++i)
            mine.node->publish("t", std::to_string(i), [](boost::system::error_code ec, position) {
                EXPECT_FALSE(ec) << ec.message();
            });
        // Still inside the publishing turn: the other loop, on its own thread, has had messages to deliver.
        auto const deadline = std::chrono::steady_clock::now() + 5s;
        std::size_t got = 0;
        while (got == 0 && std::chrono::steady_clock::now() < deadline) {
            got = other.run([&] { return other.got.size(); });
            if (got == 0)
                std::this_thread::sleep_for(1ms);
        }
        return got;
    });
    EXPECT_GT(handed_in_turn, 0u) << "the other loop was woken only when the publishing turn ended";
    ASSERT_TRUE(other.wait([&] { return other.got.size() == 1'000; }));
    auto const got = other.run([&] { return other.got; });
    for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i]->offset(), i + 1) << "out of order or duplicated";
}

// Presence events are a topic's like its messages: a loop whose hub has no subscriber of the topic would drop them.
TEST(loop_cluster, presence_events_reach_only_the_loops_with_a_subscriber_of_their_topic)
{
    loop_cluster cluster;
    loop a(cluster, {"room"}), b(cluster, {"other"}), c(cluster, {"room"});
    std::vector<std::string> told_a, told_b, told_c;  // each its loop's
    a.run([&] { a.node->set_presence_delivery([&](presence_event_ptr const& e) { told_a.push_back(e->topic()); }); return 0; });
    b.run([&] { b.node->set_presence_delivery([&](presence_event_ptr const& e) { told_b.push_back(e->topic()); }); return 0; });
    c.run([&] { c.node->set_presence_delivery([&](presence_event_ptr const& e) { told_c.push_back(e->topic()); }); return 0; });

    auto const join = [](loop& l, std::string const& topic, std::string const& client) {
        l.run([&] {
            l.node->presence_join(topic, presence_member{client, "", "null"}, 100, [](boost::system::error_code ec) {
                EXPECT_FALSE(ec) << ec.message();
            });
            return 0;
        });
    };
    join(a, "room", std::string(32, 'a'));
    // Taken after the room's join: b's inbox would hold that join ahead of its own.
    join(b, "other", std::string(32, 'b'));
    ASSERT_TRUE(b.wait([&] { return !told_b.empty(); }));
    ASSERT_TRUE(a.wait([&] { return !told_a.empty(); }));
    ASSERT_TRUE(c.wait([&] { return !told_c.empty(); }));
    EXPECT_EQ(b.run([&] { return told_b; }), std::vector<std::string>{"other"});
    EXPECT_EQ(a.run([&] { return told_a; }), std::vector<std::string>{"room"});
    EXPECT_EQ(c.run([&] { return told_c; }), std::vector<std::string>{"room"});
}

// A delivery that publishes (an application hook reacting to a message) runs inside the loop's batch: its
// publish waits for the batch's end rather than jump ahead of the messages still in it.
TEST(loop_cluster, a_publish_made_by_a_delivery_keeps_the_topic_in_order)
{
    loop_cluster cluster;
    loop mine(cluster, {"t"}), other(cluster, {});
    mine.run([&] {
        mine.node->set_delivery([&](message_ptr const& m) {
            mine.got.push_back(m);
            if (m->data() == "\"echo\"")
                mine.node->publish("t", "\"reply\"", [](boost::system::error_code ec, position) { EXPECT_FALSE(ec); });
        });
        return 0;
    });
    // From the other loop, in one turn: the echo, then more the reply must come after.
    other.run([&] {
        other.node->publish("t", "\"echo\"", [](boost::system::error_code, position) {});
        for (int i = 0; i < 50; ++i)
            other.node->publish("t", std::to_string(i), [](boost::system::error_code, position) {});
        return 0;
    });
    ASSERT_TRUE(mine.wait([&] { return mine.got.size() == 52; }));
    auto const got = mine.run([&] { return mine.got; });
    for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_EQ(got[i]->offset(), i + 1) << "out of order or duplicated";
}

TEST(loop_cluster, one_sequence_and_one_pattern_history_across_loops)
{
    loop_cluster cluster;
    loop a(cluster, {}), b(cluster, {});
    auto publish = [](loop& l, std::string topic) {
        std::promise<position> p;
        auto f = p.get_future();
        boost::asio::post(l.ioc, [&] {
            l.node->publish(topic, "1", [&](boost::system::error_code ec, position where) {
                EXPECT_FALSE(ec);
                p.set_value(where);
            });
        });
        EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
        return f.get();
    };
    publish(a, "s.1");
    publish(b, "s.2");
    publish(a, "s.1");
    publish(b, "other");
    for (loop* asker : {&a, &b}) {
        std::promise<pattern_history_result> p;
        auto f = p.get_future();
        boost::asio::post(asker->ioc, [&] {
            asker->node->pattern_history("s.*", position{0, ""}, backplane::whole_history, 100,
                                         [&](boost::system::error_code ec, pattern_history_result r) {
                                             EXPECT_FALSE(ec);
                                             p.set_value(std::move(r));
                                         });
        });
        ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
        auto const r = f.get();
        ASSERT_EQ(r.messages.size(), 3u);
        EXPECT_EQ(r.messages[0]->topic(), "s.1");
        EXPECT_EQ(r.messages[1]->topic(), "s.2");
        EXPECT_EQ(r.messages[2]->topic(), "s.1");
        EXPECT_EQ(r.messages[2]->offset(), 2u);
        EXPECT_EQ(r.latest.offset, 4u) << "the sequence counts every topic's publishes, on every loop";
        EXPECT_TRUE(r.recovered);
    }
}

TEST(loop_cluster, a_history_answer_comes_after_every_message_published_before_its_read)
{
    // What a subscriber joining on loop B relies on: when B's history answer runs, B has delivered the topic
    // exactly up to the answer's position (delivered() says so), however fast loop A publishes meanwhile.
    loop_cluster cluster;
    loop a(cluster, {}), b(cluster, {});
    std::atomic<bool> stop = false;
    std::thread publisher([&] {
        while (!stop)
            a.run([&] {
                for (int i = 0; i < 20; ++i)
                    a.node->publish("t", "null", [](boost::system::error_code, position) {});
                return 0;
            });
    });
    for (int round = 0; round < 50; ++round) {
        std::promise<bool> p;
        auto f = p.get_future();
        boost::asio::post(b.ioc, [&] {
            if (round == 0)
                b.node->subscribe("t");
            b.node->history("t", std::nullopt, backplane::whole_history, [&](boost::system::error_code ec, history_result r) {
                EXPECT_FALSE(ec);
                auto const delivered = b.node->delivered("t");
                auto const got = of_topic(b.got, "t");
                // What b was handed since it subscribed ends at the answer's position; none may have come yet,
                // when everything up to it was published before b took the topic on (it is in the history).
                bool const exact = r.latest.offset == 0 ||
                                   (delivered && *delivered == r.latest &&
                                    (got.empty() || got.back()->offset() == r.latest.offset));
                p.set_value(exact);
            });
        });
        ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
        EXPECT_TRUE(f.get()) << "round " << round;
    }
    stop = true;
    publisher.join();
}

TEST(loop_cluster, each_loop_gets_a_message_of_its_own)
{
    // A message caches its encodings for one loop without a lock: two loops must never hold the same one, live
    // or from history (they share the envelope's bytes, not the message).
    loop_cluster cluster;
    loop a(cluster, {"t"}), b(cluster, {"t"});
    a.run([&] {
        a.node->publish("t", R"({"x":1})", [](boost::system::error_code, position) {});
        return 0;
    });
    ASSERT_TRUE(a.wait([&] { return a.got.size() == 1; }));
    ASSERT_TRUE(b.wait([&] { return b.got.size() == 1; }));
    auto const on_a = a.run([&] { return a.got.front(); });
    auto const on_b = b.run([&] { return b.got.front(); });
    EXPECT_NE(on_a, on_b);
    EXPECT_EQ(on_a->envelope(), on_b->envelope()) << "the bytes are shared";
    auto history_on = [](loop& l) {
        std::promise<message_ptr> p;
        auto f = p.get_future();
        boost::asio::post(l.ioc, [&] {
            l.node->history("t", position{0, ""}, backplane::whole_history, [&](boost::system::error_code, history_result r) {
                p.set_value(r.messages.empty() ? nullptr : r.messages.front());
            });
        });
        EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
        return f.get();
    };
    auto const replay_a = history_on(a);
    auto const replay_b = history_on(b);
    ASSERT_TRUE(replay_a && replay_b);
    EXPECT_NE(replay_a, replay_b);
    EXPECT_NE(replay_a, on_b);
    EXPECT_EQ(replay_a->data(), R"({"x":1})");
}

TEST(loop_cluster, budgets_hold_across_loops)
{
    history_options h;
    h.max_topics_per_client = 3;
    loop_cluster cluster(h);
    loop a(cluster, {}), b(cluster, {});
    auto publish_as = [](loop& l, std::string const& client, std::string topic) {
        l.run([&] {
            auto scope = l.node->on_behalf_of(client);
            l.node->publish(topic, "1", [](boost::system::error_code ec, position) { EXPECT_FALSE(ec); });
            return 0;
        });
    };
    // Topics with history are in use: none of them gives its room away.
    publish_as(a, "user:1", "x.1");
    publish_as(b, "user:1", "x.2");
    publish_as(a, "user:1", "x.3");
    EXPECT_TRUE(a.wait([&] { return cluster.topic_count() == 3; }));
    std::promise<boost::system::error_code> refused;
    auto f = refused.get_future();
    boost::asio::post(b.ioc, [&] {
        auto scope = b.node->on_behalf_of("user:1");
        b.node->publish("x.4", "1", [&](boost::system::error_code ec, position) { refused.set_value(ec); });
    });
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(f.get(), make_error_code(error::too_many_topics)) << "the fourth topic, on another loop";
    EXPECT_EQ(cluster.topic_count(), 3u);
}

TEST(loop_cluster, a_node_may_go_while_messages_are_on_their_way_to_it)
{
    loop_cluster cluster;
    auto a = std::make_unique<loop>(cluster, std::vector<std::string>{"t"});
    auto b = std::make_unique<loop>(cluster, std::vector<std::string>{"t"});
    std::atomic<bool> stop = false;
    std::atomic<int> rounds = 0;
    std::thread publisher([&] {
        while (!stop) {
            a->run([&] {
                for (int i = 0; i < 50; ++i)
                    a->node->publish("t", "null", [](boost::system::error_code, position) {});
                return 0;
            });
            ++rounds;
        }
    });
    // Publishing, before b goes (on a busy machine the thread may not have started yet).
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (rounds == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    b.reset();  // its inbox may still hold messages and be posted to
    EXPECT_EQ(cluster.node_count(), 1u);
    stop = true;
    publisher.join();
    auto const got = a->run([&] { return a->got.size(); });
    EXPECT_GT(got, 0u);
}

}  // namespace
}  // namespace switchboard::test
