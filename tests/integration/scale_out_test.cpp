// Several switchboard-server processes sharing one real broker (started by the test on a free port): the same
// promises on each backplane that links nodes, Redis and NATS (TEST_P over `brokers`): messages cross nodes and
// transports exactly once with the same offsets, clients resume on another node, history limits hold, a node's
// restart keeps history, a broker restart (or crash) loses nothing that was acknowledged, a broker that lost its
// data is reported as a gap, nodes subscribe in the broker only to topics they have subscribers for, and
// readiness follows the broker, patterns bring other nodes' topics once and in order (and tell their subscribers
// of a broker outage). Then what only Redis shows (TEST(redis, ...)): its pub/sub connection cut alone,
// its keys evicted or trimmed.

#include "support/http_client.hpp"
#include "support/nats_process.hpp"
#include "support/offsets.hpp"
#include "support/poll_client.hpp"
#include "support/redis_process.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The broker the nodes share, whichever it is: how a node names it, how a test stops, crashes, restarts or
// empties it, and how many nodes it sends a topic to.
class broker {
public:
    virtual ~broker() = default;
    virtual char const* name() const = 0;  // the backplane's name ("redis", "nats"), as in metrics
    /// The flag and URL that point a node at it.
    virtual std::vector<std::string> flags() const = 0;
    /// Fast reconnects keep the fault tests short; production defaults start at 100 ms.
    virtual std::vector<std::string> fast_reconnects() const = 0;
    virtual void stop() = 0;   // a clean shutdown (SIGTERM)
    virtual void kill() = 0;   // a crash (SIGKILL)
    virtual void start() = 0;  // back on the same port with its data
    virtual void restart_empty() = 0;
    /// How many nodes it sends `topic` to (subscriptions on it).
    virtual long long subscribers(std::string const& topic) const = 0;
    /// What the nodes have asked of it so far, by its own count: Redis its commands that publish, read or
    /// (un)subscribe; NATS the messages its clients sent (publishes, requests, presence heartbeats).
    virtual long long requests() const = 0;
};

// Redis's own count of the `command`s it has run (INFO commandstats).
long long redis_calls(redis_process const& redis, std::string const& command)
{
    auto const r = redis.command({"INFO", "commandstats"});
    std::string const text = r && r->str ? std::string(r->str, r->len) : std::string();
    auto const key = "cmdstat_" + command + ":calls=";
    auto const at = text.find(key);
    return at == std::string::npos ? 0 : std::stoll(text.substr(at + key.size()));
}

class redis_broker final : public broker {
public:
    char const* name() const override { return "redis"; }
    std::vector<std::string> flags() const override { return {"--redis", redis.url()}; }
    std::vector<std::string> fast_reconnects() const override
    {
        return {"SWITCHBOARD_REDIS_RECONNECT_MIN=20", "SWITCHBOARD_REDIS_RECONNECT_MAX=200"};
    }
    void stop() override { redis.stop(); }
    void kill() override { redis.kill(); }
    void start() override { redis.start(); }
    void restart_empty() override { redis.restart_empty(); }
    long long subscribers(std::string const& topic) const override { return redis.subscribers("switchboard:" + topic); }
    long long requests() const override
    {
        return redis_calls(redis, "evalsha") + redis_calls(redis, "subscribe") + redis_calls(redis, "unsubscribe");
    }
    redis_process redis;
};

class nats_broker final : public broker {
public:
    char const* name() const override { return "nats"; }
    std::vector<std::string> flags() const override { return {"--nats", nats.url()}; }
    std::vector<std::string> fast_reconnects() const override { return {"SWITCHBOARD_NATS_RECONNECT_WAIT=20"}; }
    void stop() override { nats.stop(); }
    void kill() override { nats.kill(); }
    void start() override { nats.start(); }
    void restart_empty() override { nats.restart_empty(); }
    long long subscribers(std::string const& topic) const override { return nats.subscribers("switchboard.live." + topic); }
    long long requests() const override { return nats.messages_in(); }
    nats_process nats;
};

// One switchboard-server process on the shared broker, on a port of its own.
struct node {
    node(broker const& b, std::vector<std::string> flags = {}) : node(b.flags(), std::move(flags), b.fast_reconnects())
    {
    }
    node(broker const& b, std::vector<std::string> flags, std::vector<std::string> env)
        : node(b.flags(), std::move(flags), std::move(env))
    {
    }
    node(redis_process const& redis, std::vector<std::string> flags = {},
         std::vector<std::string> env = {"SWITCHBOARD_REDIS_RECONNECT_MIN=20", "SWITCHBOARD_REDIS_RECONNECT_MAX=200"})
        : node({"--redis", redis.url()}, std::move(flags), std::move(env))
    {
    }
    node(std::vector<std::string> backplane, std::vector<std::string> const& flags, std::vector<std::string> env)
    {
        std::vector<std::string> args{"--listen", "127.0.0.1:0"};
        args.insert(args.end(), backplane.begin(), backplane.end());
        args.insert(args.end(), flags.begin(), flags.end());
        process = std::make_unique<server_process>(SWITCHBOARD_SERVER_PATH, args, env);
        port = process->wait_for_port(20s).value_or(0);
    }

    int ready(boost::asio::io_context& ioc) const { return fetch(ioc, port, "GET", "/readyz").status; }

    bool wait_ready(boost::asio::io_context& ioc, int status = 200) const
    {
        return run_until(ioc, [&] { return ready(ioc) == status; }, 20s);
    }

    std::unique_ptr<server_process> process;
    std::uint16_t port = 0;
};

std::vector<std::uint64_t> one_to(std::uint64_t n)
{
    std::vector<std::uint64_t> out(n);
    for (std::uint64_t i = 0; i < n; ++i)
        out[i] = i + 1;
    return out;
}

// A WebSocket client on `port` subscribed to `topic` (from now, or from `since`), its ack ("sub") received.
std::shared_ptr<ws_client> subscriber(boost::asio::io_context& ioc, std::uint16_t port, std::string const& topic,
                                      json since = nullptr)
{
    auto ws = ws_client::create(ioc);
    ws->connect(port);
    json command = {{"type", "subscribe"}, {"topic", topic}, {"id", "sub"}};
    if (!since.is_null())
        command["since"] = std::move(since);
    ws->send_json(command);
    EXPECT_TRUE(ws->wait_reply(ioc, "sub")) << "no ack from port " << port;
    return ws;
}

