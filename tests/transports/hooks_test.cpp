// The embedding API: the service's own routes beside switchboard's, and hooks that accept, transform or
// reject what clients do.

#include "live_server.hpp"
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
        req.data = {{"wrapped", req.data}, {"via", req.origin ? std::string(req.origin->transport()) : "http"}};
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
    ws->send_json({{"type", "subscribe"}, {"topic", "public"}, {"id", 2}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 2));
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
