// Application close codes: an application closes a channel it holds with its own {code, reason}, in the
// "reconnect" range (3000-3499) or the "terminal" one (3500-3999), and every transport tells the client both:
// the WebSocket close frame, the SSE close event, the long poll's "close" field.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A server whose application keeps every channel it accepted (as one that bans users would), and records
// the reasons its on_disconnect hook is told.
struct holding_server {
    live_server srv;
    std::vector<std::weak_ptr<channel>> held;
    std::vector<disconnect> told;

    explicit holding_server(server_options options = {}) : srv(std::move(options))
    {
        srv->hooks().on_connect = [this](channel& ch) -> boost::system::error_code {
            held.push_back(ch.weak_from_this());
            return {};
        };
        srv->hooks().on_disconnect = [this](channel&, disconnect const& why) { told.push_back(why); };
        srv.start();
    }

    std::size_t open_channels() const
    {
        std::size_t n = 0;
        for (auto const& w : held)
            if (auto ch = w.lock(); ch && !ch->closing())
                ++n;
        return n;
    }

    /// Closes every channel still open with `why`, as the application would on the loop thread.
    std::size_t close_all(disconnect const& why)
    {
        std::size_t n = 0;
        for (auto const& w : held)
            if (auto ch = w.lock(); ch && !ch->closing()) {
                ch->close(why);
                ++n;
            }
        return n;
    }

    bool was_told(disconnect const& why) const
    {
        for (auto const& d : told)
            if (d.code == why.code && d.reason == why.reason)
                return true;
        return false;
    }
};

TEST(close_codes, helpers_keep_each_code_in_its_range)
{
    EXPECT_EQ(disconnect::reconnect(3000, "a").code, 3000);
    EXPECT_EQ(disconnect::reconnect(3499, "b").reason, "b");
    EXPECT_EQ(disconnect::terminal(3500, "c").code, 3500);
    EXPECT_EQ(disconnect::terminal(3999, "d").code, 3999);
    for (std::uint16_t code : {0, 1000, 2999, 3500, 3999, 4000, 4500})
        EXPECT_THROW(disconnect::reconnect(code, "x"), std::invalid_argument) << code;
    for (std::uint16_t code : {0, 1000, 2999, 3000, 3499, 4000, 4500})
        EXPECT_THROW(disconnect::terminal(code, "x"), std::invalid_argument) << code;

    EXPECT_FALSE(disconnect::reconnect(3499, "").terminal());
    EXPECT_TRUE(disconnect::terminal(3500, "").terminal());
    EXPECT_TRUE(disconnect::rejected().terminal());
    EXPECT_FALSE(disconnect::by_operator().terminal());
    EXPECT_FALSE(disconnect::shutdown().terminal());
    EXPECT_TRUE(disconnect::reconnect(3000, "").from_application());
    EXPECT_FALSE(disconnect::rejected().from_application());
}

TEST(close_codes, websocket_close_frame_carries_the_application_code)
{
    for (auto const& why : {disconnect::reconnect(3000, "moved to another node"), disconnect::terminal(3501, "banned")}) {
        holding_server s;
        auto ws = ws_client::create(s.srv.ioc);
        ws->connect(s.srv.port);
        ASSERT_TRUE(ws->subscribe(s.srv.ioc, "room", 1));
        ASSERT_EQ(s.close_all(why), 1u);
        ASSERT_TRUE(ws->wait_closed(s.srv.ioc));
        EXPECT_EQ(ws->close_code(), why.code);
        EXPECT_EQ(ws->close_reason(), why.reason);
        EXPECT_TRUE(s.was_told(why)) << why.code;
    }
}

// A client that never answers the close (no close frame back, its end left open) is let go once the
// close timeout passes: what the server holds for a client after closing it is bounded in time too. The channel
// waits for the client's end under a timer of its own (push_channel's linger), which nothing else replaces.
TEST(close_codes, a_websocket_that_never_answers_the_close_is_let_go_after_the_close_timeout)
{
    server_options options;
    options.close_timeout = 300ms;
    holding_server s(options);
    raw_connection client(s.srv.ioc, s.srv.port);
    client.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    ASSERT_TRUE(client.wait_for("\r\n\r\n")) << client.received();
    ASSERT_EQ(client.received().rfind("HTTP/1.1 101", 0), 0u) << client.received();
    ASSERT_TRUE(s.srv.run_until([&] { return s.open_channels() == 1; }));

    ASSERT_EQ(s.close_all(disconnect::reconnect(3000, "bye")), 1u);
    // The client sends nothing from here on (no close frame back) and keeps its socket open.
    EXPECT_TRUE(s.srv.run_until([&] { return s.held.front().expired(); }, 10s))
        << "the closed channel still waits for a client that never answers";
    // The one left is the connection the metrics request came on.
    EXPECT_EQ(metric(s.srv.ioc, s.srv.port, "switchboard_client_sockets").value_or(0), 1u);
}