// A resume after `since` on `port`: its ack and the `count` messages it brings, then what else came before a
// ping sent after them was answered (nothing, when the replay was `count` messages).
struct resumed {
    json ack;
    std::vector<json> messages;
};

resumed resume(boost::asio::io_context& ioc, std::uint16_t port, std::string const& topic, json since, std::size_t count)
{
    auto ws = subscriber(ioc, port, topic, std::move(since));
    resumed out{ws->find_reply("sub").value_or(json()), {}};
    EXPECT_TRUE(ws->wait_messages(ioc, count));
    ws->send_json({{"type", "ping"}, {"id", "after"}});
    EXPECT_TRUE(ws->wait_reply(ioc, "after"));
    out.messages = ws->messages();
    ws->close();
    return out;
}

// Each test of the suite gets its own broker of the kind its parameter names.
class scale_out : public ::testing::TestWithParam<std::string> {
protected:
    scale_out()
    {
        if (GetParam() == "redis")
            broker_ = std::make_unique<redis_broker>();
        else
            broker_ = std::make_unique<nats_broker>();
    }
    broker& shared() { return *broker_; }

private:
    std::unique_ptr<broker> broker_;
};

INSTANTIATE_TEST_SUITE_P(brokers, scale_out, ::testing::Values("redis", "nats"),
                         [](auto const& info) { return info.param; });

TEST_P(scale_out, three_nodes_three_transports_same_messages_same_offsets)
{
    boost::asio::io_context ioc;
    node n1(shared()), n2(shared()), n3(shared());
    for (auto* n : {&n1, &n2, &n3}) {
        ASSERT_NE(n->port, 0) << n->process->output();
        ASSERT_TRUE(n->wait_ready(ioc)) << n->process->output();
    }

    auto ws = ws_client::create(ioc);
    ws->connect(n1.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "room"}, {"id", "sub"}});
    auto sse = sse_client::create(ioc);
    sse->connect(n2.port, "/sse?topic=room");
    auto poll = poll_client::create(ioc);
    poll->set_cursor("0..room");  // everything the topic holds: nothing can slip past the first request
    poll->start(n3.port, {"room"});
    ASSERT_TRUE(ws->wait_reply(ioc, "sub"));
    ASSERT_TRUE(run_until(ioc, [&] { return sse->find_event("subscribed").has_value(); }, 10s));

    // Publish on each node in turn, each acknowledged before the next, so the order is defined.
    constexpr int count = 30;
    std::vector<std::uint64_t> acknowledged;
    for (int i = 0; i < count; ++i) {
        auto const port = std::array{n1.port, n2.port, n3.port}[i % 3];
        auto res = fetch(ioc, port, "POST", "/publish?topic=room", json{{"n", i}}.dump());
        ASSERT_EQ(res.status, 200) << res.body;
        acknowledged.push_back(res.json()["offset"].get<std::uint64_t>());
    }
    EXPECT_EQ(acknowledged, one_to(count));

    ASSERT_TRUE(run_until(ioc, [&] {
        return ws->message_count() >= count && sse->message_count() >= count && poll->messages().size() >= count;
    }, 20s)) << ws->message_count() << " " << sse->message_count() << " " << poll->messages().size();
    // Let anything doubled arrive before counting.
    ASSERT_TRUE(ws->wait_settled(ioc));
    for (auto const& got : {ws->messages(), sse->messages(), poll->messages()}) {
        ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
        EXPECT_EQ(offsets_of(got), one_to(count));
        for (int i = 0; i < count; ++i)
            EXPECT_EQ(got[i]["data"]["n"], i);
    }
    EXPECT_EQ(ws->messages(), sse->messages());
    EXPECT_EQ(ws->messages(), poll->messages());
    poll->stop();
}

// "<topic>#<offset>" of each message, in the order they came.
std::vector<std::string> topic_offsets(std::vector<json> const& envelopes)
{
    std::vector<std::string> out;
    for (auto const& e : envelopes)
        out.push_back(e["topic"].get<std::string>() + "#" + std::to_string(e["offset"].get<std::uint64_t>()));
    return out;
}

TEST_P(scale_out, patterns_bring_the_topics_of_other_nodes_once_in_order)
{
    boost::asio::io_context ioc;
    node a(shared()), b(shared());
    for (auto* n : {&a, &b})
        ASSERT_TRUE(n->wait_ready(ioc)) << n->process->output();
    auto publish = [&](std::string const& topic, int n) {
        auto res = fetch(ioc, a.port, "POST", "/publish?topic=" + topic, json{{"n", n}}.dump());
        ASSERT_EQ(res.status, 200) << res.body;
    };
    publish("sports.tennis", 0);  // before any subscription: not delivered

    // On node B: a topic and overlapping patterns on one WebSocket, a pattern on SSE.
    auto ws = subscriber(ioc, b.port, "sports.tennis");
    for (auto const& [p, id] : {std::pair{"sports.*", 1}, {"sports.>", 2}, {"a.*", 3}}) {
        auto ack = ws->ask(ioc, {{"type", "subscribe"}, {"pattern", p}, {"id", id}});
        ASSERT_TRUE(ack);
        ASSERT_EQ((*ack)["type"], "ack") << *ack;
    }
    auto sse = sse_client::create(ioc);
    sse->connect(b.port, "/sse?pattern=sports.*");
    ASSERT_TRUE(run_until(ioc, [&] { return sse->find_event("subscribed").has_value(); }, 10s));

    // On node A, each acknowledged before the next.
    publish("sports.tennis", 1);       // the topic and both sports patterns: once
    publish("sports.golf", 2);         // a topic made after the subscriptions
    publish("sports.tennis.live", 3);  // sports.> only (Redis' glob for sports.* covers it too)
    publish("news.tennis", 4);         // nothing
    publish("a.b.c", 5);               // nothing: a.* is one token (Redis' glob a.* covers it)
    publish("sports", 6);              // nothing: both patterns need a token after "sports"
    publish("a.b", 7);
    publish("sports.tennis", 8);
    std::vector<std::string> const expected{"sports.tennis#2", "sports.golf#1", "sports.tennis.live#1", "a.b#1",
                                            "sports.tennis#3"};
    ASSERT_TRUE(ws->wait_messages(ioc, expected.size(), 20s)) << ws->message_count();
    ASSERT_TRUE(ws->wait_settled(ioc));
    EXPECT_EQ(topic_offsets(ws->messages()), expected);
    EXPECT_EQ(ws->messages()[1]["data"]["n"], 2) << "the payload as published";
    std::vector<std::string> const sse_expected{"sports.tennis#2", "sports.golf#1", "sports.tennis#3"};
    ASSERT_TRUE(run_until(ioc, [&] { return sse->message_count() >= sse_expected.size(); }, 20s));
    EXPECT_EQ(topic_offsets(sse->messages()), sse_expected);

    // Unsubscribed patterns bring nothing more; the topic itself still comes (and marks the end).
    for (auto const& [p, id] : {std::pair{"sports.*", 4}, {"sports.>", 5}}) {
        auto ack = ws->ask(ioc, {{"type", "unsubscribe"}, {"pattern", p}, {"id", id}});
        ASSERT_TRUE(ack);
        ASSERT_EQ((*ack)["type"], "ack") << *ack;
    }
    publish("sports.golf", 9);
    publish("sports.tennis", 10);
    ASSERT_TRUE(ws->wait_messages(ioc, expected.size() + 1, 20s));
    ASSERT_TRUE(ws->wait_settled(ioc));
    auto const after = topic_offsets(ws->messages());
    ASSERT_EQ(after.size(), expected.size() + 1);
    EXPECT_EQ(after.back(), "sports.tennis#4");
    ASSERT_TRUE(run_until(ioc, [&] { return sse->message_count() >= sse_expected.size() + 2; }, 20s));
    EXPECT_EQ(topic_offsets(sse->messages()).back(), "sports.tennis#4") << "the SSE pattern still holds";
    ws->close();
}

