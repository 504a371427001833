// Every transport reaches every other: one subscriber per transport, messages published over WebSocket, over
// HTTP POST and from C++ arrive at all three exactly once, in publish order, with identical envelopes.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/poll_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace switchboard::test {
namespace {

using nlohmann::json;

struct three_subscribers {
    std::shared_ptr<ws_client> ws;
    std::shared_ptr<sse_client> sse;
    std::shared_ptr<poll_client> poll;

    three_subscribers(live_server& srv, std::string const& topic)
        : ws(ws_client::create(srv.ioc)), sse(sse_client::create(srv.ioc)), poll(poll_client::create(srv.ioc))
    {
        ws->connect(srv.port);
        ws->send_json({{"type", "subscribe"}, {"topic", topic}, {"id", "sub"}});
        sse->connect(srv.port, "/sse?topic=" + topic);
        poll->start(srv.port, {topic});
        EXPECT_TRUE(ws->wait_reply(srv.ioc, "sub").has_value());
        EXPECT_TRUE(sse->wait_status(srv.ioc));
        EXPECT_EQ(sse->status(), 200);
        // The first poll has reached the server once it holds a cursor-less request; a published message
        // after that is owed to it.
        EXPECT_TRUE(poll->wait_requests(srv.ioc, 1));
        EXPECT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 1; }));
    }

    bool wait_all(live_server& srv, std::size_t n)
    {
        return srv.run_until([&] {
            return ws->message_count() >= n && sse->message_count() >= n && poll->messages().size() >= n;
        });
    }

    void stop(live_server& srv)
    {
        poll->stop();
        ws->close();
        sse->close();
        srv.run_until([&] { return !poll->running() || poll->requests() > 0; });
    }
};

TEST(cross_transport, every_publisher_reaches_every_transport_in_order)
{
    live_server srv;
    srv.start();
    three_subscribers subs(srv, "room.1");

    auto publisher = ws_client::create(srv.ioc);
    publisher->connect(srv.port);
    ASSERT_TRUE(publisher->wait_open(srv.ioc));

    // Interleave the three ways of publishing, waiting for each to be acknowledged so the order is defined.
    std::vector<json> sent;
    for (int i = 0; i < 9; ++i) {
        json const data = {{"n", i}, {"text", "héllo \"quoted\"\n"}};
        sent.push_back(data);
        if (i % 3 == 0) {
            publisher->send_json({{"type", "publish"}, {"topic", "room.1"}, {"data", data}, {"id", i}});
            auto ack = publisher->wait_reply(srv.ioc, i);
            ASSERT_TRUE(ack);
            EXPECT_EQ((*ack)["type"], "ack");
            EXPECT_EQ((*ack)["offset"], i + 1);
        } else if (i % 3 == 1) {
            auto res = fetch(srv.ioc, srv.port, "POST", "/publish?topic=room.1", data.dump());
            ASSERT_EQ(res.status, 200) << res.body;
            EXPECT_EQ(res.json()["offset"], i + 1);
            EXPECT_EQ(res.json()["topic"], "room.1");
        } else {
            std::optional<position> where;
            (*srv).publish("room.1", data, [&](boost::system::error_code ec, position p) {
                EXPECT_FALSE(ec);
                where = p;
            });
            ASSERT_TRUE(srv.run_until([&] { return where.has_value(); }));
            EXPECT_EQ(where->offset, static_cast<std::uint64_t>(i + 1));
        }
    }

    ASSERT_TRUE(subs.wait_all(srv, sent.size()));
    auto const ws_got = subs.ws->messages();
    auto const sse_got = subs.sse->messages();
    auto const poll_got = subs.poll->messages();
    ASSERT_EQ(ws_got.size(), sent.size());
    ASSERT_EQ(sse_got.size(), sent.size());
    ASSERT_EQ(poll_got.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        json const expected = {{"type", "message"}, {"topic", "room.1"}, {"offset", i + 1}, {"data", sent[i]}};
        EXPECT_EQ(ws_got[i], expected);
        EXPECT_EQ(sse_got[i], expected);
        EXPECT_EQ(poll_got[i], expected);
    }
    subs.stop(srv);
}

