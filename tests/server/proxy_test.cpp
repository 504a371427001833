// Proxy hooks over HTTP (server_options::proxy, docs/integration.md): a real backend process (Python's standard
// library, tests/server/proxy_backend.py) decides connects, subscribes and publishes, on every transport. What
// the backend may cost the server is bounded: a slow one (the timeout), a dead one, one answering garbage, and
// more requests than max_in_flight. Clients: curl (a third party) for HTTP, ours for WebSocket and SSE streams.

#include "support/curl.hpp"
#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>
#include <string>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// What the backend answers "rewrite.*" publishes with: text a parser would not give back as it is.
constexpr std::string_view rewritten =
    R"({"n": 123456789012345678901234567890, "s":"caf\u00e9",  "k":[1.50,2e3]})";

struct backend {
    server_process process{"python3", {SWITCHBOARD_PROXY_BACKEND}};
    std::uint16_t port = process.wait_for_port(20s).value_or(0);

    std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(port) + std::string(path); }

    // Every request the backend got, in order: {path, body (parsed), port}.
    json requests(boost::asio::io_context& ioc) const
    {
        auto const res = fetch(ioc, port, "GET", "/log");
        json out = json::array();
        for (auto const& r : res.json())
            out.push_back({{"path", r["path"]}, {"body", json::parse(r["body"].get<std::string>())}, {"port", r["port"]}});
        return out;
    }
};

server_options proxied(backend const& b, std::chrono::milliseconds timeout = 5s)
{
    server_options o;
    o.proxy.connect_url = b.url("/connect");
    o.proxy.refresh_url = b.url("/refresh");
    o.proxy.subscribe_url = b.url("/subscribe");
    o.proxy.publish_url = b.url("/publish");
    o.proxy.timeout = timeout;
    o.proxy.headers = {"X-Trace"};
    o.proxy.cookies = {"session"};
    return o;
}

json error_of(curl_answer const& a)
{
    auto const body = json::parse(a.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"] : json();
}

TEST(proxy, the_connect_backend_says_who_connects_and_sees_only_the_forwarded_fields)
{
    backend b;
    ASSERT_NE(b.port, 0) << b.process.output();
    live_server srv(proxied(b));
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=user:alice",
                {{"X-Trace", "t-1"}, {"Cookie", "session=s3cret; other=no"}, {"X-Private", "never"}});
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    // The identity is the backend's: the subscribe proxy is told the user it named.
    auto reply = ws->subscribe(srv.ioc, "room.1", 1);
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["type"], "ack") << reply->dump();

    auto log = b.requests(srv.ioc);
    ASSERT_EQ(log.size(), 2u) << log.dump();
    EXPECT_EQ(log[0]["path"], "/connect");
    auto const& connect = log[0]["body"];
    EXPECT_EQ(connect["transport"], "websocket");
    EXPECT_EQ(connect["token"], "user:alice");
    EXPECT_EQ(connect["headers"], json({{"X-Trace", "t-1"}}));
    EXPECT_EQ(connect["cookies"], json({{"session", "s3cret"}}));
    EXPECT_TRUE(connect["remote_address"].get<std::string>().starts_with("127.0.0.1:"));
    EXPECT_EQ(log[1]["path"], "/subscribe");
    EXPECT_EQ(log[1]["body"]["user"], "alice");
    EXPECT_EQ(log[1]["body"]["topic"], "room.1");
    EXPECT_EQ(log[1]["body"]["transport"], "websocket");

    // A refusal reaches the client with the backend's code and message, on every transport.
    for (auto const* target : {"/sse?topic=a&token=deny", "/poll?topic=a&token=deny"}) {
        auto const a = curl(srv.ioc, url(srv, target));
        EXPECT_EQ(a.status, 401) << target << ": " << a.output;
        EXPECT_EQ(error_of(a)["code"], "unauthorized") << a.body;
        EXPECT_EQ(error_of(a)["message"], "go away") << a.body;
    }
    auto const publish = curl(srv.ioc, url(srv, "/publish?topic=a&token=deny"),
                              {"-H", "Content-Type: application/json", "--data-binary", "{}"});
    EXPECT_EQ(publish.status, 401) << publish.output;
    EXPECT_EQ(error_of(publish)["message"], "go away");
    auto denied = ws_client::create(srv.ioc);
    denied->connect(srv.port, "/ws?token=deny");
    EXPECT_FALSE(denied->wait_settled(srv.ioc));
    EXPECT_EQ(denied->http_status(), 401);
}