TEST_P(scale_out, a_pattern_subscriber_is_told_of_a_broker_outage_and_patterns_work_after_it)
{
    boost::asio::io_context ioc;
    node a(shared()), b(shared());
    for (auto* n : {&a, &b})
        ASSERT_TRUE(n->wait_ready(ioc)) << n->process->output();
    auto ws = ws_client::create(ioc);
    ws->connect(b.port);
    auto ack = ws->ask(ioc, {{"type", "subscribe"}, {"pattern", "feed.*"}, {"id", 1}});
    ASSERT_TRUE(ack);
    ASSERT_EQ((*ack)["type"], "ack") << *ack;
    ASSERT_EQ(fetch(ioc, a.port, "POST", "/publish?topic=feed.one", "1").status, 200);
    ASSERT_TRUE(ws->wait_messages(ioc, 1));

    shared().stop();
    ASSERT_TRUE(b.wait_ready(ioc, 503));
    // Refused while the broker is away, with the reason.
    auto refused = ws_client::create(ioc);
    refused->connect(b.port);
    auto no = refused->ask(ioc, {{"type", "subscribe"}, {"pattern", "other.*"}, {"id", 1}});
    ASSERT_TRUE(no);
    EXPECT_EQ((*no)["code"], "backplane_unavailable") << *no;
    shared().start();
    for (auto* n : {&a, &b})
        ASSERT_TRUE(n->wait_ready(ioc)) << n->process->output();

    // Topics first published meanwhile could not be followed: the subscriber is told to resume (4010).
    ASSERT_TRUE(ws->wait_closed(ioc, 20s)) << b.process->output();
    EXPECT_EQ(ws->close_code(), 4010) << ws->close_reason();

    // A new subscription works across nodes again (the node subscribed the pattern again or anew).
    auto again = ws_client::create(ioc);
    again->connect(b.port);
    int id = 0;
    ASSERT_TRUE(run_until(ioc, [&] {
        auto r = again->ask(ioc, {{"type", "subscribe"}, {"pattern", "feed.*"}, {"id", ++id}});
        return r && (*r)["type"] == "ack";
    }, 20s));
    ASSERT_EQ(fetch(ioc, a.port, "POST", "/publish?topic=feed.two", "2").status, 200);
    ASSERT_TRUE(again->wait_messages(ioc, 1, 20s));
    EXPECT_EQ(topic_offsets(again->messages()), (std::vector<std::string>{"feed.two#1"}));
    again->close();
}

TEST_P(scale_out, a_pattern_resumes_on_another_node_with_the_topics_made_while_it_was_away)
{
    boost::asio::io_context ioc;
    node n1(shared()), n2(shared()), n3(shared());
    for (auto* n : {&n1, &n2, &n3})
        ASSERT_TRUE(n->wait_ready(ioc)) << n->process->output();

    auto first = ws_client::create(ioc);
    first->connect(n1.port);
    auto const ack = first->ask(ioc, {{"type", "subscribe"}, {"pattern", "feed.*"}, {"id", 1}});
    ASSERT_TRUE(ack);
    ASSERT_EQ((*ack)["type"], "ack") << *ack;
    ASSERT_EQ(fetch(ioc, n1.port, "POST", "/publish?topic=feed.a", "0").status, 200);
    ASSERT_TRUE(first->wait_messages(ioc, 1));
    auto const seen = first->messages().back();
    std::string const epoch = (*ack)["epoch"];
    auto const left_at = seen["sequence"].get<std::uint64_t>();
    first->drop();

    // While it is away, from two nodes: topics it knew, topics made meanwhile, topics it does not match.
    std::vector<std::string> expected;
    std::map<std::string, int> offsets_now{{"feed.a", 1}};
    for (int i = 1; i <= 30; ++i) {
        std::string const topic = i % 3 == 0 ? "feed.a" : "feed.t" + std::to_string(i % 7);
        auto const& at = i % 2 ? n1 : n2;
        ASSERT_EQ(fetch(ioc, at.port, "POST", "/publish?topic=" + topic, std::to_string(i)).status, 200);
        ASSERT_EQ(fetch(ioc, at.port, "POST", "/publish?topic=feed.x.y", std::to_string(i)).status, 200);
        ASSERT_EQ(fetch(ioc, at.port, "POST", "/publish?topic=other", std::to_string(i)).status, 200);
        expected.push_back(topic + "#" + std::to_string(++offsets_now[topic]));
    }

    // WebSocket on node 3 from its sequence: exactly those, in publish order, then the end of the replay.
    auto again = ws_client::create(ioc);
    again->connect(n3.port);
    auto const resumed = again->ask(ioc, {{"type", "subscribe"}, {"pattern", "feed.*"}, {"id", 2},
                                           {"since", {{"sequence", left_at}, {"epoch", epoch}}}});
    ASSERT_TRUE(resumed);
    EXPECT_EQ((*resumed)["recovered"], true) << *resumed;
    EXPECT_EQ((*resumed)["epoch"], epoch) << "one sequence for every node";
    ASSERT_TRUE(again->wait_messages(ioc, expected.size(), 30s));
    ASSERT_TRUE(run_until(ioc, [&] {
        auto const& r = again->received();
        return std::any_of(r.begin(), r.end(), [](json const& f) { return f.value("type", "") == "replayed"; });
    }, 20s));
    EXPECT_EQ(topic_offsets(again->messages()), expected);
    // Then live, from any node.
    ASSERT_EQ(fetch(ioc, n2.port, "POST", "/publish?topic=feed.live", "99").status, 200);
    ASSERT_TRUE(again->wait_messages(ioc, expected.size() + 1, 20s));
    EXPECT_EQ(again->messages().back()["topic"], "feed.live");
    again->close();

    // SSE on node 3 with Last-Event-ID holding the pattern's sequence, and a poll with it as its cursor: the same.
    std::string const cursor = std::to_string(left_at) + "." + epoch + ".feed.*";
    auto sse = sse_client::create(ioc);
    sse->connect(n3.port, "/sse?pattern=feed.*", {{"Last-Event-ID", cursor}});
    ASSERT_TRUE(sse->wait_messages(ioc, expected.size() + 1, 30s)) << sse->message_count() << " " << sse->error_body();
    auto const streamed = topic_offsets(sse->messages());
    EXPECT_EQ(std::vector<std::string>(streamed.begin(), streamed.end() - 1), expected);
    sse->close();
    auto const poll = fetch(ioc, n2.port, "GET", "/poll?pattern=feed.*&cursor=" + cursor);
    ASSERT_EQ(poll.status, 200) << poll.body;
    auto const polled = topic_offsets(poll.json()["messages"]);
    EXPECT_EQ(std::vector<std::string>(polled.begin(), polled.end() - 1), expected);
}