TEST(cross_transport, sse_and_poll_envelopes_are_byte_identical)
{
    live_server srv;
    srv.start();
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=bytes");
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    auto res = fetch(srv.ioc, srv.port, "POST", "/publish?topic=bytes", R"({ "b" : [1, 2.5, "x"], "a": null })");
    ASSERT_EQ(res.status, 200);
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 1));
    auto const poll = fetch(srv.ioc, srv.port, "GET", "/poll?topic=bytes&cursor=0..bytes");
    ASSERT_EQ(poll.status, 200) << poll.body;
    std::string const envelope = sse->events().back().data;
    // The body as it was sent, spaces and key order included (docs/protocol.md, "Payloads").
    EXPECT_EQ(envelope, R"({"type":"message","topic":"bytes","offset":1,"data":{ "b" : [1, 2.5, "x"], "a": null }})");
    EXPECT_NE(poll.body.find(envelope), std::string::npos) << poll.body;
    sse->close();
}

TEST(cross_transport, publish_from_another_thread_is_delivered)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "threads", 1));

    std::thread other([&] {
        for (int i = 0; i < 100; ++i)
            (*srv).publish("threads", i);
    });
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 100));
    other.join();
    auto const got = ws->messages();
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(got[i]["data"], i);
        EXPECT_EQ(got[i]["offset"], i + 1);
    }
    ws->close();
}

TEST(cross_transport, every_loop_delivers_what_any_loop_publishes)
{
    // Two loops of one process (always, whatever SWITCHBOARD_TEST_LOOPS says): subscribers are opened until
    // each loop holds some, then every subscriber publishes in turn and each gets every message once, in order.
    live_server srv({}, 2);
    srv.start();
    std::vector<std::shared_ptr<ws_client>> clients;
    std::vector<server_stats> per_loop;
    for (int i = 0; i < 24; ++i) {
        auto& c = clients.emplace_back(ws_client::create(srv.ioc));
        c->connect(srv.port);
        ASSERT_TRUE(c->subscribe(srv.ioc, "loops", 1));
        ASSERT_TRUE(srv.run_until([&] { return srv.stats(&per_loop).websocket == clients.size(); }));
        if (per_loop[0].websocket > 0 && per_loop[1].websocket > 0)
            break;
    }
    ASSERT_GT(per_loop[0].websocket, 0u);
    ASSERT_GT(per_loop[1].websocket, 0u) << "24 connections all landed on one loop";
    EXPECT_EQ(per_loop[0].topics, 1u);
    EXPECT_EQ(per_loop[1].topics, 1u);

    for (std::size_t i = 0; i < clients.size(); ++i) {
        clients[i]->send_json({{"type", "publish"}, {"topic", "loops"}, {"data", i}, {"id", 100 + i}});
        auto const ack = clients[i]->wait_reply(srv.ioc, 100 + i);
        ASSERT_TRUE(ack.has_value());
        EXPECT_EQ((*ack)["offset"], i + 1) << "one place numbers the topic, whichever loop publishes";
    }
    for (auto const& c : clients) {
        ASSERT_TRUE(c->wait_messages(srv.ioc, clients.size()));
        auto const got = c->messages();
        for (std::size_t i = 0; i < clients.size(); ++i) {
            EXPECT_EQ(got[i]["data"], i);
            EXPECT_EQ(got[i]["offset"], i + 1);
        }
    }
    for (auto const& c : clients)
        ASSERT_TRUE(c->wait_settled(srv.ioc));
    for (auto const& c : clients)
        EXPECT_EQ(c->message_count(), clients.size()) << "a message came twice";
}

}  // namespace
}  // namespace switchboard::test