TEST(proxy, a_websocket_refresh_asks_the_refresh_backend)
{
    backend b;
    ASSERT_NE(b.port, 0) << b.process.output();
    live_server srv(proxied(b));
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=user:gina");
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    auto reply = ws->ask(srv.ioc, {{"type", "refresh"}, {"token", "user:gina"}, {"id", 1}});
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["type"], "ack") << reply->dump();
    // The backend's refusal and its message; another user's token is not a refresh.
    reply = ws->ask(srv.ioc, {{"type", "refresh"}, {"token", "deny"}, {"id", 2}});
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["code"], "unauthorized") << reply->dump();
    EXPECT_EQ((*reply)["message"], "go away") << reply->dump();
    reply = ws->ask(srv.ioc, {{"type", "refresh"}, {"token", "user:mallory"}, {"id", 3}});
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["code"], "unauthorized") << reply->dump();
    EXPECT_TRUE(ws->is_open());

    std::vector<std::string> paths;
    for (auto const& r : b.requests(srv.ioc))
        paths.push_back(r["path"]);
    EXPECT_EQ(paths, (std::vector<std::string>{"/connect", "/refresh", "/refresh", "/refresh"}));
}

TEST(proxy, the_subscribe_backend_allows_and_refuses_on_every_transport)
{
    backend b;
    ASSERT_NE(b.port, 0) << b.process.output();
    live_server srv(proxied(b));
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=user:bob");
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    auto refused = ws->subscribe(srv.ioc, "deny.vault", 1);
    ASSERT_TRUE(refused);
    EXPECT_EQ((*refused)["code"], "forbidden") << refused->dump();
    EXPECT_EQ((*refused)["message"], "no entry to deny.vault") << refused->dump();
    refused = ws->ask(srv.ioc, {{"type", "subscribe"}, {"pattern", "deny.>"}, {"id", 9}});
    ASSERT_TRUE(refused);
    EXPECT_EQ((*refused)["code"], "forbidden") << refused->dump();
    EXPECT_EQ((*refused)["message"], "no entry to deny.>") << refused->dump();

    for (auto const* target : {"/sse?topic=deny.vault&token=user:bob", "/poll?topic=deny.vault&token=user:bob",
                               "/sse?pattern=deny.%3E&token=user:bob"}) {
        auto const a = curl(srv.ioc, url(srv, target));
        auto const what = std::string(target).find("pattern") != std::string::npos ? "deny.>" : "deny.vault";
        EXPECT_EQ(a.status, 403) << target << ": " << a.output;
        EXPECT_EQ(error_of(a)["code"], "forbidden") << a.body;
        EXPECT_EQ(error_of(a)["message"], std::string("no entry to ") + what) << a.body;
    }

    // Allowed: an SSE stream and a WebSocket both get what is published, and the backend saw each subscribe.
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=open.room&token=user:carol");
    ASSERT_TRUE(run_until(srv.ioc, [&] { return sse->status() == 200 || sse->failed(); }, 10s));
    ASSERT_EQ(sse->status(), 200);
    ASSERT_EQ((*ws->subscribe(srv.ioc, "open.room", 2))["type"], "ack");
    auto const sent = curl(srv.ioc, url(srv, "/publish?topic=open.room&token=user:dave"),
                           {"-H", "Content-Type: application/json", "--data-binary", R"({"x":1})"});
    EXPECT_EQ(sent.status, 200) << sent.output;
    EXPECT_TRUE(ws->wait_messages(srv.ioc, 1));
    EXPECT_TRUE(run_until(srv.ioc, [&] { return sse->message_count() == 1; }, 10s));

    std::set<std::string> subscribers;
    for (auto const& r : b.requests(srv.ioc))
        if (r["path"] == "/subscribe" && r["body"]["topic"] == "open.room")
            subscribers.insert(r["body"]["user"].get<std::string>() + "/" + r["body"]["transport"].get<std::string>());
    EXPECT_EQ(subscribers, (std::set<std::string>{"bob/websocket", "carol/sse"}));
}