TEST_P(scale_out, a_client_resumes_on_another_node)
{
    boost::asio::io_context ioc;
    node n1(shared()), n2(shared()), n3(shared());
    for (auto* n : {&n1, &n2, &n3})
        ASSERT_TRUE(n->wait_ready(ioc)) << n->process->output();

    auto first = subscriber(ioc, n1.port, "feed");
    ASSERT_EQ(fetch(ioc, n1.port, "POST", "/publish?topic=feed", R"({"n":0})").status, 200);
    ASSERT_TRUE(first->wait_messages(ioc, 1));
    auto const seen = first->messages().back();
    auto const epoch = first->find_reply("sub").value()["epoch"].get<std::string>();
    std::string const sse_id = std::to_string(seen["offset"].get<std::uint64_t>());
    first->drop();  // cut, not closed: the client did not say goodbye

    // 1,000 messages on node 2, over one WebSocket, each acknowledged.
    constexpr int missed = 1000;
    auto publisher = ws_client::create(ioc);
    publisher->connect(n2.port);
    ASSERT_TRUE(publisher->wait_open(ioc));
    for (int i = 1; i <= missed; ++i)
        publisher->send_json({{"type", "publish"}, {"topic", "feed"}, {"data", {{"n", i}}}, {"id", i}});
    ASSERT_TRUE(run_until(ioc, [&] { return publisher->find_reply(missed).has_value(); }, 60s));
    for (int i = 1; i <= missed; ++i)
        ASSERT_EQ(publisher->find_reply(i).value()["type"], "ack") << i;

    // WebSocket on node 3 with its position: exactly the missed ones.
    auto again = ws_client::create(ioc);
    again->connect(n3.port);
    again->send_json({{"type", "subscribe"}, {"topic", "feed"}, {"id", "sub"},
                      {"since", {{"offset", seen["offset"]}, {"epoch", epoch}}}});
    auto ack = again->wait_reply(ioc, "sub");
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["recovered"], true);
    ASSERT_TRUE(again->wait_messages(ioc, missed, 30s));
    ASSERT_TRUE(again->wait_settled(ioc));
    auto const got = again->messages();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(missed));
    for (int i = 0; i < missed; ++i) {
        EXPECT_EQ(got[i]["offset"], i + 2);
        EXPECT_EQ(got[i]["data"]["n"], i + 1);
    }

    // SSE on node 3 with Last-Event-ID (a cursor: <offset>.<epoch>.<topic>): the same.
    auto sse = sse_client::create(ioc);
    sse->connect(n3.port, "/sse?topic=feed", {{"Last-Event-ID", sse_id + "." + epoch + ".feed"}});
    ASSERT_TRUE(sse->wait_messages(ioc, missed, 30s)) << sse->message_count() << " " << sse->error_body();
    EXPECT_EQ(offsets_of(sse->messages()), offsets_of(got));
}

TEST_P(scale_out, a_broker_restart_loses_no_acknowledged_message)
{
    boost::asio::io_context ioc;
    node n1(shared()), n2(shared());
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();

    auto ws = ws_client::create(ioc);
    ws->connect(n1.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "ticks"}, {"id", "sub"}});
    auto sse = sse_client::create(ioc);
    sse->connect(n2.port, "/sse?topic=ticks");
    ASSERT_TRUE(ws->wait_reply(ioc, "sub"));
    ASSERT_TRUE(run_until(ioc, [&] { return sse->find_event("subscribed").has_value(); }, 10s));

    std::set<std::uint64_t> acknowledged;
    int refused = 0;
    auto publish = [&](int i) {
        auto res = fetch(ioc, i % 2 ? n1.port : n2.port, "POST", "/publish?topic=ticks", json{{"n", i}}.dump());
        if (res.status == 200)
            acknowledged.insert(res.json()["offset"].get<std::uint64_t>());
        else {
            // Refused while the broker is away: a clear error, never a silent drop.
            EXPECT_EQ(res.status, 503) << res.body;
            EXPECT_EQ(res.json()["error"]["code"], "backplane_unavailable") << res.body;
            ++refused;
        }
    };
    int i = 0;
    for (; i < 50; ++i)
        publish(i);
    shared().stop();
    ASSERT_TRUE(n1.wait_ready(ioc, 503));
    publish(i++);  // the broker is down: refused
    EXPECT_EQ(refused, 1);
    shared().start();
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
    for (int end = i + 50; i < end; ++i)
        publish(i);
    EXPECT_EQ(acknowledged.size(), 100u);

    // Every subscriber has every acknowledged message, each once and in order, and was never disconnected.
    auto const last = *acknowledged.rbegin();
    for (auto* n : {&n1, &n2})
        EXPECT_TRUE(n->process->running()) << n->process->output();
    ASSERT_TRUE(run_until(ioc, [&] { return ws->message_count() >= last && sse->message_count() >= last; }, 30s))
        << ws->message_count() << " " << sse->message_count() << "\n" << n1.process->output();
    ASSERT_TRUE(ws->wait_settled(ioc));
    EXPECT_FALSE(ws->closed());
    EXPECT_FALSE(sse->ended());
    for (auto const& got : {offsets_of(ws->messages()), offsets_of(sse->messages())}) {
        EXPECT_EQ(got, one_to(last));
        for (auto offset : acknowledged)
            EXPECT_TRUE(std::binary_search(got.begin(), got.end(), offset)) << offset;
    }
}

