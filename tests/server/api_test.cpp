// The server API (docs/server-api.md): curl against an in-process server with WebSocket, SSE and long-polling
// clients, every route with the key and without it, and the same operations on the C++ server object.

#include "support/curl.hpp"
#include "support/jwt_maker.hpp"
#include "support/live_server.hpp"
#include "support/poll_client.hpp"
#include "support/raw_connection.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;

std::string const key = "k3y-0123456789";
auto constexpr wait = std::chrono::milliseconds(10000);

server_options api_options()
{
    server_options options;
    options.api_key = key;
    return options;
}

// Clients are users by their token (HS256), on every loop alike (SWITCHBOARD_TEST_LOOPS: a hook is one loop's).
std::string const jwt_secret = "a-test-secret-of-32-characters!!";

server_options user_options()
{
    auto options = api_options();
    options.security.jwt_secret = jwt_secret;
    return options;
}

std::string as(std::string const& user)
{
    return "token=" + make_hs256({{"sub", user}, {"exp", unix_time(std::chrono::seconds(600))}}, jwt_secret);
}

// curl with the key (as a bearer token), a JSON body for POST.
curl_answer api(live_server& srv, std::string const& target, std::string const& body = {},
                std::string const& auth = "Authorization: Bearer " + key)
{
    std::vector<std::string> args{"-H", auth};
    if (!body.empty())
        args.insert(args.end(), {"-H", "Content-Type: application/json", "--data-binary", body});
    return curl(srv.ioc, url(srv, target), args);
}

json parsed(curl_answer const& a)
{
    return json::parse(a.body, nullptr, false);
}

// A WebSocket client of `user`, subscribed to `topic`.
std::shared_ptr<ws_client> subscribed(live_server& srv, std::string const& user, std::string const& topic)
{
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?" + as(user));
    EXPECT_TRUE(ws->subscribe(srv.ioc, topic, 1));
    return ws;
}

TEST(api, is_off_without_a_key)
{
    live_server srv;
    srv.start();
    EXPECT_EQ(api(srv, "/api/topics").status, 404);
    EXPECT_EQ(api(srv, "/api/broadcast", R"({"topics":["a"],"data":1})").status, 404);
}

TEST(api, every_route_needs_the_key)
{
    live_server srv(api_options());
    srv.start();
    std::vector<std::pair<std::string, std::string>> const calls{
        {"/api/broadcast", R"({"topics":["a"],"data":1})"},
        {"/api/history?topic=a", ""},
        {"/api/channels?user=u", ""},
        {"/api/disconnect", R"({"user":"u"})"},
        {"/api/unsubscribe", R"({"channel":1,"topic":"a"})"},  // no such channel: 404 once the key is good
        {"/api/topics", ""},
    };
    for (auto const& [target, body] : calls) {
        for (std::string const& bad : std::vector<std::string>{"X-Nothing: 1", "Authorization: Bearer wrong", "X-API-Key: " + key + "x",
                                      "Authorization: Basic " + key}) {
            auto const a = api(srv, target, body, bad);
            EXPECT_EQ(a.status, 401) << target << " " << bad;
            EXPECT_EQ(parsed(a)["error"]["code"], "unauthorized") << a.body;
        }
        int const good = target == "/api/unsubscribe" ? 404 : 200;
        EXPECT_EQ(api(srv, target, body).status, good) << target;
        EXPECT_EQ(api(srv, target, body, "X-API-Key: " + key).status, good) << target;
    }
}

