// Server-side subscriptions (identity::topics, docs/protocol.md "Server-side subscriptions"): the topics a
// token's "topics" claim names are subscribed as the client connects, on every transport, without the client
// asking and without its topic permissions; a claim that cannot be honoured refuses the connect, clearly.
// Clients: ours for WebSocket and SSE, curl (a third party) for long polling and publishing.

#include "support/curl.hpp"
#include "support/jwt_maker.hpp"
#include "support/live_server.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <switchboard/cursor.hpp>
#include <switchboard/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string const topics_secret = "a-test-secret-of-32-characters!!";

// A token for `user`, subscribed by the server to `topics`, and allowed to subscribe to nothing itself.
std::string token_with_topics(std::string const& user, json topics)
{
    json c = {{"sub", user}, {"exp", unix_time(3600s)}, {"sub_topics", json::array()}};
    if (!topics.is_null())
        c["topics"] = std::move(topics);
    return make_hs256(c, topics_secret);
}

server_options secured()
{
    server_options o;
    o.security.jwt_secret = topics_secret;
    o.poll_hold = 300ms;
    o.max_subscriptions = 4;
    return o;
}

// A backend's publish: its own token, allowed to publish anywhere (the default rules).
curl_answer backend_publish(live_server& srv, std::string const& topic, std::string const& data)
{
    return curl(srv.ioc, url(srv, "/publish?topic=" + topic),
                {"-X", "POST", "-H", "Authorization: Bearer " + token_with_topics("backend", nullptr), "-H",
                 "Content-Type: application/json", "--data-binary", data});
}

TEST(server_topics, a_tokens_topics_are_subscribed_on_every_transport_without_asking)
{
    live_server srv(secured());
    srv.start();
    auto const token = token_with_topics("alice", {"user:alice"});

    // WebSocket: told first, before anything the client sends is answered.
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=" + token);
    ASSERT_TRUE(ws->wait_received(srv.ioc, 1));
    auto const told = ws->received().front();
    EXPECT_EQ(told["type"], "subscribed");
    EXPECT_EQ(told["topic"], "user:alice");
    EXPECT_EQ(told["server"], true);
    EXPECT_EQ(told["offset"], 0);

    // SSE without a ?topic= of its own.
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?token=" + token);
    ASSERT_TRUE(sse->wait_events(srv.ioc, 1)) << sse->status() << " " << sse->error_body();
    auto const subscribed = sse->find_event("subscribed");
    ASSERT_TRUE(subscribed);
    EXPECT_EQ(json::parse(subscribed->data)["topic"], "user:alice");
    EXPECT_EQ(json::parse(subscribed->data)["server"], true);

    // Long polling, by curl: the first poll's cursor names the topic.
    auto const first = curl(srv.ioc, url(srv, "/poll"), {"-H", "Authorization: Bearer " + token});
    ASSERT_EQ(first.status, 200) << first.body;
    auto const cursor = json::parse(first.body)["cursor"].get<std::string>();
    EXPECT_NE(cursor.find("user:alice"), std::string::npos) << cursor;

    // What a backend publishes to the user reaches every transport, byte for byte.
    std::string const data = R"({"n": 123456789012345678901234567890, "note":"for alice"})";
    ASSERT_EQ(backend_publish(srv, "user:alice", data).status, 200);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 1));
    EXPECT_NE(ws->texts().back().find(data), std::string::npos) << ws->texts().back();
    EXPECT_NE(sse->events().back().data.find(data), std::string::npos) << sse->events().back().data;
    auto const next = curl(srv.ioc, url(srv, "/poll?cursor=" + cursor), {"-H", "Authorization: Bearer " + token});
    ASSERT_EQ(next.status, 200) << next.body;
    EXPECT_NE(next.body.find(data), std::string::npos) << next.body;

    // The grant is the server's, not a permission: the client may still not subscribe to another topic, and
    // subscribing to its own server-side topic with a position only replays it.
    auto const refused = ws->ask(srv.ioc, {{"type", "subscribe"}, {"topic", "user:bob"}, {"id", 1}});
    ASSERT_TRUE(refused);
    EXPECT_EQ((*refused)["code"], "forbidden");
    auto const epoch = told["epoch"].get<std::string>();
    auto const replay = ws->ask(srv.ioc, {{"type", "subscribe"},
                                          {"topic", "user:alice"},
                                          {"since", {{"offset", 0}, {"epoch", epoch}}},
                                          {"id", 2}});
    ASSERT_TRUE(replay);
    EXPECT_EQ((*replay)["type"], "ack");
    EXPECT_EQ((*replay)["recovered"], true);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    EXPECT_NE(ws->texts().back().find(data), std::string::npos);
    ws->close();
    sse->close();
}