// A crash (SIGKILL) in the middle of a stream of publishes: every publish is answered (an ack, or an error for
// those the broker could not take or whose ack was lost), every acknowledged message reaches every subscriber
// once and in order, or the subscriber is told (4010) and can resume; never a silent hole, never a duplicate.
TEST_P(scale_out, a_broker_crash_mid_stream_loses_no_acknowledged_message)
{
    boost::asio::io_context ioc;
    node n1(shared()), n2(shared());
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
    auto ws = subscriber(ioc, n1.port, "crash");
    auto sse = sse_client::create(ioc);
    sse->connect(n2.port, "/sse?topic=crash");
    ASSERT_TRUE(run_until(ioc, [&] { return sse->find_event("subscribed").has_value(); }, 10s));
    auto publisher = ws_client::create(ioc);
    publisher->connect(n2.port);
    ASSERT_TRUE(publisher->wait_open(ioc));

    constexpr int count = 300;
    for (int i = 1; i <= count; ++i) {
        publisher->send_json({{"type", "publish"}, {"topic", "crash"}, {"data", {{"n", i}}}, {"id", i}});
        if (i == 100) {  // a third acknowledged, the rest in flight or still to come: crash it now
            ASSERT_TRUE(publisher->wait_reply(ioc, 100, 30s));
            shared().kill();
        }
        if (i == 200) {  // the second third meets the outage, the last one the broker back
            ASSERT_TRUE(publisher->wait_reply(ioc, 200, 30s));
            shared().start();
            ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
        }
    }
    ASSERT_TRUE(run_until(ioc, [&] { return publisher->find_reply(count).has_value(); }, 60s));
    std::vector<std::uint64_t> acknowledged;
    int refused = 0;
    for (int i = 1; i <= count; ++i) {
        auto const reply = publisher->find_reply(i);
        ASSERT_TRUE(reply) << "publish " << i << " was never answered";
        if ((*reply)["type"] == "ack") {
            acknowledged.push_back((*reply)["offset"].get<std::uint64_t>());
        } else {
            EXPECT_EQ((*reply)["code"], "backplane_unavailable") << reply->dump();
            ++refused;
        }
    }
    EXPECT_GE(acknowledged.size(), 200u);  // the first and last thirds at least
    EXPECT_GT(refused, 0) << "the outage was never seen";
    EXPECT_TRUE(std::is_sorted(acknowledged.begin(), acknowledged.end()));

    auto const last = acknowledged.back();
    ASSERT_TRUE(run_until(ioc, [&] {
        return (ws->closed() || ws->message_count() >= last) && (sse->ended() || sse->message_count() >= last);
    }, 30s)) << ws->message_count() << " " << sse->message_count() << "\n" << n1.process->output();
    ASSERT_TRUE(ws->wait_settled(ioc));
    auto check = [&](std::vector<json> const& got, bool told, char const* who) {
        auto const seen = offsets_of(got);
        EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end(), std::greater_equal<>()) == seen.end())
            << who << ": out of order or twice";
        if (told)
            return;  // closed with the gap code: it resumes and learns what history still has
        for (auto offset : acknowledged)
            EXPECT_TRUE(std::binary_search(seen.begin(), seen.end(), offset)) << who << " lacks " << offset;
    };
    if (ws->closed()) {
        EXPECT_EQ(ws->close_code(), 4010);
    }
    check(ws->messages(), ws->closed(), "WebSocket");
    check(sse->messages(), sse->ended(), "SSE");
}

TEST_P(scale_out, history_limits_hold_on_every_node)
{
    boost::asio::io_context ioc;
    std::vector<std::string> const limits{"--history-max-messages", "5", "--history-max-age", "2s"};
    node n1(shared(), limits), n2(shared(), limits);
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
    std::string epoch;
    for (int i = 1; i <= 10; ++i) {
        auto res = fetch(ioc, n1.port, "POST", "/publish?topic=limited", std::to_string(i));
        ASSERT_EQ(res.status, 200) << res.body;
        epoch = res.json()["epoch"].get<std::string>();
    }
    // By count, read on the other node: the newest 5, and the gap before them said.
    auto const counted = resume(ioc, n2.port, "limited", {{"offset", 2}, {"epoch", epoch}}, 5);
    EXPECT_EQ(counted.ack["recovered"], false);
    EXPECT_EQ(offsets_of(counted.messages), (std::vector<std::uint64_t>{6, 7, 8, 9, 10}));
    EXPECT_EQ(resume(ioc, n2.port, "limited", {{"offset", 5}, {"epoch", epoch}}, 5).ack["recovered"], true);

    // By age: polled, not slept (at most 60 resumes 100 ms apart); the position outlives the history.
    resumed aged;
    for (int i = 0; i < 60; ++i) {
        aged = resume(ioc, n2.port, "limited", {{"offset", 9}, {"epoch", epoch}}, 0);
        if (aged.ack["recovered"] == false)
            break;
        run_for(ioc, 100ms);
    }
    EXPECT_EQ(aged.ack["recovered"], false);
    EXPECT_TRUE(aged.messages.empty());
    EXPECT_EQ(aged.ack["offset"], 10);
    EXPECT_EQ(aged.ack["epoch"], epoch);
}

TEST_P(scale_out, a_node_restart_keeps_history)
{
    boost::asio::io_context ioc;
    auto n1 = std::make_unique<node>(shared());
    ASSERT_TRUE(n1->wait_ready(ioc)) << n1->process->output();
    std::string epoch;
    for (int i = 1; i <= 20; ++i) {
        auto res = fetch(ioc, n1->port, "POST", "/publish?topic=kept", std::to_string(i));
        ASSERT_EQ(res.status, 200) << res.body;
        epoch = res.json()["epoch"].get<std::string>();
    }
    n1.reset();  // the only node goes away
    node again(shared());
    ASSERT_TRUE(again.wait_ready(ioc)) << again.process->output();
    auto const r = resume(ioc, again.port, "kept", {{"offset", 5}, {"epoch", epoch}}, 15);
    EXPECT_EQ(r.ack["recovered"], true);
    EXPECT_EQ(r.ack["epoch"], epoch);
    auto expected = one_to(20);
    expected.erase(expected.begin(), expected.begin() + 5);
    EXPECT_EQ(offsets_of(r.messages), expected);
    auto const next = fetch(ioc, again.port, "POST", "/publish?topic=kept", "21");
    EXPECT_EQ(next.json()["offset"], 21);  // the topic goes on where it was
}

