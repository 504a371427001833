// Pattern subscriptions (docs/protocol.md, "Patterns") with real clients: a message reaches a channel once
// however many of its subscriptions match it, in the envelope of its real topic and offset; bad patterns, bad
// cursors and the subscription limit are refused with clear errors (resume: pattern_resume_test.cpp); permissions let a pattern
// through only when they allow every topic it can match, and the authorize hook is told it is a pattern; an
// unsubscribe ends it. WebSocket, SSE and long polling.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/slow_history_backplane.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>

#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;

json pattern_command(char const* type, std::string const& pattern, int id)
{
    return {{"type", type}, {"pattern", pattern}, {"id", id}};
}

// A ping answered after everything sent before it was handled and its deliveries queued.
void settle(live_server& srv, ws_client& ws, int id)
{
    ws.send_json({{"type", "ping"}, {"id", id}});
    ASSERT_TRUE(ws.wait_reply(srv.ioc, id));
}

TEST(patterns, websocket_overlapping_subscriptions_deliver_each_message_once_in_its_own_envelope)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "sports.tennis", 1));
    for (auto [p, id] : {std::pair{"sports.>", 2}, {"sports.*", 3}, {"*.tennis", 4}}) {
        auto ack = ws->ask(srv.ioc, pattern_command("subscribe", p, id));
        ASSERT_TRUE(ack);
        EXPECT_EQ((*ack)["type"], "ack") << *ack;
        EXPECT_EQ((*ack)["pattern"], p);
        EXPECT_FALSE(ack->contains("topic"));
    }
    EXPECT_EQ((*srv).hub().pattern_count(), 3u);

    srv.publish("sports.tennis", 1);       // the topic and all three patterns
    srv.publish("sports.tennis.live", 2);  // sports.> only
    srv.publish("news.tennis", 3);         // *.tennis only
    srv.publish("news.golf", 4);           // nothing
    srv.publish("sports.tennis", 5);
    settle(srv, *ws, 9);
    auto const got = ws->messages();
    ASSERT_EQ(got.size(), 4u);
    std::vector<std::string> topics;
    for (auto const& m : got)
        topics.push_back(m["topic"]);
    EXPECT_EQ(topics, (std::vector<std::string>{"sports.tennis", "sports.tennis.live", "news.tennis", "sports.tennis"}));
    EXPECT_EQ(got[0]["data"], 1);
    EXPECT_EQ(got[0]["offset"], 1) << "the topic's own offset";
    EXPECT_EQ(got[3]["offset"], 2);
    EXPECT_EQ(got[1]["offset"], 1);
    // The operations metrics count them: 3 patterns, 2 of the 4 deliveries through a pattern (not the topic's).
    auto const metrics = fetch(srv.ioc, srv.port, "GET", "/metrics").body;
    for (auto const* line : {"\nswitchboard_patterns 3\n", "\nswitchboard_pattern_subscriptions 3\n",
                             "\nswitchboard_deliveries_total 4\n", "\nswitchboard_pattern_deliveries_total 2\n"})
        EXPECT_NE(metrics.find(line), std::string::npos) << line << metrics;
    ws->close();
}

TEST(patterns, websocket_unsubscribe_ends_a_pattern)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->ask(srv.ioc, pattern_command("subscribe", "a.*", 1)));
    srv.publish("a.b", 1);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    auto ack = ws->ask(srv.ioc, pattern_command("unsubscribe", "a.*", 2));
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["type"], "ack");
    EXPECT_EQ((*ack)["pattern"], "a.*");
    EXPECT_EQ((*srv).hub().pattern_count(), 0u);
    srv.publish("a.b", 2);
    settle(srv, *ws, 3);
    EXPECT_EQ(ws->message_count(), 1u);
    // Subscribed again, and the connection's end leaves nothing behind.
    ASSERT_TRUE(ws->ask(srv.ioc, pattern_command("subscribe", "a.*", 4)));
    EXPECT_EQ((*srv).hub().pattern_subscription_count(), 1u);
    ws->close();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().pattern_subscription_count() == 0; }));
    EXPECT_EQ((*srv).hub().pattern_count(), 0u);
}

