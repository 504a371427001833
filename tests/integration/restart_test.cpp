// Across a restart of the in-memory backend history is gone, and every transport says so: a client that
// resumes with its old position is told recovered:false (WebSocket ack, SSE "subscribed" event, poll answer).

#include "support/http_client.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace switchboard::test {
namespace {

using nlohmann::json;

std::uint16_t start(server_process& p)
{
    auto const port = p.wait_for_port(std::chrono::seconds(20));
    EXPECT_TRUE(port.has_value()) << p.output();
    return port.value_or(0);
}

TEST(restart, resuming_after_a_restart_is_not_recovered)
{
    boost::asio::io_context ioc;
    json ack;
    std::string sse_id, poll_cursor;
    {
        server_process first(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0"});
        auto const port = start(first);
        ASSERT_NE(port, 0);
        auto ws = ws_client::create(ioc);
        ws->connect(port);
        ws->send_json({{"type", "subscribe"}, {"topic", "news"}, {"id", 1}});
        auto sse = sse_client::create(ioc);
        sse->connect(port, "/sse?topic=news");
        ASSERT_TRUE(sse->wait_status(ioc));
        ASSERT_TRUE(ws->wait_reply(ioc, 1));
        for (int i = 0; i < 3; ++i)
            ASSERT_EQ(fetch(ioc, port, "POST", "/publish?topic=news", std::to_string(i)).status, 200);
        ASSERT_TRUE(ws->wait_messages(ioc, 3));
        ASSERT_TRUE(sse->wait_messages(ioc, 3));
        ack = *ws->find_reply(1);
        sse_id = sse->last_event_id();
        auto poll = fetch(ioc, port, "GET", "/poll?topic=news&cursor=0..news");
        ASSERT_EQ(poll.status, 200);
        poll_cursor = poll.json()["cursor"];

        first.signal(SIGTERM);
        ASSERT_TRUE(ws->wait_closed(ioc));
        EXPECT_EQ(ws->close_code(), 1001);
        ASSERT_TRUE(sse->wait_ended(ioc));
        ASSERT_EQ(first.wait_exit(std::chrono::seconds(15)), 0);
    }

    server_process second(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0"});
    auto const port = start(second);
    ASSERT_NE(port, 0);
    ASSERT_EQ(fetch(ioc, port, "POST", "/publish?topic=news", R"("after restart")").status, 200);

    auto ws = ws_client::create(ioc);
    ws->connect(port);
    ws->send_json({{"type", "subscribe"}, {"topic", "news"}, {"id", 2}, {"since", {{"offset", ack["offset"]}, {"epoch", ack["epoch"]}}}});
    auto resumed = ws->wait_reply(ioc, 2);
    ASSERT_TRUE(resumed);
    EXPECT_EQ((*resumed)["recovered"], false);
    EXPECT_NE((*resumed)["epoch"], ack["epoch"]);

    auto sse = sse_client::create(ioc);
    sse->connect(port, "/sse?topic=news", {{"Last-Event-ID", sse_id}});
    ASSERT_TRUE(sse->wait_events(ioc, 1));
    auto const subscribed = sse->find_event("subscribed");
    ASSERT_TRUE(subscribed);
    EXPECT_EQ(json::parse(subscribed->data)["recovered"], false);

    auto poll = fetch(ioc, port, "GET", "/poll?topic=news&cursor=" + poll_cursor);
    ASSERT_EQ(poll.status, 200);
    EXPECT_EQ(poll.json()["recovered"], false);
    // The answer's cursor is in the new epoch, so the next poll continues from there.
    auto next = fetch(ioc, port, "GET", "/poll?topic=news&cursor=0..news");
    EXPECT_EQ(next.json()["messages"].size(), 1u);

    // Close on the client side first, running our loop: wait_exit() below does not drive the clients.
    ws->close();
    EXPECT_TRUE(ws->wait_closed(ioc));
    sse->close();
    second.signal(SIGTERM);
    EXPECT_EQ(second.wait_exit(std::chrono::seconds(15)), 0);
}

}  // namespace
}  // namespace switchboard::test