TEST(redis, a_node_that_lost_its_subscription_reads_what_it_missed_from_history)
{
    redis_process redis;
    boost::asio::io_context ioc;
    node n1(redis), n2(redis);
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
    auto ws = subscriber(ioc, n1.port, "stream");

    // Node 2 keeps publishing while node 1's pub/sub connection is cut, twice.
    constexpr int count = 200;
    auto publisher = ws_client::create(ioc);
    publisher->connect(n2.port);
    ASSERT_TRUE(publisher->wait_open(ioc));
    for (int i = 1; i <= count; ++i) {
        publisher->send_json({{"type", "publish"}, {"topic", "stream"}, {"data", {{"n", i}}}, {"id", i}});
        if (i == 50 || i == 120) {
            // Node 1 is subscribed again (after the first cut), and what came before is published: cut it. Every
            // node has a pub/sub connection (presence events; node 1's carries the topic too): both are back, and
            // both are cut.
            ASSERT_TRUE(run_until(ioc, [&] {
                return redis.subscribers("switchboard:stream") == 1 && redis.subscribers("switchboard:#presence") == 2;
            }, 10s));
            ASSERT_TRUE(publisher->wait_reply(ioc, i));
            auto killed = redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
            ASSERT_TRUE(killed);
            EXPECT_EQ(killed->integer, 2);
        }
    }
    ASSERT_TRUE(run_until(ioc, [&] { return publisher->find_reply(count).has_value(); }, 30s));
    ASSERT_TRUE(ws->wait_messages(ioc, count, 30s)) << ws->message_count() << "\n" << n1.process->output();
    ASSERT_TRUE(ws->wait_settled(ioc));
    EXPECT_EQ(offsets_of(ws->messages()), one_to(count));
    EXPECT_FALSE(ws->closed());
}

TEST(redis, messages_gone_from_history_while_a_node_was_away_are_reported_as_a_gap)
{
    redis_process redis;
    boost::asio::io_context ioc;
    // Node 1 comes back no sooner than 5 s after a lost connection: long enough for history to move on.
    node n1(redis, {"--history-max-messages", "5"},
            {"SWITCHBOARD_REDIS_RECONNECT_MIN=5000", "SWITCHBOARD_REDIS_RECONNECT_MAX=5000"});
    node n2(redis, {"--history-max-messages", "5"});
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
    auto ws = subscriber(ioc, n1.port, "short");
    ASSERT_EQ(fetch(ioc, n2.port, "POST", "/publish?topic=short", "{}").status, 200);
    ASSERT_TRUE(ws->wait_messages(ioc, 1));

    // 20 messages go by while node 1 is not listening: more than the 5 history keeps.
    ASSERT_TRUE(redis.command({"CLIENT", "KILL", "TYPE", "pubsub"}));
    auto publisher = ws_client::create(ioc);
    publisher->connect(n2.port);
    ASSERT_TRUE(publisher->wait_open(ioc));
    for (int i = 1; i <= 20; ++i)
        publisher->send_json({{"type", "publish"}, {"topic", "short"}, {"data", i}, {"id", i}});
    ASSERT_TRUE(run_until(ioc, [&] { return publisher->find_reply(20).has_value(); }, 10s));

    // Back, node 1 finds the gap in history and tells its subscriber, which resumes and learns it.
    ASSERT_TRUE(ws->wait_closed(ioc, 30s)) << ws->message_count() << "\n" << n1.process->output();
    EXPECT_EQ(ws->close_code(), 4010);
    EXPECT_EQ(ws->message_count(), 1u);
    auto again = ws_client::create(ioc);
    again->connect(n1.port);
    auto const epoch = ws->find_reply("sub").value()["epoch"];
    again->send_json({{"type", "subscribe"}, {"topic", "short"}, {"id", "sub"}, {"since", {{"offset", 1}, {"epoch", epoch}}}});
    auto ack = again->wait_reply(ioc, "sub");
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["recovered"], false);
    EXPECT_EQ((*ack)["offset"], 21);
}

TEST_P(scale_out, a_broker_that_lost_its_data_is_reported_as_a_gap)
{
    boost::asio::io_context ioc;
    node n1(shared());
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();

    auto ws = subscriber(ioc, n1.port, "lost");
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(fetch(ioc, n1.port, "POST", "/publish?topic=lost", "{}").status, 200);
    ASSERT_TRUE(ws->wait_messages(ioc, 3));
    auto const epoch = ws->find_reply("sub").value()["epoch"].get<std::string>();

    shared().restart_empty();
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    // The first publish after the loss starts a new epoch; the subscriber is told it may have missed messages.
    ASSERT_EQ(fetch(ioc, n1.port, "POST", "/publish?topic=lost", "{}").status, 200);
    ASSERT_TRUE(ws->wait_closed(ioc, 20s)) << n1.process->output();
    EXPECT_EQ(ws->close_code(), 4010);

    auto again = ws_client::create(ioc);
    again->connect(n1.port);
    again->send_json({{"type", "subscribe"}, {"topic", "lost"}, {"id", "sub"}, {"since", {{"offset", 3}, {"epoch", epoch}}}});
    auto ack = again->wait_reply(ioc, "sub");
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["recovered"], false);
    EXPECT_NE((*ack)["epoch"], epoch);
}

