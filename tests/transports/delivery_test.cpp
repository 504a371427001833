// Delivery on each transport: unsubscribing, several topics on one connection, clients that vanish, and a
// thousand subscribers over the three transports receiving a burst.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/poll_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

namespace switchboard::test {
namespace {

using nlohmann::json;

TEST(delivery, unsubscribe_stops_delivery)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "a", 1));
    srv.publish("a", 1);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));

    ws->send_json({{"type", "unsubscribe"}, {"topic", "a"}, {"id", 2}});
    auto ack = ws->wait_reply(srv.ioc, 2);
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["type"], "ack");
    EXPECT_EQ((*srv).hub().subscriber_count("a"), 0u);
    srv.publish("a", 2);
    // A ping after the publish is answered after anything the publish would have queued.
    ws->send_json({{"type", "ping"}, {"id", 3}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 3));
    EXPECT_EQ(ws->message_count(), 1u);
    ws->close();
}

TEST(delivery, several_topics_on_one_connection)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    for (auto const* t : {"x", "y", "z"})
        ws->send_json({{"type", "subscribe"}, {"topic", t}, {"id", t}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, "z"));
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=x&topic=z");
    ASSERT_TRUE(sse->wait_status(srv.ioc));

    srv.publish("x", "x1");
    srv.publish("y", "y1");
    srv.publish("z", "z1");
    srv.publish("other", "o1");
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 3));
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 2));
    auto const got = ws->messages();
    EXPECT_EQ(got[0]["data"], "x1");
    EXPECT_EQ(got[1]["data"], "y1");
    EXPECT_EQ(got[2]["data"], "z1");
    auto const streamed = sse->messages();
    EXPECT_EQ(streamed[0]["data"], "x1");
    EXPECT_EQ(streamed[1]["data"], "z1");
    // The SSE id names both topics' positions, so a reconnect resumes them all.
    EXPECT_NE(sse->last_event_id().find(".x"), std::string::npos) << sse->last_event_id();
    EXPECT_NE(sse->last_event_id().find(".z"), std::string::npos) << sse->last_event_id();

    // A multi-topic poll returns messages of both topics.
    auto res = fetch(srv.ioc, srv.port, "GET", "/poll?topic=x&topic=y&cursor=0..x,0..y");
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.json()["messages"].size(), 2u);
    ws->close();
    sse->close();
}

TEST(delivery, a_request_may_name_as_many_topics_as_the_subscription_limit)
{
    live_server srv;  // max_subscriptions: 128, more than the 64 parameters a router might stop at
    srv.start();
    std::string query;
    for (int i = 0; i < 100; ++i)
        query += "topic=t" + std::to_string(i) + "&";
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?" + query);
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    EXPECT_EQ(sse->status(), 200);
    srv.publish("t99", "last one");
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 1));
    auto poll = fetch(srv.ioc, srv.port, "GET", "/poll?" + query + "cursor=0..t99");
    EXPECT_EQ(poll.status, 200) << poll.body;
    EXPECT_EQ(poll.json()["messages"].size(), 1u);
    sse->close();
}

TEST(delivery, a_vanishing_client_harms_nobody)
{
    live_server srv;
    srv.start();
    auto steady = ws_client::create(srv.ioc);
    steady->connect(srv.port);
    ASSERT_TRUE(steady->subscribe(srv.ioc, "t", 1));
    auto steady_sse = sse_client::create(srv.ioc);
    steady_sse->connect(srv.port, "/sse?topic=t");
    ASSERT_TRUE(steady_sse->wait_status(srv.ioc));

    std::vector<std::shared_ptr<ws_client>> ws_gone;
    std::vector<std::shared_ptr<sse_client>> sse_gone;
    for (int i = 0; i < 10; ++i) {
        auto w = ws_client::create(srv.ioc);
        w->connect(srv.port);
        w->send_json({{"type", "subscribe"}, {"topic", "t"}, {"id", 1}});
        ws_gone.push_back(w);
        auto s = sse_client::create(srv.ioc);
        s->connect(srv.port, "/sse?topic=t");
        sse_gone.push_back(s);
    }
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 22; }));

    for (int i = 0; i < 50; ++i) {
        srv.publish("t", i);
        if (i == 10)
            for (std::size_t k = 0; k < ws_gone.size(); ++k) {
                ws_gone[k]->drop(k % 2 == 0);  // half reset, half plain FIN, mid-stream
                sse_gone[k]->close();
            }
    }
    ASSERT_TRUE(steady->wait_messages(srv.ioc, 50));
    ASSERT_TRUE(steady_sse->wait_messages(srv.ioc, 50));
    EXPECT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 2; }));
    EXPECT_TRUE(srv.run_until([&] { return (*srv).stats().websocket == 1 && (*srv).stats().sse == 1; }));
    steady->close();
    steady_sse->close();
}

TEST(delivery, a_thousand_subscribers_over_three_transports_get_a_burst)
{
    live_server srv;
    srv.start();
    constexpr int per_transport = 334;  // 1,002 subscribers
    constexpr std::size_t burst = 100;
    std::vector<std::shared_ptr<ws_client>> ws;
    std::vector<std::shared_ptr<sse_client>> sse;
    std::vector<std::shared_ptr<poll_client>> polls;
    for (int i = 0; i < per_transport; ++i) {
        ws.push_back(ws_client::create(srv.ioc));
        ws.back()->connect(srv.port);
        ws.back()->send_json({{"type", "subscribe"}, {"topic", "burst"}});
        sse.push_back(sse_client::create(srv.ioc));
        sse.back()->connect(srv.port, "/sse?topic=burst");
    }
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("burst") == 2 * per_transport; }, std::chrono::seconds(60)));
    // Pollers start from a cursor at offset 0, so they are owed every message whatever their timing.
    for (int i = 0; i < per_transport; ++i) {
        polls.push_back(poll_client::create(srv.ioc));
        polls.back()->set_cursor("0..burst");
        polls.back()->start(srv.port, {"burst"});
    }

    for (std::size_t i = 0; i < burst; ++i)
        (*srv).publish("burst", {{"i", i}});

    auto const all_done = [&] {
        for (auto const& c : ws)
            if (c->message_count() < burst)
                return false;
        for (auto const& c : sse)
            if (c->message_count() < burst)
                return false;
        for (auto const& c : polls)
            if (c->messages().size() < burst)
                return false;
        return true;
    };
    ASSERT_TRUE(srv.run_until(all_done, std::chrono::seconds(120)));
    auto const check = [&](std::vector<json> const& got) {
        ASSERT_EQ(got.size(), burst);
        for (std::size_t i = 0; i < burst; ++i)
            ASSERT_EQ(got[i]["offset"], i + 1);
    };
    for (auto const& c : ws)
        check(c->messages());
    for (auto const& c : sse)
        check(c->messages());
    for (auto const& c : polls)
        check(c->messages());
    for (auto const& c : polls)
        c->stop();
    for (auto const& c : ws)
        c->close();
    for (auto const& c : sse)
        c->close();
}

}  // namespace
}  // namespace switchboard::test