TEST(api, broadcast_delivers_the_data_byte_for_byte_to_every_topic_on_every_transport)
{
    auto options = api_options();
    options.poll_hold = std::chrono::milliseconds(500);  // so that the poller stops soon after the test
    live_server srv(options);
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "news", 1));
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=sports");
    ASSERT_TRUE(sse->wait_events(srv.ioc, 1));
    auto poll = poll_client::create(srv.ioc);
    poll->start(srv.port, {"weather"});
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().topics == 3; }));

    std::string const data = R"({"b": [1, 2.50, "\u00e9"],  "a":null })";
    auto const a = api(srv, "/api/broadcast", R"({"topics":["news","sports","weather"], "data": )" + data + "}");
    ASSERT_EQ(a.status, 200) << a.body;
    auto const results = parsed(a)["results"];
    ASSERT_EQ(results.size(), 3u);
    for (auto const& r : results) {
        EXPECT_EQ(r["offset"], 1) << r;
        EXPECT_TRUE(r.contains("epoch")) << r;
    }
    EXPECT_EQ(results[1]["topic"], "sports");

    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    EXPECT_NE(ws->texts().back().find(R"("data":)" + data), std::string::npos) << ws->texts().back();
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 1));
    EXPECT_NE(sse->events().back().data.find(data), std::string::npos) << sse->events().back().data;
    ASSERT_TRUE(poll->wait_messages(srv.ioc, 1));
    EXPECT_EQ(poll->messages().back()["data"], json::parse(data));
    poll->stop();
    ASSERT_TRUE(poll->wait_stopped(srv.ioc));
}

// Every loop of the process answers for its own channels (server::set_loops), wherever the request lands.
TEST(api, answers_for_every_loop_of_the_process)
{
    live_server srv(user_options(), 3);
    srv.start();
    std::vector<std::shared_ptr<ws_client>> alice, bob;
    for (int i = 0; i < 8; ++i) {
        auto& c = (i < 6 ? alice : bob).emplace_back(ws_client::create(srv.ioc));
        c->connect(srv.port, "/ws?" + as(i < 6 ? "alice" : "bob"));
        ASSERT_TRUE(c->subscribe(srv.ioc, "room", 1));
    }
    EXPECT_EQ(parsed(api(srv, "/api/topics"))["topics"][0], (json{{"topic", "room"}, {"subscribers", 8}}));
    EXPECT_EQ(parsed(api(srv, "/api/channels?user=alice"))["channels"].size(), 6u);
    EXPECT_EQ(parsed(api(srv, "/api/disconnect", R"({"user":"alice"})"))["disconnected"], 6);
    for (auto const& c : alice) {
        ASSERT_TRUE(c->wait_closed(srv.ioc));
        EXPECT_EQ(c->close_code(), 4006);
    }
    for (auto const& c : bob)
        EXPECT_TRUE(c->is_open());
    EXPECT_EQ(parsed(api(srv, "/api/topics"))["topics"][0], (json{{"topic", "room"}, {"subscribers", 2}}));
}

// A retried broadcast with the same key publishes nothing twice: each topic answers its first position.
TEST(api, broadcast_with_an_idempotency_key_is_safe_to_retry)
{
    live_server srv(api_options());
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "a", 1));
    std::string const body = R"({"topics":["a","b"],"data":"once","idempotency_key":"order-17"})";
    auto const first = parsed(api(srv, "/api/broadcast", body));
    auto const again = parsed(api(srv, "/api/broadcast", body));
    EXPECT_EQ(first, again);
    EXPECT_EQ(again["results"][1]["offset"], 1);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    ASSERT_TRUE(ws->ask(srv.ioc, {{"type", "ping"}, {"id", 9}}));
    EXPECT_EQ(ws->message_count(), 1u);
    EXPECT_EQ(parsed(api(srv, "/api/broadcast", R"({"topics":["a"],"data":1,"idempotency_key":"has space"})"))["error"]["code"],
              "invalid_idempotency_key");
}

