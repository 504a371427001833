// The embedding API: the service's own routes beside switchboard's, and hooks that accept, transform or
// reject what clients do.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace switchboard::test {
namespace {

using nlohmann::json;

TEST(hooks, publish_hook_transforms_and_rejects)
{
    live_server srv;
    (*srv).hooks().on_publish = [](publish_request& req) -> boost::system::error_code {
        if (req.topic.starts_with("readonly"))
            return error::rejected;
        if (req.topic == "boom")
            throw std::runtime_error("hook failure");
        auto const via = req.origin ? std::string(req.origin->transport()) : "http";
        req.replace_data({{"wrapped", req.data_json()}, {"via", via}});
        return {};
    };
    srv.start();
    auto sub = sse_client::create(srv.ioc);
    sub->connect(srv.port, "/sse?topic=chat");
    ASSERT_TRUE(sub->wait_status(srv.ioc));

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "publish"}, {"topic", "chat"}, {"data", "hi"}, {"id", 1}});
    ws->send_json({{"type", "publish"}, {"topic", "readonly.x"}, {"data", "no"}, {"id", 2}});
    ws->send_json({{"type", "publish"}, {"topic", "boom"}, {"data", "no"}, {"id", 3}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 3));
    EXPECT_EQ((*ws->find_reply(1))["type"], "ack");
    EXPECT_EQ((*ws->find_reply(2))["code"], "rejected");
    EXPECT_EQ((*ws->find_reply(3))["code"], "internal_error");

    auto res = fetch(srv.ioc, srv.port, "POST", "/publish?topic=chat", R"("there")");
    EXPECT_EQ(res.status, 200);
    res = fetch(srv.ioc, srv.port, "POST", "/publish?topic=readonly.y", "1");
    EXPECT_EQ(res.status, 403);
    EXPECT_EQ(res.json()["error"]["code"], "rejected");

    ASSERT_TRUE(sub->wait_messages(srv.ioc, 2));
    EXPECT_EQ(sub->messages()[0]["data"], (json{{"wrapped", "hi"}, {"via", "websocket"}}));
    EXPECT_EQ(sub->messages()[1]["data"], (json{{"wrapped", "there"}, {"via", "http"}}));
    ws->close();
    sub->close();
}

// The hook reads the client's bytes as they are, parses them only when asked, and what it puts in their place
// (text kept byte for byte, or a value serialized once) is what subscribers get, checked like a client's data.
TEST(hooks, publish_hook_reads_the_text_and_replaces_it_by_text_or_value)
{
    live_server srv;
    std::vector<std::string> seen;
    std::string const wrapper = "{\"from\": \"hook\",\n \"body\": ";  // a line feed, kept too
    (*srv).hooks().on_publish = [&](publish_request& req) -> boost::system::error_code {
        seen.emplace_back(req.data());
        if (req.topic == "text")
            req.replace_data_text(wrapper + std::string(req.data()) + "}");
        else if (req.topic == "value")
            req.replace_data({{"n", req.data_json()["n"]}, {"big", req.data_json()["big"]}});
        else if (req.topic == "broken")
            req.replace_data_text("{oops");
        else if (req.topic == "cr")
            req.replace_data_text("[1,\r2]");
        else if (req.topic == "twice") {
            req.replace_data(json{{"first", true}});
            EXPECT_EQ(req.data(), R"({"first":true})");
            EXPECT_EQ(req.data_json()["first"], true);
            req.replace_data_text("[ 2 ]");
            EXPECT_EQ(req.data_json(), json::array({2}));  // parsed again after a change
        }
        return {};
    };
    srv.start();
    auto sub = ws_client::create(srv.ioc);
    sub->connect(srv.port);
    for (std::string topic : {"keep", "text", "value", "broken", "cr", "twice"})
        sub->send_json({{"type", "subscribe"}, {"topic", topic}, {"id", topic}});
    ASSERT_TRUE(sub->wait_reply(srv.ioc, "twice"));

    std::string const body = R"({"n": 1.10, "big": 12345678901234567890123})";
    auto publish = [&](std::string const& topic) {
        return fetch(srv.ioc, srv.port, "POST", "/publish?topic=" + topic, body);
    };
    EXPECT_EQ(publish("keep").status, 200);
    EXPECT_EQ(publish("text").status, 200);
    EXPECT_EQ(publish("value").status, 200);
    auto const broken = publish("broken");
    EXPECT_EQ(broken.status, 400);
    EXPECT_EQ(broken.json()["error"]["code"], "invalid_json");
    EXPECT_EQ(publish("cr").json()["error"]["code"], "invalid_json");
    EXPECT_EQ(publish("twice").status, 200);
    // Over WebSocket the hook sees the data member's text, not the command's.
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_text(R"({"type":"publish","topic":"keep","data": )" + body + R"( ,"id":1})");
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 1));

    ASSERT_TRUE(sub->wait_messages(srv.ioc, 5));
    std::vector<std::string> got;
    for (auto const& text : sub->texts())
        if (text.starts_with(R"({"type":"message")"))
            got.push_back(text.substr(text.find(R"(,"data":)") + 8));
    EXPECT_EQ(got, (std::vector<std::string>{
                       body + "}",
                       wrapper + body + "}}",
                       R"({"big":1.2345678901234568e+22,"n":1.1})" + std::string("}"),  // a value is written by nlohmann
                       "[ 2 ]}",
                       body + "}",
                   }));
    EXPECT_EQ(seen, std::vector<std::string>(7, body));
    ws->close();
    sub->close();
}

