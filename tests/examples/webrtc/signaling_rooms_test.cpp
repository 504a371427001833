// The signaling rooms of examples/webrtc on a live server, with real WebSocket, SSE and HTTP clients: who may
// join and publish, the sender stamp, and the "bye" when a peer leaves.

#include "signaling_rooms.hpp"

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

namespace {

using namespace switchboard::test;
using nlohmann::json;

std::shared_ptr<ws_client> member(live_server& srv, std::string const& room, int id = 1)
{
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", room}, {"id", id}});
    return ws;
}

// The data of the messages `ws` received whose kind is `kind`.
std::vector<json> of_kind(ws_client const& ws, std::string const& kind)
{
    std::vector<json> out;
    for (auto const& m : ws.messages())
        if (m["data"].value("kind", "") == kind)
            out.push_back(m["data"]);
    return out;
}

class signaling_rooms : public ::testing::Test {
protected:
    void SetUp() override
    {
        webrtc_example::install_signaling_rooms(*srv, {"webrtc.", 2});
        srv.start();
    }
    live_server srv;
};

TEST_F(signaling_rooms, stamps_the_sender_over_what_it_claims)
{
    auto a = member(srv, "webrtc.r");
    auto b = member(srv, "webrtc.r");
    ASSERT_EQ((*a->wait_reply(srv.ioc, 1))["type"], "ack");
    ASSERT_EQ((*b->wait_reply(srv.ioc, 1))["type"], "ack");
    a->send_json({{"type", "publish"}, {"topic", "webrtc.r"}, {"data", {{"kind", "hello"}}}, {"id", 2}});
    ASSERT_TRUE(b->wait_messages(srv.ioc, 1));
    auto const a_id = b->messages()[0]["data"]["from"];
    ASSERT_TRUE(a_id.is_string());
    // b claims to be a.
    b->send_json({{"type", "publish"}, {"topic", "webrtc.r"}, {"data", {{"kind", "hello"}, {"from", a_id}}}, {"id", 2}});
    ASSERT_TRUE(a->wait_messages(srv.ioc, 2));
    auto const hellos = of_kind(*a, "hello");
    ASSERT_EQ(hellos.size(), 2u);
    EXPECT_EQ(hellos[0]["from"], a_id);
    ASSERT_TRUE(hellos[1]["from"].is_string());
    EXPECT_NE(hellos[1]["from"], a_id) << "a peer cannot name another sender";
}

TEST_F(signaling_rooms, only_members_publish_objects_with_a_kind)
{
    auto a = member(srv, "webrtc.r");
    ASSERT_TRUE(a->wait_reply(srv.ioc, 1));
    auto outsider = ws_client::create(srv.ioc);
    outsider->connect(srv.port);
    outsider->send_json({{"type", "publish"}, {"topic", "webrtc.r"}, {"data", {{"kind", "hello"}}}, {"id", 1}});
    outsider->send_json({{"type", "publish"}, {"topic", "chat"}, {"data", "not a room"}, {"id", 2}});
    EXPECT_EQ((*outsider->wait_reply(srv.ioc, 1))["code"], "rejected");
    EXPECT_EQ((*outsider->wait_reply(srv.ioc, 2))["type"], "ack") << "other topics pass through";

    a->send_json({{"type", "publish"}, {"topic", "webrtc.r"}, {"data", "just text"}, {"id", 2}});
    a->send_json({{"type", "publish"}, {"topic", "webrtc.r"}, {"data", {{"kind", 1}}}, {"id", 3}});
    EXPECT_EQ((*a->wait_reply(srv.ioc, 2))["code"], "missing_field");
    EXPECT_EQ((*a->wait_reply(srv.ioc, 3))["code"], "missing_field");

    auto const res = fetch(srv.ioc, srv.port, "POST", "/publish?topic=webrtc.r", R"({"kind":"hello"})");
    EXPECT_EQ(res.status, 403) << "HTTP publishing has no sender to stamp";
    EXPECT_EQ(a->message_count(), 0u);
}

TEST_F(signaling_rooms, rooms_are_for_a_few_websocket_peers)
{
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=webrtc.r");
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    EXPECT_EQ(sse->status(), 403);

    auto a = member(srv, "webrtc.r");
    auto b = member(srv, "webrtc.r");
    auto c = member(srv, "webrtc.r");
    ASSERT_TRUE(a->wait_reply(srv.ioc, 1));
    ASSERT_TRUE(b->wait_reply(srv.ioc, 1));
    EXPECT_EQ((*c->wait_reply(srv.ioc, 1))["code"], "rejected") << "room size 2";
    auto other = member(srv, "webrtc.other");
    EXPECT_EQ((*other->wait_reply(srv.ioc, 1))["type"], "ack") << "the limit is per room";
}

TEST_F(signaling_rooms, says_bye_when_a_peer_leaves)
{
    auto a = member(srv, "webrtc.r");
    auto b = member(srv, "webrtc.r");
    ASSERT_TRUE(a->wait_reply(srv.ioc, 1));
    ASSERT_TRUE(b->wait_reply(srv.ioc, 1));
    a->send_json({{"type", "publish"}, {"topic", "webrtc.r"}, {"data", {{"kind", "hello"}}}});
    ASSERT_TRUE(b->wait_messages(srv.ioc, 1));
    auto const a_id = b->messages()[0]["data"]["from"];

    a->drop();  // vanishes without a close frame
    ASSERT_TRUE(b->wait_messages(srv.ioc, 2));
    EXPECT_EQ(b->messages()[1]["data"], (json{{"kind", "bye"}, {"from", a_id}}));

    b->send_json({{"type", "unsubscribe"}, {"topic", "webrtc.r"}, {"id", 2}});
    ASSERT_TRUE(b->wait_reply(srv.ioc, 2));
    auto c = member(srv, "webrtc.r");
    auto d = member(srv, "webrtc.r");
    EXPECT_EQ((*c->wait_reply(srv.ioc, 1))["type"], "ack") << "leaving frees the place";
    EXPECT_EQ((*d->wait_reply(srv.ioc, 1))["type"], "ack");
}

}  // namespace