TEST(api, broadcast_refuses_bad_input_clearly)
{
    live_server srv(api_options());
    srv.start();
    auto const code = [&](std::string const& body) {
        auto const a = api(srv, "/api/broadcast", body);
        return std::pair{a.status, parsed(a)["error"]["code"].get<std::string>()};
    };
    EXPECT_EQ(code("{not json"), (std::pair{400, std::string("invalid_json")}));
    EXPECT_EQ(code(R"({"data":1})"), (std::pair{400, std::string("missing_field")}));
    EXPECT_EQ(code(R"({"topics":["a"]})"), (std::pair{400, std::string("missing_field")}));
    EXPECT_EQ(code(R"({"topics":[],"data":1})"), (std::pair{400, std::string("missing_field")}));
    json many = json::array();
    for (int i = 0; i <= 1000; ++i)
        many.push_back("t" + std::to_string(i));
    EXPECT_EQ(code(json{{"topics", many}, {"data", 1}}.dump()), (std::pair{400, std::string("too_many_topics")}));

    // A bad topic among good ones fails alone.
    auto const a = api(srv, "/api/broadcast", R"({"topics":["ok","bad topic"],"data":"x"})");
    ASSERT_EQ(a.status, 200) << a.body;
    auto const results = parsed(a)["results"];
    EXPECT_EQ(results[0]["offset"], 1);
    EXPECT_EQ(results[1]["error"]["code"], "invalid_topic");
}

TEST(api, history_pages_with_positions)
{
    live_server srv(api_options());
    srv.start();
    for (int i = 1; i <= 5; ++i)
        ASSERT_EQ(api(srv, "/api/broadcast", R"({"topics":["h"],"data":)" + std::to_string(i * 10) + "}").status, 200);

    auto const first = api(srv, "/api/history?topic=h&since=0&limit=2");
    ASSERT_EQ(first.status, 200) << first.body;
    auto const page = parsed(first);
    ASSERT_EQ(page["messages"].size(), 2u);
    EXPECT_EQ(page["messages"][0]["offset"], 1);
    EXPECT_EQ(page["messages"][0]["data"], 10);
    EXPECT_EQ(page["latest"]["offset"], 5);
    EXPECT_EQ(page["more"], true);
    EXPECT_EQ(page["next"], 2);
    std::string const epoch = page["latest"]["epoch"];

    auto const rest = parsed(api(srv, "/api/history?topic=h&since=2&limit=100&epoch=" + epoch));
    ASSERT_EQ(rest["messages"].size(), 3u);
    EXPECT_EQ(rest["messages"][2]["offset"], 5);
    EXPECT_EQ(rest["messages"][2]["data"], 50);
    EXPECT_EQ(rest["more"], false);
    EXPECT_EQ(rest["recovered"], true);

    // Without since: the position only.
    auto const now = parsed(api(srv, "/api/history?topic=h"));
    EXPECT_TRUE(now["messages"].empty());
    EXPECT_EQ(now["latest"]["offset"], 5);

    EXPECT_EQ(parsed(api(srv, "/api/history?topic=h&since=0&limit=1000000"))["error"]["code"], "bad_request");
    EXPECT_EQ(parsed(api(srv, "/api/history?topic=h&since=x"))["error"]["code"], "invalid_cursor");
    EXPECT_EQ(parsed(api(srv, "/api/history"))["error"]["code"], "missing_field");
    EXPECT_EQ(parsed(api(srv, "/api/history?topic=bad%20topic"))["error"]["code"], "invalid_topic");
}

