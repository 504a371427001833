// Bad input gets a clear error (an error frame or a 4xx JSON body) and harms no one: the offending WebSocket
// stays usable and every other client keeps receiving.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

namespace switchboard::test {
namespace {

using nlohmann::json;

class bad_input : public ::testing::Test {
protected:
    void SetUp() override
    {
        server_options options;
        options.max_message_size = 1024;
        options.max_subscriptions = 8;
        srv = std::make_unique<live_server>(options);
        srv->start();
        watcher = sse_client::create(srv->ioc);
        watcher->connect(srv->port, "/sse?topic=watch");
        ASSERT_TRUE(watcher->wait_status(srv->ioc));
    }

    void TearDown() override
    {
        // Everyone else is still served.
        auto res = fetch(srv->ioc, srv->port, "POST", "/publish?topic=watch", R"("still here")");
        EXPECT_EQ(res.status, 200);
        EXPECT_TRUE(watcher->wait_messages(srv->ioc, 1));
        watcher->close();
        watcher.reset();  // before its io_context: its stream's timer belongs to that loop
        srv.reset();
    }

    /// Sends a raw text frame and returns the error frame it got.
    json ws_error_for(std::shared_ptr<ws_client> const& ws, std::string const& frame)
    {
        std::size_t const before = ws->received().size();
        ws->send_text(frame);
        EXPECT_TRUE(ws->wait_received(srv->ioc, before + 1));
        return ws->received().size() > before ? ws->received()[before] : json{};
    }

    void expect_http_error(http_result const& res, int status, std::string const& code)
    {
        EXPECT_EQ(res.status, status) << res.body;
        auto const body = res.json();
        ASSERT_TRUE(body.is_object()) << res.body;
        EXPECT_EQ(body["error"]["code"], code) << res.body;
        EXPECT_TRUE(body["error"]["message"].is_string());
        EXPECT_EQ(res.header("Content-Type").value_or(""), "application/json");
    }

    std::unique_ptr<live_server> srv;
    std::shared_ptr<sse_client> watcher;
};

TEST_F(bad_input, websocket_commands_get_error_frames_and_the_connection_survives)
{
    auto ws = ws_client::create(srv->ioc);
    ws->connect(srv->port);
    ASSERT_TRUE(ws->wait_open(srv->ioc));

    struct case_ {
        std::string frame;
        std::string code;
    } const cases[] = {
        {"{not json", "invalid_json"},
        {"[1,2,3]", "invalid_json"},
        {R"({"type":"dance","id":7})", "unknown_type"},
        {R"({"topic":"a"})", "missing_field"},
        {R"({"type":5})", "missing_field"},
        {R"({"type":"subscribe"})", "missing_field"},
        {R"({"type":"subscribe","topic":42})", "missing_field"},
        {R"({"type":"publish","topic":"a"})", "missing_field"},
        {R"({"type":"subscribe","topic":"bad topic"})", "invalid_topic"},
        {R"({"type":"subscribe","topic":""})", "invalid_topic"},
        {R"({"type":"publish","topic":"x/)" + std::string(200, 'a') + R"(","data":1})", "invalid_topic"},
        {R"({"type":"publish","topic":"a","data":")" + std::string(2000, 'a') + R"("})", "message_too_large"},
        {std::string(80, '[') + std::string(80, ']'), "invalid_json"},
    };
    for (auto const& c : cases) {
        auto const err = ws_error_for(ws, c.frame);
        EXPECT_EQ(err["type"], "error") << c.frame;
        EXPECT_EQ(err["code"], c.code) << c.frame.substr(0, 80);
        EXPECT_TRUE(err["message"].is_string());
    }
    // The id is echoed when the command had one.
    auto const err = ws_error_for(ws, R"({"type":"subscribe","topic":"no way","id":"x1"})");
    EXPECT_EQ(err["id"], "x1");

    std::size_t const before = ws->received().size();
    ws->send_binary("\x01\x02");  // not a binary publish: no command, no line feed
    ASSERT_TRUE(ws->wait_received(srv->ioc, before + 1));
    EXPECT_EQ(ws->received()[before]["code"], "invalid_json");

    // Still a working connection.
    auto ack = ws->subscribe(srv->ioc, "watch", "ok");
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["type"], "ack");
    EXPECT_TRUE(ws->is_open());
    ws->close();
}

TEST_F(bad_input, http_errors_are_json_with_the_right_status)
{
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/nowhere"), 404, "not_found");
    auto wrong = fetch(srv->ioc, srv->port, "DELETE", "/publish?topic=a");
    expect_http_error(wrong, 405, "method_not_allowed");
    EXPECT_EQ(wrong.header("Allow").value_or(""), "POST");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/publish?topic=a"), 405, "method_not_allowed");
    expect_http_error(fetch(srv->ioc, srv->port, "POST", "/publish?topic=a", "{oops"), 400, "invalid_json");
    expect_http_error(fetch(srv->ioc, srv->port, "POST", "/publish", "1"), 400, "missing_field");
    expect_http_error(fetch(srv->ioc, srv->port, "POST", "/publish?topic=a%20b", "1"), 400, "invalid_topic");
    expect_http_error(fetch(srv->ioc, srv->port, "POST", "/publish?topic=a%zz", "1"), 400, "bad_request");
    expect_http_error(fetch(srv->ioc, srv->port, "POST", "/publish?topic=a", "\"" + std::string(5000, 'x') + "\""),
                      413, "message_too_large");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/sse"), 400, "missing_field");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/sse?topic=bad*topic"), 400, "invalid_topic");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/sse?topic=a&since=garbage"), 400, "invalid_cursor");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/sse?topic=a", "", {{"Last-Event-ID", "1.x.!"}}), 400,
                      "invalid_cursor");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/poll?topic=a&cursor=zz"), 400, "invalid_cursor");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/poll"), 400, "missing_field");
    expect_http_error(fetch(srv->ioc, srv->port, "POST", "/poll?topic=a"), 405, "method_not_allowed");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/ws"), 400, "bad_request");
    std::string many = "/poll?";
    for (int i = 0; i < 200; ++i)
        many += "topic=t" + std::to_string(i) + "&";
    expect_http_error(fetch(srv->ioc, srv->port, "GET", many), 400, "bad_request");  // more parameters than allowed
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/x", "", {{"X-Big", std::string(10000, 'h')}}), 431,
                      "headers_too_large");
}

TEST_F(bad_input, too_many_topics_are_refused_on_every_transport)
{
    std::string topics;
    for (int i = 0; i < 9; ++i)
        topics += "topic=t" + std::to_string(i) + "&";
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/sse?" + topics), 400, "too_many_topics");
    expect_http_error(fetch(srv->ioc, srv->port, "GET", "/poll?" + topics), 400, "too_many_topics");

    auto ws = ws_client::create(srv->ioc);
    ws->connect(srv->port);
    for (int i = 0; i < 9; ++i)
        ws->send_json({{"type", "subscribe"}, {"topic", "t" + std::to_string(i)}, {"id", i}});
    auto const refused = ws->wait_reply(srv->ioc, 8);
    ASSERT_TRUE(refused);
    EXPECT_EQ((*refused)["code"], "too_many_topics");
    EXPECT_EQ((*ws->find_reply(7))["type"], "ack");
    ws->close();
}

}  // namespace
}  // namespace switchboard::test