TEST_P(scale_out, a_node_subscribes_in_the_broker_only_while_it_has_subscribers)
{
    boost::asio::io_context ioc;
    node n1(shared());
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    auto const channel = "quiet";
    EXPECT_EQ(shared().subscribers(channel), 0);

    auto a = ws_client::create(ioc);
    auto b = sse_client::create(ioc);
    a->connect(n1.port);
    ASSERT_TRUE(a->subscribe(ioc, "quiet", "sub"));
    b->connect(n1.port, "/sse?topic=quiet");
    ASSERT_TRUE(run_until(ioc, [&] { return b->find_event("subscribed").has_value(); }, 10s));
    EXPECT_EQ(shared().subscribers(channel), 1);  // one node, one subscription, however many clients

    a->send_json({{"type", "unsubscribe"}, {"topic", "quiet"}, {"id", "unsub"}});
    ASSERT_TRUE(a->wait_reply(ioc, "unsub"));
    EXPECT_EQ(shared().subscribers(channel), 1);  // the SSE client still listens
    b->close();
    ASSERT_TRUE(run_until(ioc, [&] { return shared().subscribers(channel) == 0; }, 10s));

    if (auto const* r = dynamic_cast<redis_broker const*>(&shared())) {
        // Nothing reaches the node now: a message published straight into Redis finds no subscriber.
        auto reply = r->redis.command({"PUBLISH", "switchboard:quiet", "1 e 0 {}"});
        ASSERT_TRUE(reply);
        EXPECT_EQ(reply->integer, 0);
    }
}

// A long poll leaves its topic with every answer and is back with its next request, from its cursor: here each
// poll comes after the next message was published, so each must read it from history. The node stays subscribed
// between polls (io.topic_linger, 10 s here) and answers those reads from the messages it delivered last
// (redis.recent_bytes, nats.recent_bytes): the broker is asked one publish per message, and nothing per poll.
TEST_P(scale_out, a_long_poll_costs_the_broker_nothing_per_poll)
{
    boost::asio::io_context ioc;
    auto env = shared().fast_reconnects();
    env.push_back("SWITCHBOARD_IO_TOPIC_LINGER=10000");
    node n(shared(), {}, env);
    ASSERT_TRUE(n.wait_ready(ioc)) << n.process->output();
    auto const first = fetch(ioc, n.port, "POST", "/publish?topic=ticks", R"({"i":0})");
    ASSERT_EQ(first.status, 200) << first.body;
    std::string const epoch = first.json()["epoch"];
    auto const poll_after = [&](std::uint64_t offset) {
        return fetch(ioc, n.port, "GET", "/poll?topic=ticks&cursor=" + std::to_string(offset) + "." + epoch + ".ticks");
    };
    ASSERT_EQ(poll_after(0).json()["messages"].size(), 1u);  // the node subscribes, and reads from the broker

    auto const asked = shared().requests();
    constexpr std::uint64_t count = 30;
    for (std::uint64_t i = 1; i <= count; ++i) {
        auto const published = fetch(ioc, n.port, "POST", "/publish?topic=ticks", R"({"i":)" + std::to_string(i) + "}");
        ASSERT_EQ(published.status, 200) << published.body;
        ASSERT_EQ(published.json()["offset"], i + 1);
        auto const answer = poll_after(i);  // the message before this one: this one is to be read
        ASSERT_EQ(answer.status, 200) << answer.body;
        auto const messages = answer.json()["messages"];
        ASSERT_EQ(messages.size(), 1u) << answer.body;
        EXPECT_EQ(messages[0]["offset"], i + 1);
        EXPECT_EQ(messages[0]["data"]["i"], i);
        EXPECT_FALSE(answer.json().contains("recovered")) << answer.body;
        EXPECT_EQ(shared().subscribers("ticks"), 1) << "the node stays subscribed between polls";
    }
    // NATS counts a presence heartbeat of the node too, should one fall in the loop.
    EXPECT_GE(shared().requests() - asked, static_cast<long long>(count));
    EXPECT_LE(shared().requests() - asked, static_cast<long long>(count) + 2) << "one publish per message, nothing per poll";
}

// A subscriber that leaves and one that comes back within io.topic_linger cost the broker no subscription;
// once the topic has had nobody for that long, the node unsubscribes.
TEST_P(scale_out, a_node_follows_a_topic_for_its_linger_after_the_last_subscriber)
{
    boost::asio::io_context ioc;
    auto env = shared().fast_reconnects();
    env.push_back("SWITCHBOARD_IO_TOPIC_LINGER=2000");
    node n(shared(), {}, env);
    ASSERT_TRUE(n.wait_ready(ioc)) << n.process->output();
    auto const subscriptions = [&] {
        auto const text = fetch(ioc, n.port, "GET", "/metrics").body;
        std::string const key = "\nswitchboard_subscriptions ";
        auto const at = text.find(key);
        return at == std::string::npos ? -1 : std::stoll(text.substr(at + key.size()));
    };
    auto const* redis = dynamic_cast<redis_broker const*>(&shared());
    auto first = subscriber(ioc, n.port, "room");
    ASSERT_EQ(shared().subscribers("room"), 1);
    auto const subscribes = redis ? redis_calls(redis->redis, "subscribe") : 0;
    first->close();
    ASSERT_TRUE(run_until(ioc, [&] { return subscriptions() == 0; }, 10s));
    EXPECT_EQ(shared().subscribers("room"), 1) << "lingering: still followed";

    auto back = subscriber(ioc, n.port, "room");  // within the linger: no new subscription in the broker
    if (redis)
        EXPECT_EQ(redis_calls(redis->redis, "subscribe"), subscribes);
    ASSERT_EQ(fetch(ioc, n.port, "POST", "/publish?topic=room", R"({"back":true})").status, 200);
    ASSERT_TRUE(back->wait_messages(ioc, 1));
    EXPECT_EQ(back->messages()[0]["data"]["back"], true);

    back->close();
    ASSERT_TRUE(run_until(ioc, [&] { return subscriptions() == 0; }, 10s));
    ASSERT_TRUE(run_until(ioc, [&] { return shared().subscribers("room") == 0; }, 15s))
        << "let go once nobody came back";
    if (redis)
        EXPECT_EQ(redis_calls(redis->redis, "unsubscribe"), 1);
}

TEST_P(scale_out, readiness_and_publishing_follow_the_broker)
{
    std::string const up = "switchboard_backplane_up{backplane=\"" + std::string(shared().name()) + "\"} ";
    boost::asio::io_context ioc;
    node n1(shared());
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    EXPECT_EQ(fetch(ioc, n1.port, "GET", "/readyz").json()["backplane"], "connected");

    shared().stop();
    ASSERT_TRUE(n1.wait_ready(ioc, 503));
    auto ready = fetch(ioc, n1.port, "GET", "/readyz");
    EXPECT_EQ(ready.json()["backplane"], "disconnected") << ready.body;
    EXPECT_EQ(fetch(ioc, n1.port, "GET", "/healthz").status, 200);  // alive all the same
    auto refused = fetch(ioc, n1.port, "POST", "/publish?topic=t", "{}");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.json()["error"]["code"], "backplane_unavailable") << refused.body;
    auto metrics = fetch(ioc, n1.port, "GET", "/metrics").body;
    EXPECT_NE(metrics.find(up + "0"), std::string::npos);

    shared().start();
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    EXPECT_EQ(fetch(ioc, n1.port, "POST", "/publish?topic=t", "{}").status, 200);
    metrics = fetch(ioc, n1.port, "GET", "/metrics").body;
    EXPECT_NE(metrics.find(up + "1"), std::string::npos);
}

