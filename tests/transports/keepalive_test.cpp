// The keepalive timer ticks the streams of the server's registry (write_path/keepalive.hpp), the loop's one list of
// its channels: a stream is ticked only once it has started, whatever happens while it is registered and still
// subscribing, and streams that close within a tick leave the others' ticks whole.

#include "support/live_server.hpp"
#include "support/raw_connection.hpp"
#include "support/sse_client.hpp"

#include <switchboard/hooks.hpp>

#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Ticks of 100 ms (a quarter of the shortest interval): a heartbeat every 4 ticks, a silent WebSocket closed
// after 8.
server_options ticks_of_100ms()
{
    server_options options;
    options.sse_heartbeat = 400ms;
    options.ws_ping_interval = 400ms;
    options.ws_pong_timeout = 400ms;
    return options;
}

// An SSE stream is registered as its request arrives, then waits for its topics' authorization. A heartbeat
// owed meanwhile would go ahead of its response head: a stream that has not started is not ticked, though the
// timer runs for another one.
TEST(keepalive, a_stream_whose_subscription_is_decided_late_gets_its_head_before_any_heartbeat)
{
    live_server srv(ticks_of_100ms());
    // "late" is decided after 8 ticks: two heartbeats' worth of waiting. Any other topic at once.
    (*srv).hooks().authorize = [&ioc = srv.ioc](authorize_request const& r, decision_handler done) {
        if (r.topic != "late")
            return done({});
        auto later = std::make_shared<asio::steady_timer>(ioc, 800ms);
        later->async_wait([later, done = std::move(done)](boost::system::error_code) { done({}); });
    };
    srv.start();
    auto ticked = sse_client::create(srv.ioc);
    ticked->connect(srv.port, "/sse?topic=now");
    ASSERT_TRUE(ticked->wait_events(srv.ioc, 1));
    raw_connection client(srv.ioc, srv.port);
    client.send("GET /sse?topic=late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    ASSERT_TRUE(client.wait_for([](std::string const& got) { return got.find("\r\n\r\n") != std::string::npos; },
                                10s));
    EXPECT_EQ(client.received().rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << client.received().substr(0, 64);

    // Started: its heartbeats come now.
    auto const head_and_retry = client.received().size();
    ASSERT_TRUE(client.wait_for(
        [&](std::string const& got) { return got.find(":\n\n", head_and_retry) != std::string::npos; }, 10s));
}

// 20 WebSockets that never answer a ping are closed by their ticks (no_pong), most by the same one, each leaving
// the registry the tick walks; the SSE streams beside them keep their heartbeats, and every closed one is gone
// from the registry.
TEST(keepalive, websockets_closed_by_their_ticks_leave_the_other_streams_ticked)
{
    live_server srv(ticks_of_100ms());
    srv.start();
    std::vector<std::shared_ptr<sse_client>> streams;
    for (int i = 0; i < 5; ++i) {
        streams.push_back(sse_client::create(srv.ioc));
        streams.back()->connect(srv.port, "/sse?topic=beside");
    }
    std::vector<std::unique_ptr<raw_connection>> silent;
    for (int i = 0; i < 20; ++i) {
        silent.push_back(std::make_unique<raw_connection>(srv.ioc, srv.port));
        silent.back()->send("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    }
    for (auto& s : streams)
        ASSERT_TRUE(s->wait_events(srv.ioc, 1));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().websocket == 20; }, 10s));

    ASSERT_TRUE(srv.run_until([&] { return srv.stats().websocket == 0; }, 10s));
    for (auto& c : silent)
        EXPECT_TRUE(c->wait_closed(10s));
    std::vector<std::size_t> comments;
    for (auto& s : streams)
        comments.push_back(s->comments());
    for (std::size_t i = 0; i < streams.size(); ++i)
        ASSERT_TRUE(srv.run_until([&] { return streams[i]->comments() >= comments[i] + 2; }, 10s));
    EXPECT_EQ(srv.stats().sse, streams.size());
}

}  // namespace
}  // namespace switchboard::test
