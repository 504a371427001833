// The bundled server, as a process: SIGTERM closes WebSockets with 1001, ends SSE streams with a close event,
// answers pending polls, and exits 0.

#include "support/http_client.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace switchboard::test {
namespace {

TEST(graceful_stop, sigterm_closes_every_transport_and_exits_zero)
{
    // Debug logging names every channel that opens, which tells the test when its poll is held.
    server_process server(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0", "--log-level", "debug"});
    ASSERT_TRUE(server.wait_for_output("listening on 127.0.0.1:", std::chrono::seconds(20))) << server.output();
    auto const listening = server.port();
    ASSERT_TRUE(listening.has_value());
    std::uint16_t const port = *listening;

    boost::asio::io_context ioc;
    auto ws = ws_client::create(ioc);
    ws->connect(port);
    ASSERT_TRUE(ws->subscribe(ioc, "demo", 1));
    auto sse = sse_client::create(ioc);
    sse->connect(port, "/sse?topic=demo");
    ASSERT_TRUE(sse->wait_status(ioc));
    ASSERT_TRUE(sse->wait_events(ioc, 1));  // the "subscribed" event: the stream is live

    std::optional<http_result> poll;
    request(ioc, port, "GET", "/poll?topic=demo", "", {}, [&](http_result r) { poll = std::move(r); });
    // The demo page is served at / on the same port.
    auto page = fetch(ioc, port, "GET", "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("EventSource"), std::string::npos);
    // Let the poll reach the server before the signal: a published message proves it is held (it answers).
    auto pub = fetch(ioc, port, "POST", "/publish?topic=demo", R"({"before":"stop"})");
    ASSERT_EQ(pub.status, 200);
    ASSERT_TRUE(run_until(ioc, [&] { return poll.has_value(); }, std::chrono::seconds(10)));
    EXPECT_EQ(poll->status, 200);
    std::string const cursor = poll->json()["cursor"];
    poll.reset();
    request(ioc, port, "GET", "/poll?topic=demo&cursor=" + cursor, "", {}, [&](http_result r) { poll = std::move(r); });
    auto const held = [&] {
        auto const out = server.output();
        std::size_t n = 0;
        for (auto at = out.find("long-polling from"); at != std::string::npos; at = out.find("long-polling from", at + 1))
            ++n;
        return n >= 2;
    };
    ASSERT_TRUE(run_until(ioc, held, std::chrono::seconds(10))) << server.output();

    server.signal(SIGTERM);
    ASSERT_TRUE(ws->wait_closed(ioc, std::chrono::seconds(10)));
    EXPECT_EQ(ws->close_code(), 1001);
    ASSERT_TRUE(sse->wait_ended(ioc, std::chrono::seconds(10)));
    auto close_event = sse->find_event("close");
    ASSERT_TRUE(close_event);
    EXPECT_EQ(nlohmann::json::parse(close_event->data)["code"], 1001);
    ASSERT_TRUE(run_until(ioc, [&] { return poll.has_value(); }, std::chrono::seconds(10)));
    EXPECT_EQ(poll->status, 200) << poll->body;
    EXPECT_TRUE(poll->json()["messages"].empty());

    auto const status = server.wait_exit(std::chrono::seconds(15));
    ASSERT_TRUE(status.has_value()) << server.output();
    EXPECT_EQ(*status, 0) << server.output();
}

}  // namespace
}  // namespace switchboard::test