// A client from a loopback address past 15 characters, as most clients on the internet are ("203.0.113.195:54321"):
// the channel keeps it in its bytes (packed_address), and the API must still list it exactly as the socket has it.
TEST(api, a_channel_from_a_long_address_is_listed_with_it_exactly)
{
    live_server srv(user_options());
    srv.start();
    raw_connection client(srv.ioc, srv.port, "127.100.200.250");
    client.send("GET /sse?topic=room&" + as("carol") + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(client.wait_for("\r\n\r\n")) << client.received();
    ASSERT_EQ(client.received().rfind("HTTP/1.1 200", 0), 0u) << client.received();

    auto const channels = parsed(api(srv, "/api/channels?user=carol"))["channels"];
    ASSERT_EQ(channels.size(), 1u) << channels;
    EXPECT_EQ(channels[0]["remote_address"], "127.100.200.250:" + std::to_string(client.local_port()));
}

TEST(api, channels_disconnect_and_topics_of_a_user)
{
    live_server srv(user_options());
    srv.start();
    auto alice_ws = ws_client::create(srv.ioc);
    alice_ws->connect(srv.port, "/ws?" + as("alice"));
    ASSERT_TRUE(alice_ws->subscribe(srv.ioc, "room", 1));
    ASSERT_TRUE(alice_ws->subscribe(srv.ioc, "lobby", 2));
    auto alice_sse = sse_client::create(srv.ioc);
    alice_sse->connect(srv.port, "/sse?topic=room&" + as("alice"));
    ASSERT_TRUE(alice_sse->wait_events(srv.ioc, 1));
    auto bob = ws_client::create(srv.ioc);
    bob->connect(srv.port, "/ws?" + as("bob"));
    ASSERT_TRUE(bob->subscribe(srv.ioc, "room", 1));

    auto const topics = parsed(api(srv, "/api/topics"))["topics"];
    ASSERT_EQ(topics.size(), 2u) << topics;
    EXPECT_EQ(topics[0], (json{{"topic", "room"}, {"subscribers", 3}}));
    EXPECT_EQ(topics[1], (json{{"topic", "lobby"}, {"subscribers", 1}}));

    auto const channels = parsed(api(srv, "/api/channels?user=alice"))["channels"];
    ASSERT_EQ(channels.size(), 2u) << channels;
    std::vector<std::string> transports;
    for (auto const& c : channels) {
        transports.push_back(c["transport"]);
        EXPECT_TRUE(c["id"].is_number()) << c;
        EXPECT_EQ(c["remote_address"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << c;
    }
    std::sort(transports.begin(), transports.end());
    EXPECT_EQ(transports, (std::vector<std::string>{"sse", "websocket"}));
    EXPECT_EQ(parsed(api(srv, "/api/channels?user=nobody"))["channels"].size(), 0u);
    EXPECT_EQ(parsed(api(srv, "/api/channels"))["error"]["code"], "missing_field");

    EXPECT_EQ(parsed(api(srv, "/api/disconnect", R"({"user":"alice","code":4999})"))["error"]["code"], "bad_request");
    auto const done = api(srv, "/api/disconnect", R"({"user":"alice","code":3501,"reason":"banned"})");
    ASSERT_EQ(done.status, 200) << done.body;
    EXPECT_EQ(parsed(done)["disconnected"], 2);
    ASSERT_TRUE(alice_ws->wait_closed(srv.ioc));
    EXPECT_EQ(alice_ws->close_code(), 3501);
    EXPECT_EQ(alice_ws->close_reason(), "banned");
    ASSERT_TRUE(alice_sse->wait_ended(srv.ioc));
    auto const close = alice_sse->find_event("close");
    ASSERT_TRUE(close);
    EXPECT_EQ(json::parse(close->data)["code"], 3501);
    // Bob stays.
    EXPECT_TRUE(bob->is_open());
    EXPECT_EQ(parsed(api(srv, "/api/topics"))["topics"][0], (json{{"topic", "room"}, {"subscribers", 1}}));

    // One channel by id, with the operator's code by default.
    auto const bob_id = parsed(api(srv, "/api/channels?user=bob"))["channels"][0]["id"].get<std::uint64_t>();
    auto const one = api(srv, "/api/disconnect", R"({"channel":)" + std::to_string(bob_id) + "}");
    EXPECT_EQ(parsed(one)["disconnected"], 1) << one.body;
    ASSERT_TRUE(bob->wait_closed(srv.ioc));
    EXPECT_EQ(bob->close_code(), 4006);
    EXPECT_EQ(parsed(api(srv, "/api/disconnect", "{\"user\":"))["error"]["code"], "invalid_json");
    EXPECT_EQ(parsed(api(srv, "/api/disconnect", "[1]"))["error"]["code"], "invalid_json");
    EXPECT_EQ(parsed(api(srv, "/api/disconnect", R"({"user":""})"))["error"]["code"], "missing_field");
    auto const unknown = api(srv, "/api/disconnect", R"({"channel":999999})");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(parsed(unknown)["error"]["code"], "not_found");
}

TEST(api, unsubscribe_stops_delivery_to_that_channel_only)
{
    live_server srv(user_options());
    srv.start();
    auto a = ws_client::create(srv.ioc);
    a->connect(srv.port, "/ws?" + as("a"));
    ASSERT_TRUE(a->subscribe(srv.ioc, "room", 1));
    auto b = ws_client::create(srv.ioc);
    b->connect(srv.port, "/ws?" + as("b"));
    ASSERT_TRUE(b->subscribe(srv.ioc, "room", 1));

    auto const a_id = parsed(api(srv, "/api/channels?user=a"))["channels"][0]["id"].get<std::uint64_t>();
    auto const out = api(srv, "/api/unsubscribe", R"({"channel":)" + std::to_string(a_id) + R"(,"topic":"room"})");
    ASSERT_EQ(out.status, 200) << out.body;
    EXPECT_EQ(parsed(out)["unsubscribed"], true);
    EXPECT_EQ(parsed(api(srv, "/api/unsubscribe", R"({"channel":999999,"topic":"room"})"))["error"]["code"],
              "not_found");
    EXPECT_EQ(parsed(api(srv, "/api/unsubscribe", R"({"channel":"x","topic":"room"})"))["error"]["code"],
              "missing_field");

    ASSERT_EQ(api(srv, "/api/broadcast", R"({"topics":["room"],"data":"after"})").status, 200);
    ASSERT_TRUE(b->wait_messages(srv.ioc, 1));
    // `a` is told, gets nothing more (a ping round trip shows nothing is in flight), and stays connected.
    ASSERT_TRUE(a->ask(srv.ioc, {{"type", "ping"}, {"id", 9}}));
    EXPECT_EQ(a->message_count(), 0u);
    EXPECT_TRUE(a->is_open());
    auto const& frames = a->received();
    EXPECT_TRUE(std::any_of(frames.begin(), frames.end(), [](json const& f) {
        return f == json{{"type", "unsubscribed"}, {"topic", "room"}};
    }));

    // An SSE stream is told with an event; a pattern by its name.
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=room&pattern=room.*&" + as("c"));
    ASSERT_TRUE(sse->wait_events(srv.ioc, 2));
    auto const c_id = parsed(api(srv, "/api/channels?user=c"))["channels"][0]["id"].get<std::uint64_t>();
    for (auto const* topic : {"room", "room.*"})
        ASSERT_EQ(api(srv, "/api/unsubscribe",
                      R"({"channel":)" + std::to_string(c_id) + R"(,"topic":")" + topic + R"("})")
                      .status,
                  200);
    std::vector<json> told;
    ASSERT_TRUE(run_until(srv.ioc, [&] {
        told.clear();
        for (auto const& e : sse->events())
            if (e.type == "unsubscribed")
                told.push_back(json::parse(e.data));
        return told.size() >= 2;
    }, wait));
    EXPECT_EQ(told, (std::vector<json>{{{"type", "unsubscribed"}, {"topic", "room"}},
                                       {{"type", "unsubscribed"}, {"pattern", "room.*"}}}));
}

TEST(api, the_server_object_offers_the_same_operations)
{
    live_server srv(user_options());
    srv.start();
    auto const ws = subscribed(srv, "carol", "x");

    std::vector<broadcast_result> sent;
    (*srv).broadcast({"x", "y"}, R"({"k": 1})", [&](std::vector<broadcast_result> r) { sent = std::move(r); });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return sent.size() == 2; }, wait));
    EXPECT_FALSE(sent[0].error);
    EXPECT_EQ(sent[0].where.offset, 1u);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    EXPECT_NE(ws->texts().back().find(R"("data":{"k": 1})"), std::string::npos);

    std::vector<broadcast_result> refused;
    (*srv).broadcast({"x"}, "{not json", [&](std::vector<broadcast_result> r) { refused = std::move(r); });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return refused.size() == 1; }, wait));
    EXPECT_EQ(refused[0].error, error::invalid_json);

    std::optional<history_result> read;
    (*srv).history("x", position{0, ""}, backplane::whole_history, [&](boost::system::error_code ec, history_result h) {
        EXPECT_FALSE(ec);
        read = std::move(h);
    });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return read.has_value(); }, wait));
    ASSERT_EQ(read->messages.size(), 1u);
    EXPECT_EQ(read->messages[0]->data(), R"({"k": 1})");

    std::vector<topic_count> topics;
    bool listed = false;
    (*srv).topics([&](std::vector<topic_count> t) {
        topics = std::move(t);
        listed = true;
    });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return listed; }, wait));
    ASSERT_EQ(topics.size(), 1u);
    EXPECT_EQ(topics[0].subscribers, 1u);

    std::vector<channel_info> channels;
    listed = false;
    (*srv).channels_of_user("carol", [&](std::vector<channel_info> c) {
        channels = std::move(c);
        listed = true;
    });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return listed; }, wait));
    ASSERT_EQ(channels.size(), 1u);
    EXPECT_EQ(channels[0].topics, std::vector<std::string>{"x"});

    std::size_t unsubscribed = 9;
    (*srv).unsubscribe_channel(channels[0].id, "x", [&](std::size_t n) { unsubscribed = n; });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return unsubscribed != 9; }, wait));
    EXPECT_EQ(unsubscribed, 1u);

    std::size_t closed = 9;
    (*srv).disconnect_user("carol", disconnect::terminal(3600, "bye"), [&](std::size_t n) { closed = n; });
    ASSERT_TRUE(ws->wait_closed(srv.ioc));
    EXPECT_EQ(ws->close_code(), 3600);
    ASSERT_TRUE(run_until(srv.ioc, [&] { return closed != 9; }, wait));
    EXPECT_EQ(closed, 1u);
}