// A NATS without JetStream cannot hold history: the node says why, stays unready and refuses publishes, and
// keeps looking for the stream.
TEST(nats, a_server_without_jetstream_keeps_the_node_unready_and_says_why)
{
    nats_process plain({}, false);
    boost::asio::io_context ioc;
    node n1({"--nats", plain.url()}, {}, {"SWITCHBOARD_NATS_RECONNECT_WAIT=20"});
    ASSERT_NE(n1.port, 0) << n1.process->output();
    ASSERT_TRUE(n1.process->wait_for_output("is JetStream enabled", 20s)) << n1.process->output();
    auto const ready = fetch(ioc, n1.port, "GET", "/readyz");
    EXPECT_EQ(ready.status, 503);
    EXPECT_EQ(ready.json()["backplane"], "disconnected") << ready.body;
    auto const refused = fetch(ioc, n1.port, "POST", "/publish?topic=t", "{}");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.json()["error"]["code"], "backplane_unavailable") << refused.body;
    EXPECT_TRUE(n1.process->running());
}

TEST(redis, history_that_redis_evicted_or_trimmed_is_reported_never_skipped)
{
    redis_process redis;
    boost::asio::io_context ioc;
    // Every read from Redis, by a node that follows the topic only while a resume is in progress. The node's
    // recent messages (redis.recent_bytes) would answer from memory, rightly, what it delivered itself and Redis
    // then lost; and a node still following the topic (io.topic_linger) answers a resume at its own position
    // while the message of Redis' new epoch is on its way to it (which then closes the subscriber with 4010).
    node n1(redis, {}, {"SWITCHBOARD_REDIS_RECENT_BYTES=0", "SWITCHBOARD_IO_TOPIC_LINGER=0"});
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    for (int i = 1; i <= 10; ++i)
        ASSERT_EQ(fetch(ioc, n1.port, "POST", "/publish?topic=ev", std::to_string(i)).status, 200);
    auto const whole = resume(ioc, n1.port, "ev", {{"offset", 0}, {"epoch", ""}}, 10);
    ASSERT_EQ(offsets_of(whole.messages), one_to(10));
    EXPECT_EQ(whole.ack["recovered"], true);
    auto const epoch = whole.ack["epoch"].get<std::string>();

    // The history list evicted (maxmemory with an LRU policy): gone, and said so.
    ASSERT_TRUE(redis.command({"DEL", "switchboard:{ev}.history"}));
    auto const evicted = resume(ioc, n1.port, "ev", {{"offset", 3}, {"epoch", epoch}}, 0);
    EXPECT_EQ(evicted.ack["recovered"], false);
    EXPECT_EQ(evicted.ack["offset"], 10);
    EXPECT_TRUE(evicted.messages.empty());

    // Cut short: of 11..15 only the newest three stay; a resume after 10 is told, and gets 13..15 once each.
    for (int i = 11; i <= 15; ++i)
        ASSERT_EQ(fetch(ioc, n1.port, "POST", "/publish?topic=ev", std::to_string(i)).status, 200);
    ASSERT_TRUE(redis.command({"LTRIM", "switchboard:{ev}.history", "0", "2"}));
    auto const trimmed = resume(ioc, n1.port, "ev", {{"offset", 10}, {"epoch", epoch}}, 3);
    EXPECT_EQ(trimmed.ack["recovered"], false);
    EXPECT_EQ(offsets_of(trimmed.messages), (std::vector<std::uint64_t>{13, 14, 15}));

    // The position evicted while its list stays: a new epoch, told; the old epoch's entries are never served
    // as the new one's.
    ASSERT_TRUE(redis.command({"DEL", "switchboard:{ev}.position"}));
    ASSERT_EQ(fetch(ioc, n1.port, "POST", "/publish?topic=ev", R"("new")").status, 200);
    auto const restarted = resume(ioc, n1.port, "ev", {{"offset", 15}, {"epoch", epoch}}, 0);
    EXPECT_EQ(restarted.ack["recovered"], false);
    EXPECT_NE(restarted.ack["epoch"], epoch);
    EXPECT_EQ(restarted.ack["offset"], 1);
    auto const fresh = resume(ioc, n1.port, "ev", {{"offset", 0}, {"epoch", ""}}, 1);
    ASSERT_EQ(fresh.messages.size(), 1u);
    EXPECT_EQ(fresh.messages[0]["data"], "new");
}

TEST_P(scale_out, a_long_replay_is_read_from_the_broker_a_page_at_a_time)
{
    boost::asio::io_context ioc;
    // A queue of 128 KiB: the 2 MB replay below takes dozens of pages.
    node n1(shared(), {"--max-queue-bytes", "128KiB"});
    node n2(shared(), {"--max-queue-bytes", "128KiB"});
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
    auto publisher = ws_client::create(ioc);
    publisher->connect(n1.port);
    std::string const pad(1'000, 'p');
    for (int i = 1; i <= 2'000; ++i) {
        publisher->send_json({{"type", "publish"}, {"topic", "long"}, {"data", {{"i", i}, {"pad", pad}}}, {"id", i}});
        if (i % 500 == 0)  // in batches: past limits.max_pending_bytes a publish would be refused
            ASSERT_EQ(publisher->wait_reply(ioc, i, 30s).value_or(json())["type"], "ack");
    }

    // Resumed on the other node, and while it goes on, live messages follow the replay.
    auto ws = subscriber(ioc, n2.port, "long", {{"offset", 0}, {"epoch", ""}});
    for (int i = 0; i < 10; ++i)
        publisher->send_json({{"type", "publish"}, {"topic", "long"}, {"data", "live"}});
    ASSERT_TRUE(ws->wait_messages(ioc, 2'010, 60s)) << ws->message_count() << "\n" << n2.process->output();
    EXPECT_EQ(offsets_of(ws->messages()), one_to(2'010));
    EXPECT_TRUE(ws->is_open());
}

}  // namespace
}  // namespace switchboard::test