TEST(proxy, the_publish_backend_replaces_data_byte_for_byte_or_refuses_with_its_message)
{
    backend b;
    ASSERT_NE(b.port, 0) << b.process.output();
    live_server srv(proxied(b));
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=user:erin");
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    ASSERT_EQ((*ws->subscribe(srv.ioc, "rewrite.feed", 1))["type"], "ack");

    auto const sent = curl(srv.ioc, url(srv, "/publish?topic=rewrite.feed&token=user:frank"),
                           {"-H", "Content-Type: application/json", "--data-binary", R"({"original":true})"});
    EXPECT_EQ(sent.status, 200) << sent.output;
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    auto const& text = ws->texts().back();
    EXPECT_NE(text.find(std::string(R"("data":)") + std::string(rewritten) + "}"), std::string::npos) << text;

    // The backend saw the client's data as it was sent, and who sent it.
    auto log = b.requests(srv.ioc);
    auto const& asked = log.back();
    EXPECT_EQ(asked["path"], "/publish");
    EXPECT_EQ(asked["body"]["data"], json({{"original", true}}));
    EXPECT_EQ(asked["body"]["user"], "frank");
    EXPECT_EQ(asked["body"]["transport"], "publish");

    // A WebSocket publish refused: the backend's code and message in the error frame, nothing delivered.
    auto reply = ws->ask(srv.ioc, {{"type", "publish"}, {"topic", "deny.feed"}, {"data", 1}, {"id", 2}});
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["code"], "rejected") << reply->dump();
    EXPECT_EQ((*reply)["message"], "not on deny.feed") << reply->dump();
    // And allowed as it is.
    reply = ws->ask(srv.ioc, {{"type", "publish"}, {"topic", "rewrite.feed2"}, {"data", 1}, {"id", 3}});
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["type"], "ack") << reply->dump();
}

// A namespace's own URLs decide its topics; the connect answer's "topics" are subscribed without the client
// asking (server-side subscriptions), so the backend can push to one user.
TEST(proxy, a_namespace_asks_its_own_backend_and_the_connect_answer_subscribes_the_client)
{
    backend b;
    ASSERT_NE(b.port, 0) << b.process.output();
    server_options o;
    o.proxy.connect_url = b.url("/connect");
    namespace_options mod;
    mod.name = "mod";
    mod.subscribe_url = b.url("/subscribe");
    mod.publish_url = b.url("/publish");
    namespace_options user;
    user.name = "user";
    user.subscribe = namespace_access::nobody;
    o.namespaces = {mod, user};
    live_server srv(o);
    srv.start();

    // The backend's connect answer names the user's topic: the stream needs no ?topic= of its own.
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?token=push:carol");
    ASSERT_TRUE(sse->wait_events(srv.ioc, 1)) << sse->status() << " " << sse->error_body();
    auto const subscribed = json::parse(sse->find_event("subscribed")->data);
    EXPECT_EQ(subscribed["topic"], "user:carol");
    EXPECT_EQ(subscribed["server"], true);

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=user:dave");
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    auto reply = ws->subscribe(srv.ioc, "mod:deny.x", 1);
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["message"], "no entry to deny.x") << reply->dump();
    reply = ws->subscribe(srv.ioc, "deny.x", 2);  // no namespace, and the server has no subscribe URL
    ASSERT_TRUE(reply);
    EXPECT_EQ((*reply)["type"], "ack") << reply->dump();
    ASSERT_EQ((*ws->subscribe(srv.ioc, "mod:rewrite.a", 3))["type"], "ack");
    ASSERT_EQ((*ws->subscribe(srv.ioc, "rewrite.a", 4))["type"], "ack");

    // mod's publishes are the backend's to rewrite; a topic outside it is not asked about.
    for (auto const* topic : {"mod:rewrite.a", "rewrite.a", "user:carol"}) {
        auto const sent = curl(srv.ioc, url(srv, std::string("/publish?topic=") + topic + "&token=user:erin"),
                               {"-H", "Content-Type: application/json", "--data-binary", R"({"original":true})"});
        EXPECT_EQ(sent.status, 200) << topic << ": " << sent.output;
    }
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    auto const messages = ws->messages();
    EXPECT_EQ(messages[0]["topic"], "mod:rewrite.a");
    auto const& texts = ws->texts();
    EXPECT_TRUE(std::any_of(texts.begin(), texts.end(), [](std::string const& t) {
        return t.find("mod:rewrite.a") != std::string::npos &&
               t.find(std::string(R"("data":)") + std::string(rewritten) + "}") != std::string::npos;
    }));
    EXPECT_EQ(messages[1]["topic"], "rewrite.a");
    EXPECT_EQ(messages[1]["data"], json({{"original", true}}));
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 1));
    EXPECT_EQ(sse->messages()[0]["topic"], "user:carol");

    std::vector<std::string> asked;
    for (auto const& r : b.requests(srv.ioc))
        if (r["path"] != "/connect")
            asked.push_back(r["path"].get<std::string>() + " " + r["body"]["topic"].get<std::string>());
    EXPECT_EQ(asked, (std::vector<std::string>{"/subscribe mod:deny.x", "/subscribe mod:rewrite.a",
                                               "/publish mod:rewrite.a"}));
    ws->close();
    sse->close();
}