// An application's completion handler is application code on the loop, as a hook is: one that throws is logged
// and goes no further (STYLE.md, "Errors"). Before, the throw left the loop's run(): the bundled server ended,
// and with it every client's connection.
TEST(api, a_callback_of_the_server_object_that_throws_harms_no_one)
{
    live_server srv(user_options());
    srv.start();
    auto const ws = subscribed(srv, "dave", "x");
    bool closed = false;
    subscribe_options options;
    options.on_closed = [&](disconnect const&) {
        closed = true;
        throw std::runtime_error("on_closed");
    };
    bool subscribed = false;
    options.on_subscribed = [&](boost::system::error_code, subscribe_result const&) { subscribed = true; };
    auto listening = (*srv).subscribe("x", [](message_ptr const&) {}, std::move(options));
    ASSERT_TRUE(run_until(srv.ioc, [&] { return subscribed; }, wait));

    int called = 0;
    auto const throws = [&](auto&&...) {
        ++called;
        throw std::runtime_error("an application's bug");
    };
    (*srv).publish_text("x", R"({"n":1})", throws);
    (*srv).publish_text("not a topic!", "1", throws);
    (*srv).broadcast({"x"}, R"({"n":2})", throws);
    (*srv).history("x", position{0, ""}, backplane::whole_history, throws);
    (*srv).presence("x", "", 10, throws);
    (*srv).presence_stats("x", throws);
    (*srv).topics(throws);
    (*srv).channels_of_user("dave", throws);
    (*srv).unsubscribe_channel(1u << 30, "x", throws);
    (*srv).disconnect_channel(1u << 30, disconnect::normal(), throws);
    ASSERT_TRUE(run_until(srv.ioc, [&] { return called == 10; }, wait));

    // The loop went on: the WebSocket client got both messages, and the server object still answers.
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    std::size_t left = 9;
    (*srv).disconnect_user("dave", disconnect::terminal(3600, "bye"), [&](std::size_t n) {
        left = n;
        throw std::runtime_error("after counting");
    });
    ASSERT_TRUE(ws->wait_closed(srv.ioc));
    ASSERT_TRUE(run_until(srv.ioc, [&] { return left != 9; }, wait));
    EXPECT_EQ(left, 1u);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/healthz").status, 200);
    // A stop tells the listener, whose on_closed throws, and goes on to its end.
    (*srv).stop();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return closed; }, wait));
    EXPECT_TRUE(run_until(srv.ioc, [&] { return fetch(srv.ioc, srv.port, "GET", "/healthz").status != 200; }, wait));
}

}  // namespace
}  // namespace switchboard::test