TEST(hooks, connect_subscribe_and_disconnect_hooks)
{
    live_server srv;
    std::vector<std::string> events;
    auto& h = (*srv).hooks();
    h.on_connect = [&](channel& ch) -> boost::system::error_code {
        events.push_back("connect " + std::string(ch.transport()));
        return {};
    };
    h.on_subscribe = [&](channel&, std::string const& topic) -> boost::system::error_code {
        if (topic.starts_with("secret"))
            return error::rejected;
        events.push_back("subscribe " + topic);
        return {};
    };
    h.on_unsubscribe = [&](channel&, std::string const& topic) { events.push_back("unsubscribe " + topic); };
    h.on_disconnect = [&](channel& ch, disconnect const& why) {
        events.push_back("disconnect " + std::string(ch.transport()) + " " + std::to_string(why.code));
    };
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "secret.plans"}, {"id", 1}});
    ASSERT_TRUE(ws->subscribe(srv.ioc, "public", 2));
    EXPECT_EQ((*ws->find_reply(1))["code"], "rejected");
    EXPECT_EQ((*ws->find_reply(2))["type"], "ack");
    EXPECT_TRUE(ws->is_open());

    auto refused = fetch(srv.ioc, srv.port, "GET", "/sse?topic=secret.x");
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.json()["error"]["code"], "rejected");

    ws->close(1000);
    ASSERT_TRUE(srv.run_until([&] { return !events.empty() && events.back().starts_with("disconnect websocket"); }));
    EXPECT_EQ(events.front(), "connect websocket");
    EXPECT_NE(std::find(events.begin(), events.end(), "subscribe public"), events.end());
    EXPECT_NE(std::find(events.begin(), events.end(), "unsubscribe public"), events.end());
    EXPECT_EQ(events.back(), "disconnect websocket 1000");
}

TEST(hooks, a_refused_connection_is_told_why)
{
    live_server srv;
    (*srv).hooks().on_connect = [](channel&) -> boost::system::error_code { return error::rejected; };
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->wait_closed(srv.ioc));
    EXPECT_EQ(ws->close_code(), 4500);
    auto res = fetch(srv.ioc, srv.port, "GET", "/poll?topic=a");
    EXPECT_EQ(res.status, 403);
}

TEST(hooks, service_routes_share_the_port)
{
    live_server srv;
    (*srv).route("/api/hello", [](http_request const& req) {
        http_response res{boost::beast::http::status::ok, req.version()};
        res.set(boost::beast::http::field::content_type, "text/plain");
        res.body() = "hello from the service";
        return res;
    });
    (*srv).route("/api/chunked", [](http_request const& req) {
        http_response res{boost::beast::http::status::ok, req.version()};
        res.chunked(true);
        res.body() = "a body the service asked to send in chunks";
        return res;
    });
    EXPECT_THROW((*srv).route("/ws", [](http_request const&) { return http_response{}; }), std::invalid_argument);
    srv.start();
    auto res = fetch(srv.ioc, srv.port, "GET", "/api/hello");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "hello from the service");
    res = fetch(srv.ioc, srv.port, "GET", "/api/chunked");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "a body the service asked to send in chunks");
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    EXPECT_TRUE(ws->wait_open(srv.ioc));
    ws->close();
}

}  // namespace
}  // namespace switchboard::test
