// Namespaces (server_options::namespaces, docs/protocol.md "Namespaces"): a topic "name:..." follows its
// namespace's rules on every transport (who may subscribe and publish, which transports deliver it, presence and
// its events), a namespace the server does not have is refused with unknown_namespace, and a pattern that may
// reach a namespace is held to its rules. Clients: curl (a third party) for HTTP, ours for WebSocket and SSE.

#include "support/curl.hpp"
#include "support/jwt_maker.hpp"
#include "support/live_server.hpp"
#include "support/run_until.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <string>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string const secret = "a-test-secret-of-32-characters!!";

std::string token_for(std::string const& user, json topics = nullptr)
{
    json c = {{"sub", user}, {"exp", unix_time(3600s)}};
    if (!topics.is_null())
        c["topics"] = std::move(topics);
    return make_hs256(c, secret);
}

server_options with_namespaces()
{
    server_options o;
    o.security.jwt_secret = secret;
    o.security.allow_anonymous = true;
    o.poll_hold = 300ms;
    namespace_options chat;
    chat.name = "chat";
    chat.publish = namespace_access::users;
    namespace_options feed;
    feed.name = "feed";
    feed.subscribe = namespace_access::nobody;  // the server's subscriptions only
    feed.publish = namespace_access::nobody;    // the backend's (the server API, C++) only
    namespace_options live;
    live.name = "live";
    live.transports.sse = false;
    live.transports.long_polling = false;
    namespace_options quiet;
    quiet.name = "quiet";
    quiet.join_leave = false;
    namespace_options bare;
    bare.name = "bare";
    bare.presence = false;
    o.namespaces = {chat, feed, live, quiet, bare};
    return o;
}

// curl's answer as {status, error code, error message}.
json ask(live_server& srv, std::string const& target, std::vector<std::string> extra = {})
{
    auto const a = curl(srv.ioc, url(srv, target), std::move(extra));
    auto const body = json::parse(a.body, nullptr, false);
    json out = {{"status", a.status}};
    if (body.is_object() && body.contains("error")) {
        out["code"] = body["error"]["code"];
        out["message"] = body["error"]["message"];
    }
    return out;
}

json publish(live_server& srv, std::string const& topic, std::string const& token = {})
{
    std::vector<std::string> extra = {"-X", "POST", "--data-binary", R"({"n":1})"};
    if (!token.empty())
        extra.insert(extra.end(), {"-H", "Authorization: Bearer " + token});
    return ask(srv, "/publish?topic=" + topic, std::move(extra));
}

json subscribe(live_server& srv, ws_client& ws, json command)
{
    static int id = 0;
    command["type"] = "subscribe";
    command["id"] = ++id;
    auto const reply = ws.ask(srv.ioc, command);
    return reply ? *reply : json();
}

TEST(namespaces, an_unknown_namespace_is_refused_on_every_route_and_plain_topics_are_unchanged)
{
    live_server srv(with_namespaces());
    srv.start();
    std::string const message = "this server has no namespace nope";
    for (auto const* target : {"/sse?topic=nope:x", "/poll?topic=nope:x", "/presence?topic=nope:x"}) {
        auto const a = ask(srv, target);
        EXPECT_EQ(a["status"], 400) << target;
        EXPECT_EQ(a["code"], "unknown_namespace") << target;
        EXPECT_EQ(a["message"], message) << target;
    }
    EXPECT_EQ(publish(srv, "nope:x")["code"], "unknown_namespace");
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    auto const refused = subscribe(srv, *ws, {{"topic", "nope:x"}});
    EXPECT_EQ(refused["code"], "unknown_namespace");
    EXPECT_EQ(refused["message"], message);
    EXPECT_EQ(subscribe(srv, *ws, {{"topic", "news"}})["type"], "ack");
    EXPECT_EQ(publish(srv, "news")["status"], 200);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    EXPECT_TRUE(ws->is_open());
    ws->close();
}