TEST(close_codes, sse_stream_ends_with_a_close_event_holding_the_application_code)
{
    for (auto const& why : {disconnect::reconnect(3001, "maintenance"), disconnect::terminal(3502, "account closed")}) {
        holding_server s;
        auto sse = sse_client::create(s.srv.ioc);
        sse->connect(s.srv.port, "/sse?topic=room");
        ASSERT_TRUE(s.srv.run_until([&] { return sse->find_event("subscribed").has_value(); }));
        ASSERT_EQ(s.close_all(why), 1u);
        ASSERT_TRUE(sse->wait_ended(s.srv.ioc));
        auto close = sse->find_event("close");
        ASSERT_TRUE(close);
        auto const body = json::parse(close->data);
        EXPECT_EQ(body["code"], why.code);
        EXPECT_EQ(body["reason"], why.reason);
        EXPECT_TRUE(s.was_told(why)) << why.code;
    }
}

// A poll that waits is answered at once, with the code in a "close" field beside its messages and cursor.
TEST(close_codes, long_poll_answers_with_a_close_field)
{
    for (auto const& why : {disconnect::reconnect(3002, "rebalance"), disconnect::terminal(3503, "kicked")}) {
        holding_server s;
        std::optional<http_result> answer;
        request(s.srv.ioc, s.srv.port, "GET", "/poll?topic=room", {}, {},
                [&](http_result r) { answer = std::move(r); });
        // Held: subscribed and waiting for a message.
        ASSERT_TRUE(s.srv.run_until([&] { return s.srv->stats().long_polling == 1 && s.srv->stats().topics == 1; }));
        ASSERT_EQ(s.close_all(why), 1u);
        ASSERT_TRUE(s.srv.run_until([&] { return answer.has_value(); }));
        ASSERT_EQ(answer->status, 200) << answer->body;
        auto const body = answer->json();
        EXPECT_TRUE(body["messages"].is_array());
        EXPECT_TRUE(body["cursor"].is_string());
        EXPECT_EQ(body["close"]["code"], why.code);
        EXPECT_EQ(body["close"]["reason"], why.reason);
        EXPECT_TRUE(s.was_told(why)) << why.code;
    }
}

// The application may close a channel from a hook, before its stream or poll has begun: the code still
// reaches the client, as a stream with only the close event or a poll answer with the close field.
TEST(close_codes, a_close_from_the_subscribe_hook_reaches_sse_and_long_polling)
{
    live_server srv;
    auto const why = disconnect::terminal(3504, "not in this room");
    srv->hooks().on_subscribe = [&](channel& ch, std::string const&) -> boost::system::error_code {
        ch.close(why);
        return {};
    };
    srv.start();

    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=room");
    ASSERT_TRUE(sse->wait_ended(srv.ioc));
    EXPECT_EQ(sse->status(), 200);
    auto close = sse->find_event("close");
    ASSERT_TRUE(close);
    EXPECT_EQ(json::parse(close->data)["code"], why.code);

    auto res = fetch(srv.ioc, srv.port, "GET", "/poll?topic=room");
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(res.json()["close"]["code"], why.code);
    EXPECT_EQ(res.json()["close"]["reason"], why.reason);
    EXPECT_TRUE(srv.run_until([&] { return srv->stats().sse == 0 && srv->stats().long_polling == 0; }));
}

// A third-party client, Python's websockets, reads the code and reason of the close frame.
TEST(close_codes, python_websockets_reads_the_application_code)
{
    holding_server s;
    std::string const script = R"(
import asyncio, sys, websockets

async def main():
    async with websockets.connect('ws://127.0.0.1:' + sys.argv[1] + '/ws') as ws:
        await ws.send('{"type":"subscribe","topic":"room","id":1}')
        await ws.recv()
        print('subscribed', flush=True)
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as e:
            print('closed', e.rcvd.code, e.rcvd.reason, flush=True)

asyncio.run(asyncio.wait_for(main(), 30))
)";
    // Debian's python3-websockets is for /usr/bin/python3, not another python3 earlier on the PATH.
    server_process python("/usr/bin/python3", {"-c", script, std::to_string(s.srv.port)});
    ASSERT_TRUE(s.srv.run_until([&] {
        return python.output().find("subscribed") != std::string::npos || python.exit_status().has_value();
    }, 40s)) << python.output();
    ASSERT_EQ(s.close_all(disconnect::terminal(3999, "go away")), 1u);
    ASSERT_TRUE(s.srv.run_until([&] { return python.exit_status().has_value(); }, 40s)) << python.output();
    EXPECT_EQ(*python.exit_status(), 0) << python.output();
    EXPECT_EQ(python.output(), "subscribed\nclosed 3999 go away\n");
}

}  // namespace
}  // namespace switchboard::test