TEST(server_topics, a_websocket_resumes_them_from_the_cursor_of_its_upgrade)
{
    live_server srv(secured());
    srv.start();
    auto const token = token_with_topics("alice", {"user:alice", "user:alice.orders"});
    std::string epoch;
    for (int n = 1; n <= 3; ++n) {
        auto const sent = backend_publish(srv, "user:alice", std::to_string(n));
        ASSERT_EQ(sent.status, 200) << sent.body;
        epoch = json::parse(sent.body)["epoch"];
    }
    // Back after message 1: messages 2 and 3 come right after the frame, before anything live; the topic the
    // cursor does not name starts from now; an entry for a topic the token does not name is ignored.
    cursor since{{"user:alice", {1, epoch}}, {"user:bob", {0, epoch}}};
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=" + token + "&since=" + encode_cursor(since));
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    ASSERT_EQ(backend_publish(srv, "user:alice", "4").status, 200);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 3));
    // Each topic's frames in order (two topics' may interleave).
    std::map<std::string, std::vector<std::string>> seen;
    for (auto const& frame : ws->received()) {
        auto const topic = frame.value("topic", "");
        if (frame["type"] == "subscribed")
            seen[topic].push_back(frame.contains("recovered") ? "subscribed, recovered" : "subscribed");
        else if (frame["type"] == "message")
            seen[topic].push_back("#" + std::to_string(frame["offset"].get<int>()));
    }
    EXPECT_EQ(seen["user:alice"], (std::vector<std::string>{"subscribed, recovered", "#2", "#3", "#4"}));
    EXPECT_EQ(seen["user:alice.orders"], (std::vector<std::string>{"subscribed"}));
    EXPECT_EQ(seen.count("user:bob"), 0u);
    ws->close();

    // A cursor that cannot be read is refused before the upgrade.
    auto bad = ws_client::create(srv.ioc);
    bad->connect(srv.port, "/ws?token=" + token + "&since=garbage");
    EXPECT_FALSE(bad->wait_settled(srv.ioc));
    EXPECT_EQ(bad->http_status(), 400);
    EXPECT_EQ(json::parse(bad->handshake_response().body())["error"]["code"], "invalid_cursor");
}

// A connection the application refuses (on_connect) is subscribed to nothing: its hooks see no subscribe.
TEST(server_topics, a_refused_connection_is_subscribed_to_nothing)
{
    live_server srv(secured());
    std::vector<std::string> subscribed;
    (*srv).hooks().on_connect = [](channel& ch) -> boost::system::error_code {
        return ch.identity().user == "mallory" ? error::forbidden : boost::system::error_code{};
    };
    (*srv).hooks().on_subscribe = [&](channel& ch, std::string const& topic) -> boost::system::error_code {
        subscribed.push_back(ch.identity().user + " " + topic);
        return {};
    };
    srv.start();
    auto refused = ws_client::create(srv.ioc);
    refused->connect(srv.port, "/ws?token=" + token_with_topics("mallory", {"user:mallory"}));
    ASSERT_TRUE(refused->wait_closed(srv.ioc));
    EXPECT_EQ(refused->close_code(), 4500);
    auto accepted = ws_client::create(srv.ioc);
    accepted->connect(srv.port, "/ws?token=" + token_with_topics("alice", {"user:alice"}));
    ASSERT_TRUE(accepted->wait_received(srv.ioc, 1));
    EXPECT_EQ(subscribed, (std::vector<std::string>{"alice user:alice"}));
    accepted->close();
}

TEST(server_topics, a_topics_claim_that_cannot_be_honoured_refuses_the_connect_clearly)
{
    live_server srv(secured());
    srv.start();
    struct bad {
        json topics;
        std::string message;
    };
    for (auto const& [topics, message] :
         {bad{"user:alice", "the token's topics claim is not a list of topic names"},
          bad{{"user:alice", 42}, "the token's topics claim is not a list of topic names"},
          bad{{"user alice"}, "the token's topics to subscribe to name an invalid topic"},
          bad{{"a", "b", "c", "d", "e"}, "the token names 5 topics to subscribe to; at most 4 are allowed"}}) {
        auto const token = token_with_topics("mallory", topics);
        for (auto const* path : {"/ws", "/sse", "/poll"}) {
            auto const a = curl(srv.ioc, url(srv, path), {"-H", "Authorization: Bearer " + token});
            EXPECT_EQ(a.status, 401) << path << " " << topics.dump();
            auto const body = json::parse(a.body, nullptr, false);
            ASSERT_TRUE(body.is_object()) << a.body;
            EXPECT_EQ(body["error"]["code"], "unauthorized") << path;
            EXPECT_EQ(body["error"]["message"], message) << path;
        }
    }
    // The server's topics and the client's own count together against max_subscriptions.
    auto const token = token_with_topics("alice", {"a", "b", "c"});
    auto const a = curl(srv.ioc, url(srv, "/sse?topic=d&topic=e"), {"-H", "Authorization: Bearer " + token});
    EXPECT_EQ(a.status, 400) << a.body;
    EXPECT_EQ(json::parse(a.body)["error"]["code"], "too_many_topics");
}

}  // namespace
}  // namespace switchboard::test