TEST(patterns, websocket_bad_patterns_and_cursors_are_refused_with_the_reason)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    struct refusal {
        json command;
        char const* code;
        char const* says;
    };
    std::vector<refusal> const cases = {
        {pattern_command("subscribe", "a.b", 1), "invalid_pattern", "wildcard"},
        {pattern_command("subscribe", "a.>.b", 2), "invalid_pattern", "last token"},
        {pattern_command("subscribe", "a..*", 3), "invalid_pattern", "not empty"},
        {pattern_command("subscribe", "a.*x", 4), "invalid_pattern", "'*', '>'"},
        {pattern_command("subscribe", std::string(130, 'a') + ".*", 5), "invalid_pattern", "1-128"},
        {pattern_command("subscribe", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.*", 6), "invalid_pattern", "at most 16 tokens"},
        {{{"type", "subscribe"}, {"pattern", "a.*"}, {"since", {{"offset", 1}, {"epoch", "x"}}}, {"id", 7}},
         "invalid_cursor", "\"sequence\""},
        {{{"type", "subscribe"}, {"pattern", "a.*"}, {"topic", "a.b"}, {"id", 8}}, "invalid_json", "not both"},
        {{{"type", "subscribe"}, {"pattern", 5}, {"id", 9}}, "missing_field", "string"},
        {{{"type", "subscribe"}, {"topic", "a.*"}, {"id", 10}}, "invalid_topic", "topic"},
        {{{"type", "publish"}, {"pattern", "a.*"}, {"data", 1}, {"id", 11}}, "missing_field", "topic"},
    };
    for (auto const& c : cases) {
        auto reply = ws->ask(srv.ioc, c.command);
        ASSERT_TRUE(reply) << c.command;
        EXPECT_EQ((*reply)["type"], "error") << *reply;
        EXPECT_EQ((*reply)["code"], c.code) << *reply;
        EXPECT_NE((*reply).value("message", "").find(c.says), std::string::npos) << *reply;
    }
    EXPECT_TRUE(ws->is_open()) << "bad input is answered, the connection stays";
    EXPECT_EQ((*srv).hub().pattern_count(), 0u);
    ws->close();
}

TEST(patterns, websocket_topics_and_patterns_count_together_under_max_subscriptions)
{
    server_options o;
    o.max_subscriptions = 3;
    live_server srv(o);
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "t", 1));
    // Sent without waiting: the places are taken as the subscribes arrive.
    ws->send_json(pattern_command("subscribe", "a.*", 2));
    ws->send_json(pattern_command("subscribe", "b.*", 3));
    ws->send_json(pattern_command("subscribe", "c.*", 4));
    ws->send_json({{"type", "subscribe"}, {"topic", "u"}, {"id", 5}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 5));
    for (int id : {2, 3})
        EXPECT_EQ((*ws->wait_reply(srv.ioc, id))["type"], "ack");
    for (int id : {4, 5}) {
        auto reply = ws->wait_reply(srv.ioc, id);
        ASSERT_TRUE(reply);
        EXPECT_EQ((*reply)["code"], "too_many_topics") << *reply;
    }
    // Subscribing again to a pattern it has takes no new place.
    EXPECT_EQ((*ws->ask(srv.ioc, pattern_command("subscribe", "a.*", 6)))["type"], "ack");
    // Leaving one makes room.
    ASSERT_TRUE(ws->ask(srv.ioc, pattern_command("unsubscribe", "b.*", 7)));
    EXPECT_EQ((*ws->ask(srv.ioc, pattern_command("subscribe", "c.*", 8)))["type"], "ack");
    ws->close();
}