TEST(namespaces, who_may_subscribe_and_publish_follows_the_namespace)
{
    live_server srv(with_namespaces());
    srv.start();
    // chat: everyone reads, only clients with a token write.
    auto const anonymous = publish(srv, "chat:lobby");
    EXPECT_EQ(anonymous["status"], 403);
    EXPECT_EQ(anonymous["message"], "only clients with a token may publish to topics of namespace chat");
    EXPECT_EQ(publish(srv, "chat:lobby", token_for("alice"))["status"], 200);
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    EXPECT_EQ(subscribe(srv, *ws, {{"topic", "chat:lobby"}})["type"], "ack");
    auto const ws_publish = ws->ask(srv.ioc, {{"type", "publish"}, {"topic", "chat:lobby"}, {"data", 1}, {"id", "p"}});
    ASSERT_TRUE(ws_publish);
    EXPECT_EQ((*ws_publish)["code"], "forbidden");

    // feed: no client subscribes or publishes; the server's subscriptions reach it, and so does the backend.
    auto const closed = subscribe(srv, *ws, {{"topic", "feed:alice"}});
    EXPECT_EQ(closed["code"], "forbidden");
    EXPECT_EQ(closed["message"], "clients may not subscribe to topics of namespace feed");
    EXPECT_EQ(ask(srv, "/sse?topic=feed:alice")["status"], 403);
    EXPECT_EQ(publish(srv, "feed:alice", token_for("alice"))["status"], 403);
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?token=" + token_for("alice", {"feed:alice"}));
    ASSERT_TRUE(run_until(srv.ioc, [&] { return sse->find_event("subscribed").has_value(); }, 10s))
        << sse->status() << " " << sse->error_body();
    bool published = false;
    (*srv).publish_text("feed:alice", R"({"from":"backend"})", [&](boost::system::error_code ec, position) {
        EXPECT_FALSE(ec);
        published = true;
    });
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 1));
    EXPECT_TRUE(published);
    EXPECT_NE(sse->events().back().data.find(R"({"from":"backend"})"), std::string::npos);

    // A pattern that may reach feed's topics is held to its rules; one inside a namespace to that one's.
    auto const wide = subscribe(srv, *ws, {{"pattern", ">"}});
    EXPECT_EQ(wide["code"], "forbidden") << wide.dump();
    EXPECT_NE(wide["message"].get<std::string>().find("namespace feed"), std::string::npos) << wide.dump();
    EXPECT_EQ(subscribe(srv, *ws, {{"pattern", "chat:rooms.>"}})["type"], "ack");
    EXPECT_EQ(ask(srv, "/sse?pattern=*.x")["status"], 403);
    EXPECT_TRUE(ws->is_open());
    ws->close();
    sse->close();
}

TEST(namespaces, a_namespace_is_delivered_only_over_its_transports)
{
    live_server srv(with_namespaces());
    srv.start();
    auto const sse = ask(srv, "/sse?topic=live:score");
    EXPECT_EQ(sse["status"], 403);
    EXPECT_EQ(sse["message"], "topics of namespace live are not delivered over sse");
    EXPECT_EQ(ask(srv, "/poll?topic=live:score")["message"],
              "topics of namespace live are not delivered over long-polling");
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    EXPECT_EQ(subscribe(srv, *ws, {{"topic", "live:score"}})["type"], "ack");
    // Publishing is not delivery: any client may publish over HTTP.
    EXPECT_EQ(publish(srv, "live:score")["status"], 200);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    ws->close();
}

TEST(namespaces, presence_and_its_events_follow_the_namespace)
{
    live_server srv(with_namespaces());
    srv.start();
    // bare: no presence at all, said so on every way to ask.
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=" + token_for("alice"));
    auto const off = subscribe(srv, *ws, {{"topic", "bare:x"}, {"presence", true}});
    EXPECT_EQ(off["code"], "presence_unavailable");
    EXPECT_EQ(off["message"], "presence is off in namespace bare");
    EXPECT_EQ(ask(srv, "/presence?topic=bare:x")["message"], "presence is off in namespace bare");
    EXPECT_EQ(ask(srv, "/sse?topic=bare:x&presence=1")["code"], "presence_unavailable");
    EXPECT_EQ(subscribe(srv, *ws, {{"topic", "bare:x"}})["type"], "ack");  // without presence, as any topic

    // quiet: members are kept (snapshots count them) but nobody is told of joins and leaves.
    EXPECT_EQ(subscribe(srv, *ws, {{"topic", "quiet:x"}, {"presence", true}})["type"], "ack");
    auto other = ws_client::create(srv.ioc);
    other->connect(srv.port, "/ws?token=" + token_for("bob"));
    EXPECT_EQ(subscribe(srv, *other, {{"topic", "quiet:x"}, {"presence", true}})["type"], "ack");
    auto const members = curl(srv.ioc, url(srv, "/presence?topic=quiet:x"));
    ASSERT_EQ(members.status, 200) << members.body;
    EXPECT_EQ(json::parse(members.body)["members"].size(), 2u) << members.body;
    // Events of one topic reach a channel in order: the message after bob's join comes with no join before it.
    EXPECT_EQ(publish(srv, "quiet:x")["status"], 200);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    auto const& seen = ws->received();
    EXPECT_TRUE(std::none_of(seen.begin(), seen.end(), [](json const& f) { return f["type"] == "join"; }));
    ws->close();
    other->close();
}

}  // namespace
}  // namespace switchboard::test