TEST(proxy, a_backend_that_is_slow_dead_or_answers_garbage_is_backend_unavailable_and_harms_nobody)
{
    backend b;
    ASSERT_NE(b.port, 0) << b.process.output();
    auto options = proxied(b, 500ms);
    live_server srv(options);
    srv.start();

    // Slow: answered within the timeout and a margin, not after the backend's 10 s.
    auto const started = std::chrono::steady_clock::now();
    auto const slow = curl(srv.ioc, url(srv, "/poll?topic=a&token=slow"));
    EXPECT_EQ(slow.status, 503) << slow.output;
    EXPECT_EQ(error_of(slow)["code"], "backend_unavailable") << slow.body;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    // Garbage, an HTTP error, a publish answer that is not JSON.
    for (auto const* token : {"garbage", "fail"}) {
        auto const a = curl(srv.ioc, url(srv, std::string("/poll?topic=a&token=") + token));
        EXPECT_EQ(a.status, 503) << token << ": " << a.output;
        EXPECT_EQ(error_of(a)["code"], "backend_unavailable") << a.body;
    }
    auto const garbage = curl(srv.ioc, url(srv, "/publish?topic=garbage.x&token=user:g"),
                              {"-H", "Content-Type: application/json", "--data-binary", "1"});
    EXPECT_EQ(garbage.status, 503) << garbage.output;

    // Meanwhile others are served.
    auto const fine = curl(srv.ioc, url(srv, "/publish?topic=ok&token=user:h"),
                           {"-H", "Content-Type: application/json", "--data-binary", "1"});
    EXPECT_EQ(fine.status, 200) << fine.output;

    // Dead: a port nobody listens on.
    boost::asio::ip::tcp::acceptor closed(srv.ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    auto const dead_port = closed.local_endpoint().port();
    closed.close();
    server_options dead;
    dead.proxy.connect_url = "http://127.0.0.1:" + std::to_string(dead_port) + "/connect";
    live_server other(dead);
    other.start();
    auto const a = fetch(other.ioc, other.port, "GET", "/poll?topic=a&token=x");
    EXPECT_EQ(a.status, 503);
    EXPECT_EQ(a.json()["error"]["code"], "backend_unavailable") << a.body;
}

TEST(proxy, requests_past_max_in_flight_fail_at_once_and_connections_are_reused)
{
    backend b;
    ASSERT_NE(b.port, 0) << b.process.output();
    auto options = proxied(b, 3s);
    options.proxy.max_in_flight = 2;
    live_server srv(options);
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=user:ivy");
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    // Two subscribes wait on the slow backend; the third is refused at once, not queued.
    for (int i = 1; i <= 3; ++i)
        ws->send_json({{"type", "subscribe"}, {"topic", "slow." + std::to_string(i)}, {"id", i}});
    auto third = ws->wait_reply(srv.ioc, 3, 2s);
    ASSERT_TRUE(third) << "the third subscribe waited";
    EXPECT_EQ((*third)["code"], "backend_unavailable") << third->dump();
    EXPECT_FALSE(ws->find_reply(1));
    // The two waiting ones end at the timeout.
    for (int i = 1; i <= 2; ++i) {
        auto r = ws->wait_reply(srv.ioc, i, 10s);
        ASSERT_TRUE(r);
        EXPECT_EQ((*r)["code"], "backend_unavailable") << r->dump();
    }

    // Sequential requests share kept connections: 20 publishes over far fewer connections than requests.
    for (int i = 0; i < 20; ++i) {
        auto r = ws->ask(srv.ioc, {{"type", "publish"}, {"topic", "ok"}, {"data", i}, {"id", 100 + i}});
        ASSERT_TRUE(r);
        ASSERT_EQ((*r)["type"], "ack") << r->dump();
    }
    std::set<int> ports;
    for (auto const& r : b.requests(srv.ioc))
        if (r["path"] == "/publish")
            ports.insert(r["port"].get<int>());
    EXPECT_LE(ports.size(), 2u);
}

TEST(proxy, a_bad_url_is_refused_at_start_naming_its_key)
{
    server_options o;
    o.proxy.publish_url = "https://127.0.0.1/publish";
    live_server srv(o);
    try {
        srv.start();
        FAIL() << "started with an https proxy URL";
    } catch (std::invalid_argument const& e) {
        EXPECT_NE(std::string(e.what()).find("proxy.publish_url"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace switchboard::test