TEST(patterns, permissions_allow_a_pattern_only_when_they_allow_every_topic_it_matches)
{
    server_options o;
    o.security.anonymous_subscribe = {"public.*", "news.sports.tennis"};
    live_server srv(o);
    std::vector<std::pair<std::string, bool>> asked;  // what the authorize hook saw
    (*srv).hooks().authorize = [&](authorize_request const& r, decision_handler done) {
        asked.emplace_back(r.topic, r.pattern);
        done(r.topic == "public.secret.*" ? make_error_code(error::rejected) : boost::system::error_code{});
    };
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    for (auto [p, id] : {std::pair{"public.>", 1}, {"public.*.x", 2}})
        EXPECT_EQ((*ws->ask(srv.ioc, pattern_command("subscribe", p, id)))["type"], "ack") << p;
    // Each of these could match a topic outside "public.*": the anonymous client could not subscribe to it.
    int id = 10;
    for (char const* p : {">", "*", "*.x", "publ.*", "news.sports.*", "news.*.tennis", "news.>"}) {
        auto reply = ws->ask(srv.ioc, pattern_command("subscribe", p, ++id));
        ASSERT_TRUE(reply) << p;
        EXPECT_EQ((*reply)["code"], "forbidden") << p << ": " << *reply;
        EXPECT_NE((*reply).value("message", "").find(p), std::string::npos) << *reply;
    }
    auto rejected = ws->ask(srv.ioc, pattern_command("subscribe", "public.secret.*", 30));
    EXPECT_EQ((*rejected)["code"], "rejected");
    EXPECT_EQ(asked, (std::vector<std::pair<std::string, bool>>{
                         {"public.>", true}, {"public.*.x", true}, {"public.secret.*", true}}))
        << "the hook is asked only what the permissions allow, told it is a pattern";

    // What the patterns it has deliver: never a topic outside "public.*".
    srv.publish("news.sports.tennis", 1);
    srv.publish("private.x", 2);
    srv.publish("public.a.x", 3);
    settle(srv, *ws, 40);
    ASSERT_EQ(ws->message_count(), 1u);
    EXPECT_EQ(ws->messages()[0]["topic"], "public.a.x");
    ws->close();
}

TEST(patterns, sse_streams_topics_and_patterns_each_message_once)
{
    live_server srv;
    srv.start();
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=sports.tennis&pattern=sports.*&pattern=sports.%3E&pattern=sports.*");
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().pattern_subscription_count() == 2; }));
    srv.publish("sports.tennis", 1);      // the topic and both patterns
    srv.publish("sports.golf.live", 2);   // sports.> only
    srv.publish("news.golf", 3);          // nothing
    srv.publish("sports.tennis", 4);
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 3));
    auto const got = sse->messages();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0]["topic"], "sports.tennis");
    EXPECT_EQ(got[1]["topic"], "sports.golf.live");
    EXPECT_EQ(got[1]["offset"], 1);
    EXPECT_EQ(got[2]["data"], 4);
    std::vector<std::string> subscribed;
    for (auto const& e : sse->events())
        if (e.type == "subscribed") {
            auto const j = json::parse(e.data);
            subscribed.push_back(j.contains("pattern") ? "pattern " + j["pattern"].get<std::string>()
                                                       : "topic " + j["topic"].get<std::string>());
        }
    EXPECT_EQ(subscribed, (std::vector<std::string>{"topic sports.tennis", "pattern sports.*", "pattern sports.>"}));
    // The cursor names the stream's topics, and its patterns at their sequence (not the topics they reach).
    EXPECT_NE(sse->last_event_id().find("sports.tennis"), std::string::npos) << sse->last_event_id();
    EXPECT_NE(sse->last_event_id().find(".sports.>"), std::string::npos) << sse->last_event_id();
    EXPECT_EQ(sse->last_event_id().find("golf"), std::string::npos) << sse->last_event_id();
    sse->close();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().pattern_count() == 0; }));
}

TEST(patterns, sse_and_poll_refusals_say_why)
{
    server_options o;
    o.security.anonymous_subscribe = {"public.*"};
    o.max_subscriptions = 2;
    live_server srv(o);
    srv.start();
    struct refusal {
        std::string target;
        int status;
        char const* code;
        char const* says;
    };
    std::vector<refusal> const cases = {
        {"/sse?pattern=public.b", 400, "invalid_pattern", "wildcard"},
        {"/sse?pattern=public.%3E.x", 400, "invalid_pattern", "last token"},
        {"/sse?pattern=*.x", 403, "forbidden", "*.x"},
        {"/sse?topic=public.a&pattern=%3E", 403, "forbidden", ">"},
        {"/sse?topic=public.a&pattern=public.*&pattern=public.*.b", 400, "too_many_topics", "topics and patterns"},
        {"/poll?pattern=*.x", 403, "forbidden", "*.x"},
        {"/poll?pattern=public.*&cursor=1.e.public.%3E.x", 400, "invalid_cursor", "cursor"},
    };
    for (auto const& c : cases) {
        auto res = fetch(srv.ioc, srv.port, "GET", c.target);
        EXPECT_EQ(res.status, c.status) << c.target << ": " << res.body;
        EXPECT_EQ(res.json()["error"].value("code", ""), c.code) << c.target << ": " << res.body;
        EXPECT_NE(res.body.find(c.says), std::string::npos) << c.target << ": " << res.body;
    }
    EXPECT_EQ((*srv).hub().pattern_count(), 0u);
    EXPECT_EQ((*srv).hub().topic_count(), 0u) << "a refused stream leaves no subscription";
}

TEST(patterns, a_cpp_listener_subscribes_to_a_pattern)
{
    live_server srv;
    srv.start();
    std::vector<std::string> got;
    std::optional<boost::system::error_code> made;
    subscribe_options options;
    options.on_subscribed = [&](boost::system::error_code ec, subscribe_result const&) { made = ec; };
    auto sub = (*srv).subscribe("orders.>", [&](message_ptr const& m) { got.push_back(m->topic()); }, options);
    ASSERT_TRUE(srv.run_until([&] { return made.has_value(); }));
    ASSERT_FALSE(*made) << made->message();
    srv.publish("orders.eu.1", 1);
    srv.publish("order.x", 2);
    srv.publish("orders.us", 3);
    EXPECT_EQ(got, (std::vector<std::string>{"orders.eu.1", "orders.us"}));

    // A resume from another epoch: made, and told that history could not be honoured (pattern_resume_test.cpp).
    std::optional<subscribe_result> resumed;
    subscribe_options resume;
    resume.since = position{1, "e"};
    resume.on_subscribed = [&](boost::system::error_code ec, subscribe_result const& r) {
        EXPECT_FALSE(ec) << ec.message();
        resumed = r;
    };
    auto resuming = (*srv).subscribe("orders.*", [](message_ptr const&) {}, resume);
    ASSERT_TRUE(srv.run_until([&] { return resumed.has_value(); }));
    EXPECT_FALSE(resumed->recovered);
    resuming.unsubscribe();
    sub.unsubscribe();
    EXPECT_EQ((*srv).hub().pattern_count(), 0u);
}

TEST(patterns, an_unsubscribe_calls_off_a_pattern_subscribe_still_being_authorized)
{
    live_server srv;
    // Decisions held until the test releases them, as an authorization service that answers later.
    std::vector<decision_handler> held;
    (*srv).hooks().authorize = [&](authorize_request const&, decision_handler done) { held.push_back(done); };
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json(pattern_command("subscribe", "a.*", 1));
    ws->send_json(pattern_command("unsubscribe", "a.*", 2));
    auto unsubscribed = ws->wait_reply(srv.ioc, 2);
    ASSERT_TRUE(unsubscribed);
    EXPECT_EQ((*unsubscribed)["type"], "ack");
    auto called_off = ws->find_reply(1);
    ASSERT_TRUE(called_off) << "answered before the unsubscribe's ack";
    EXPECT_EQ((*called_off)["code"], "unsubscribed");
    ws->send_json(pattern_command("subscribe", "a.*", 3));
    ASSERT_TRUE(srv.run_until([&] { return held.size() == 2; }));
    for (auto& done : held)
        done({});  // the first one's answer comes too late: ignored
    auto last = ws->wait_reply(srv.ioc, 3);
    ASSERT_TRUE(last);
    EXPECT_EQ((*last)["type"], "ack");
    EXPECT_EQ((*srv).hub().pattern_subscription_count(), 1u) << "subscribed once, by the last subscribe";
    srv.publish("a.b", 1);
    settle(srv, *ws, 4);
    EXPECT_EQ(ws->message_count(), 1u);
    ws->close();
}

TEST(patterns, a_backplane_that_cannot_serve_patterns_refuses_them_by_name)
{
    // Redis and NATS serve patterns (tests/integration/scale_out_test.cpp); a backplane that neither delivers
    // every topic nor follows patterns (this test double says neither) is refused by name.
    live_server srv(server_options{}, [](boost::asio::any_io_executor ex) {
        return std::make_unique<slow_history_backplane>(ex);
    });
    srv.start();
    ASSERT_FALSE((*srv).backplane().delivers_patterns());
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    auto reply = ws->ask(srv.ioc, pattern_command("subscribe", "a.*", 1));
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["code"], "invalid_pattern") << *reply;
    EXPECT_NE((*reply).value("message", "").find("slow-history backplane"), std::string::npos) << *reply;
    auto res = fetch(srv.ioc, srv.port, "GET", "/sse?pattern=a.*");
    EXPECT_EQ(res.status, 400) << res.body;
    EXPECT_NE(res.body.find("slow-history backplane"), std::string::npos) << res.body;
    EXPECT_EQ((*srv).hub().pattern_count(), 0u);
    ws->close();
}

}  // namespace
}  // namespace switchboard::test
