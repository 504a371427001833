// Quiet streams park: after two keepalive ticks without input, a plain WebSocket or SSE connection's socket
// leaves Asio for the loop's idle watch (core/idle_watch.hpp), and nothing a client sees may change. An SSE
// stream, whose client sends nothing, parks as soon as its output is out, and so does a WebSocket that has sent
// only a few messages.
// Messages and heartbeats still go out (a send needs no wait), input and pongs still arrive, a departure is
// still seen at once, a reader that stops is still cut off at its bounds, and a stop still closes them all.
// A long poll waiting that long parks its socket too (http_connection's departure watch): its answer, a
// pipelined request behind it, its client's departure and a stop are served as before.

#include "support/count_of.hpp"
#include "support/curl.hpp"
#include "support/jwt_maker.hpp"
#include "support/live_server.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

// Ticks of 25-100 ms (the keepalive period is a quarter of the shortest interval): a stream parks within 200 ms.
server_options quick_ticks()
{
    server_options options;
    options.sse_heartbeat = std::chrono::milliseconds(400);
    options.ws_ping_interval = std::chrono::milliseconds(400);
    options.ws_pong_timeout = std::chrono::milliseconds(400);
    return options;
}

TEST(parked_streams, a_quiet_sse_stream_parks_and_still_gets_every_message_its_heartbeats_and_its_end)
{
    live_server srv(quick_ticks(), 1);
    srv.start();
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=quiet");
    ASSERT_TRUE(sse->wait_events(srv.ioc, 1));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 1; }, std::chrono::seconds(10)));

    // Byte for byte while parked: a send goes to the descriptor, not through Asio, and does not unpark.
    std::vector<std::string> const payloads = {R"({"n":123456789012345678901234567890})", R"([1, 2.50, "x"])",
                                               R"("three")"};
    for (auto const& p : payloads)
        (*srv).publish_text("quiet", p);
    ASSERT_TRUE(sse->wait_messages(srv.ioc, payloads.size()));
    std::vector<std::string> envelopes;
    for (auto const& e : sse->events())
        if (e.type == "message")
            envelopes.push_back(e.data);
    ASSERT_EQ(envelopes.size(), payloads.size());
    for (std::size_t i = 0; i < payloads.size(); ++i)
        EXPECT_NE(envelopes[i].find("\"data\":" + payloads[i] + "}"), std::string::npos) << envelopes[i];
    auto const comments = sse->comments();
    ASSERT_TRUE(srv.run_until([&] { return sse->comments() >= comments + 2; }, std::chrono::seconds(10)));
    EXPECT_EQ(srv.stats().parked, 1u);

    // The client leaves: the watch sees its end, the stream closes, and its socket leaves the watch.
    sse->close();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().sse == 0 && srv.stats().parked == 0; },
                              std::chrono::seconds(10)));
}

// An EventSource sends nothing after its request: its stream parks as soon as its head is out, not two ticks
// later. A connect storm of streams then holds Asio's reactor entries only while each is set up. The streams
// park when their output has been sent, before their clients read it: every one is parked when its client has
// its first event, well within the two ticks (at least a second) after which a quiet stream parks anyway.
TEST(parked_streams, an_sse_stream_parks_as_soon_as_its_head_is_out)
{
    live_server srv;
    srv.start();
    constexpr std::size_t streams = 20;
    std::vector<std::shared_ptr<sse_client>> clients;
    for (std::size_t i = 0; i < streams; ++i) {
        clients.push_back(sse_client::create(srv.ioc));
        clients.back()->connect(srv.port, "/sse?topic=storm");
    }
    for (auto& c : clients)
        ASSERT_TRUE(c->wait_events(srv.ioc, 1));
    EXPECT_EQ(srv.stats().parked, streams);

    // Served byte for byte while parked, and still parked after it.
    std::string const payload = R"({"n":123456789012345678901234567890,"f":1.50})";
    (*srv).publish_text("storm", payload);
    for (auto& c : clients) {
        ASSERT_TRUE(c->wait_messages(srv.ioc, 1));
        EXPECT_NE(c->events().back().data.find("\"data\":" + payload + "}"), std::string::npos);
    }
    EXPECT_EQ(srv.stats().parked, streams);

    // Each client's end is seen at once.
    for (auto& c : clients)
        c->close();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().sse == 0 && srv.stats().parked == 0; },
                              std::chrono::seconds(10)));
}

// A WebSocket that has sent only its first few messages (its subscriptions) is taken for one that listens: it
// parks as soon as its output is out, as an SSE stream does, and a connect storm of subscribers holds Asio's
// reactor entries only while each is set up. One that keeps sending (a publisher) does not park at each flush,
// which would cost four epoll_ctl calls a read: only after two quiet ticks (at least a second), as before.
TEST(parked_streams, a_websocket_that_has_only_subscribed_parks_at_once_and_a_publishing_one_does_not)
{
    live_server srv;
    srv.start();
    constexpr std::size_t subscribers = 20;
    std::vector<std::shared_ptr<ws_client>> clients;
    for (std::size_t i = 0; i < subscribers; ++i) {
        clients.push_back(ws_client::create(srv.ioc));
        clients.back()->connect(srv.port);
        ASSERT_TRUE(clients.back()->subscribe(srv.ioc, "storm", 1));
    }
    // Each parked in the handler that sent its ack, before its client could read it.
    EXPECT_EQ(srv.stats().parked, subscribers);

    auto publisher = ws_client::create(srv.ioc);
    publisher->connect(srv.port);
    std::string const payload = R"({"n":123456789012345678901234567890,"f":1.50})";
    constexpr int publishes = 20;
    for (int i = 1; i <= publishes; ++i) {
        // As text: the test's JSON would read the big integer as a double.
        publisher->send_text(R"({"type":"publish","topic":"storm","id":)" + std::to_string(i) + R"(,"data":)" +
                             payload + "}");
        auto const ack = publisher->wait_reply(srv.ioc, i);
        ASSERT_TRUE(ack) << i;
        ASSERT_NE((*ack)["type"], "error") << ack->dump();
    }
    // Its last input came just now: were it parking at each flush, it would be parked here.
    EXPECT_EQ(srv.stats().parked, subscribers);
    for (auto& c : clients) {
        ASSERT_TRUE(c->wait_messages(srv.ioc, publishes));
        EXPECT_NE(c->texts().back().find("\"data\":" + payload + "}"), std::string::npos) << c->texts().back();
    }
    EXPECT_EQ(srv.stats().parked, subscribers);  // served while parked, and still parked

    for (auto& c : clients)
        c->close();
    publisher->close();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().websocket == 0 && srv.stats().parked == 0; },
                              std::chrono::seconds(10)));
}

// A WebSocket that has sent nothing yet is about to send its first command, right behind the 101: it does not
// park once the 101 is out, which would cost it a park and an unpark for that command. One the server subscribed
// (identity::topics) may never send anything: it parks once it has been told. The default ticks are seconds
// apart, so a stream parked right after its 101 was parked by its flush, not by its ticks.
TEST(parked_streams, a_websocket_waits_for_its_first_command_unparked_unless_the_server_subscribed_it)
{
    std::string const secret = "a-test-secret-of-32-characters!!";
    server_options options;
    options.security.jwt_secret = secret;
    live_server srv(options);
    srv.start();
    auto const token = [&](nlohmann::json topics) {
        nlohmann::json claims = {{"sub", "alice"}, {"exp", unix_time(std::chrono::hours(1))}};
        if (!topics.is_null())
            claims["topics"] = std::move(topics);
        return make_hs256(claims, secret);
    };

    auto client = ws_client::create(srv.ioc);
    client->connect(srv.port, "/ws?token=" + token(nullptr));
    ASSERT_TRUE(client->wait_open(srv.ioc)) << client->http_status();
    EXPECT_EQ(srv.stats().parked, 0u);
    ASSERT_TRUE(client->subscribe(srv.ioc, "storm", 1));
    EXPECT_EQ(srv.stats().parked, 1u);  // a listener from its first command on

    auto told = ws_client::create(srv.ioc);
    told->connect(srv.port, "/ws?token=" + token({"user:alice"}));
    ASSERT_TRUE(told->wait_received(srv.ioc, 1));
    EXPECT_EQ(told->received().front()["type"], "subscribed");
    EXPECT_EQ(srv.stats().parked, 2u);

    std::string const payload = R"({"n":123456789012345678901234567890})";
    (*srv).publish_text("user:alice", payload);
    ASSERT_TRUE(told->wait_messages(srv.ioc, 1));
    EXPECT_NE(told->texts().back().find("\"data\":" + payload + "}"), std::string::npos) << told->texts().back();
    client->close();
    told->close();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().websocket == 0 && srv.stats().parked == 0; },
                              std::chrono::seconds(10)));
}

// Publishes `payload` to `topic` once a connection has parked, while a third-party client (curl) runs the loop;
// with `then_stop`, stops the server after it (a stream ends from the server's side, curl's own deadline being
// only a guard).
class publish_once_parked {
public:
    publish_once_parked(live_server& srv, std::string topic, std::string payload, bool then_stop)
        : srv_(srv), timer_(srv.ioc), topic_(std::move(topic)), payload_(std::move(payload)), then_stop_(then_stop)
    {
        check();
    }

    bool published() const { return published_; }

private:
    void check()
    {
        if (srv_.stats().parked == 1) {
            published_ = true;
            (*srv_).publish_text(topic_, payload_);
            if (then_stop_)
                asio::post(srv_.ioc, [this] { (*srv_).stop(); });
            return;
        }
        timer_.expires_after(std::chrono::milliseconds(10));
        timer_.async_wait([this](boost::system::error_code ec) {
            if (!ec)
                check();
        });
    }

    live_server& srv_;
    asio::steady_timer timer_;
    std::string topic_;
    std::string payload_;
    bool then_stop_;
    bool published_ = false;
};

TEST(parked_streams, the_payload_of_a_parked_sse_stream_arrives_byte_for_byte_at_curl)
{
    live_server srv(quick_ticks(), 1);
    srv.start();
    std::string const payload = R"({"big":123456789012345678901234567890,"f":1.50})";
    publish_once_parked publisher(srv, "curl", payload, /*then_stop=*/true);
    auto const answer = curl(srv.ioc, url(srv, "/sse?topic=curl"), {"-sN"});
    ASSERT_TRUE(publisher.published()) << answer.output;
    EXPECT_NE(answer.body.find(payload), std::string::npos) << answer.body;
}

TEST(parked_streams, a_parked_websocket_wakes_for_its_commands_and_pongs_and_parks_again)
{
    live_server srv(quick_ticks(), 1);
    srv.start();
    auto ws = ws_client::create(srv.ioc);  // Beast answers the server's pings
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "a", 1));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 1; }, std::chrono::seconds(10)));

    // A command wakes it: the ack comes, and so does a message of the new topic.
    ASSERT_TRUE(ws->subscribe(srv.ioc, "b", 2));
    srv.publish("b", json{{"after", "wake"}});
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    EXPECT_EQ(ws->messages().back()["data"], json({{"after", "wake"}}));

    // Pings go out every 400 ms and must be answered within 400 ms: the pongs wake it each time, or the server
    // would drop it. Five intervals in, it is still open, and parked again between them.
    auto const until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2'000);
    std::size_t parked_seen = 0;
    srv.run_until([&] {
        parked_seen += srv.stats().parked;
        return std::chrono::steady_clock::now() >= until || !ws->is_open();
    }, std::chrono::seconds(10));
    EXPECT_TRUE(ws->is_open());
    EXPECT_EQ(srv.stats().websocket, 1u);
    EXPECT_GT(parked_seen, 0u);
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 1; }, std::chrono::seconds(10)));
    srv.publish("a", json{{"still", "served"}});
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    ws->close();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().websocket == 0 && srv.stats().parked == 0; },
                              std::chrono::seconds(10)));
}

// Python's websockets, sending nothing but its answers to the server's pings: a message reaches it while parked,
// its subscribe wakes the stream, and its pongs keep waking it, five ping intervals long.
TEST(parked_streams, python_websockets_is_served_while_its_stream_parks_and_wakes)
{
    live_server srv(quick_ticks(), 1);
    srv.start();
    std::string const script = R"(
import asyncio, sys, websockets

async def main():
    async with websockets.connect('ws://127.0.0.1:' + sys.argv[1] + '/ws', ping_interval=None) as ws:
        await ws.send('{"type":"subscribe","topic":"a","id":1}')
        await ws.recv()
        print('ready', flush=True)
        print('got', await ws.recv(), flush=True)
        await ws.send('{"type":"subscribe","topic":"b","id":2}')
        print('ack', await ws.recv(), flush=True)
        print('got', await ws.recv(), flush=True)

asyncio.run(asyncio.wait_for(main(), 30))
)";
    // Debian's python3-websockets is for /usr/bin/python3, not another python3 earlier on the PATH.
    server_process python("/usr/bin/python3", {"-c", script, std::to_string(srv.port)});
    auto const printed = [&](std::string_view text) { return python.output().find(text) != std::string::npos; };
    ASSERT_TRUE(srv.run_until([&] { return printed("ready"); }, std::chrono::seconds(20))) << python.output();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 1; }, std::chrono::seconds(10)));

    std::string const first = R"({"a":123456789012345678901234567890})";
    (*srv).publish_text("a", first);
    ASSERT_TRUE(srv.run_until([&] { return printed("ack"); }, std::chrono::seconds(10))) << python.output();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 1; }, std::chrono::seconds(10)));
    auto const until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2'000);
    srv.run_until([&] { return std::chrono::steady_clock::now() >= until || python.exit_status().has_value(); },
                  std::chrono::seconds(10));
    ASSERT_EQ(srv.stats().websocket, 1u) << "dropped while parked: its pongs did not wake it\n" << python.output();

    std::string const second = R"([1.10, "b"])";
    (*srv).publish_text("b", second);
    ASSERT_TRUE(srv.run_until([&] { return python.exit_status().has_value(); }, std::chrono::seconds(20)));
    EXPECT_EQ(*python.exit_status(), 0) << python.output();
    EXPECT_TRUE(printed("\"data\":" + first + "}")) << python.output();
    EXPECT_TRUE(printed("\"data\":" + second + "}")) << python.output();
}

TEST(parked_streams, a_parked_stream_whose_client_stops_reading_is_cut_off_at_its_bound)
{
    auto options = quick_ticks();
    options.max_queue_bytes = 64 * 1024;
    options.socket_send_buffer = 16 * 1024;
    live_server srv(options, 1);
    srv.start();
    auto slow = sse_client::create(srv.ioc);
    slow->set_receive_buffer_size(4096);
    slow->connect(srv.port, "/sse?topic=firehose");
    ASSERT_TRUE(slow->wait_events(srv.ioc, 1));
    slow->pause_reading();
    auto reader = sse_client::create(srv.ioc);
    reader->connect(srv.port, "/sse?topic=firehose");
    ASSERT_TRUE(reader->wait_events(srv.ioc, 1));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 2; }, std::chrono::seconds(10)));

    // 400 KB for a client that reads nothing, 32 KB at a time (each within the bound of the one that reads): its
    // socket fills, the write waits in Asio, its queue reaches the bound, and it is closed as a slow consumer; the
    // one that reads gets everything.
    std::string const payload = "\"" + std::string(1000, 'x') + "\"";
    constexpr std::size_t count = 400;
    for (std::size_t i = 0; i < count; ++i) {
        (*srv).publish_text("firehose", payload);
        if ((i + 1) % 32 == 0 || i + 1 == count) {
            ASSERT_TRUE(reader->wait_messages(srv.ioc, i + 1, std::chrono::seconds(20)));
        }
    }
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().sse == 1; }, std::chrono::seconds(20)));
    slow->resume_reading();
    ASSERT_TRUE(slow->wait_ended(srv.ioc, std::chrono::seconds(20)));
    auto const close = slow->find_event("close");
    ASSERT_TRUE(close);
    EXPECT_EQ(json::parse(close->data)["code"], 4000);
    EXPECT_LT(slow->message_count(), count);
}

TEST(parked_streams, stopping_the_server_closes_every_parked_stream)
{
    live_server srv(quick_ticks(), 1);
    srv.start();
    std::vector<std::shared_ptr<sse_client>> sse;
    std::vector<std::shared_ptr<ws_client>> ws;
    for (int i = 0; i < 40; ++i) {
        sse.push_back(sse_client::create(srv.ioc));
        sse.back()->connect(srv.port, "/sse?topic=t");
        ws.push_back(ws_client::create(srv.ioc));
        ws.back()->connect(srv.port);
    }
    for (auto& c : sse)
        ASSERT_TRUE(c->wait_events(srv.ioc, 1));
    for (auto& c : ws)
        ASSERT_TRUE(c->subscribe(srv.ioc, "t", 1));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 80; }, std::chrono::seconds(10)));

    (*srv).stop();
    ASSERT_TRUE(srv.run_until([&] {
        for (auto& c : sse)
            if (!c->ended())
                return false;
        for (auto& c : ws)
            if (!c->closed())
                return false;
        return true;
    }, std::chrono::seconds(20)));
    EXPECT_EQ(srv.stats().parked, 0u);
    for (auto& c : sse)
        EXPECT_TRUE(c->find_event("close")) << "a parked stream got no close event";
}

std::string poll_request(std::string_view topic)
{
    return "GET /poll?topic=" + std::string(topic) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

// `n` connections, each sending a poll of `topic`.
std::vector<std::unique_ptr<raw_connection>> polling(live_server& srv, std::size_t n, std::string_view topic)
{
    std::vector<std::unique_ptr<raw_connection>> clients;
    for (std::size_t i = 0; i < n; ++i) {
        clients.push_back(std::make_unique<raw_connection>(srv.ioc, srv.port));
        clients.back()->send(poll_request(topic));
    }
    return clients;
}

// Keepalive ticks of 1 s (a quarter of the shortest interval), so that a poll parks by its ticks after 2 s.
server_options ticks_of_a_second(std::chrono::milliseconds poll_hold)
{
    server_options options;
    options.sse_heartbeat = options.ws_ping_interval = options.ws_pong_timeout = std::chrono::seconds(4);
    options.poll_hold = poll_hold;
    return options;
}

TEST(parked_polls, a_quiet_poll_parks_gets_its_message_byte_for_byte_and_its_connection_serves_the_next_poll)
{
    live_server srv(quick_ticks(), 1);
    srv.start();
    raw_connection client(srv.ioc, srv.port);
    client.send(poll_request("quiet"));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 1; }, std::chrono::seconds(10)));
    EXPECT_EQ(srv.stats().long_polling, 1u);

    // The answer is written on the parked descriptor, and the connection's next request is awaited in the idle
    // watch too.
    std::string const first = R"({"n":123456789012345678901234567890,"f":1.50})";
    (*srv).publish_text("quiet", first);
    ASSERT_TRUE(client.wait_for([](std::string const& got) { return count_of(got, "HTTP/1.1 200") == 1 &&
                                                                    got.find("\"cursor\"") != std::string::npos; }));
    EXPECT_NE(client.received().find("\"data\":" + first + "}"), std::string::npos) << client.received();
    EXPECT_EQ(srv.stats().long_polling, 0u);
    EXPECT_EQ(srv.stats().parked, 1u);

    // The same keep-alive connection polls again (read in the idle watch), parks again, and is answered again.
    client.send(poll_request("quiet"));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 1 && srv.stats().parked == 1; },
                              std::chrono::seconds(10)));
    std::string const second = R"([1, 2.50, "two"])";
    (*srv).publish_text("quiet", second);
    ASSERT_TRUE(client.wait_for([&](std::string const& got) { return got.find(second) != std::string::npos; }))
        << client.received();
    EXPECT_EQ(count_of(client.received(), "HTTP/1.1 200"), 2u);
    EXPECT_FALSE(client.closed());
}

// Every poll of a kept-alive connection parks at once, whatever its message rate. Answered on its parked
// descriptor and its next poll read there, a client that polls on never leaves the idle watch: no epoll_ctl call
// per poll, and no reactor entry of Asio held by each poll after a message reaches them all.
std::size_t answered_at_least(std::vector<std::unique_ptr<raw_connection>> const& clients, std::size_t answers)
{
    std::size_t n = 0;
    for (auto const& c : clients)
        n += count_of(c->received(), "HTTP/1.1 200") >= answers;
    return n;
}

// A poll whose connection closes after its answer waits for its ticks: its client's next poll comes on a new
// connection.
TEST(parked_polls, every_poll_of_a_kept_alive_connection_waits_in_the_idle_watch_however_often_it_is_answered)
{
    live_server srv(ticks_of_a_second(std::chrono::minutes(5)), 1);
    srv.start();
    constexpr std::size_t polls = 20;
    raw_connection closing(srv.ioc, srv.port);
    closing.send("GET /poll?topic=first HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 1; }, std::chrono::seconds(10)));
    EXPECT_EQ(srv.stats().parked, 0u);

    // Answered at once, round after round, as at a steady message rate: none leaves the idle watch.
    auto const clients = polling(srv, polls, "first");
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == polls + 1; }, std::chrono::seconds(10)));
    EXPECT_EQ(srv.stats().parked, polls);
    (*srv).publish_text("first", "0");
    ASSERT_TRUE(closing.wait_closed(std::chrono::seconds(10)));
    for (std::size_t round = 1; round <= 5; ++round) {
        std::size_t least_parked = polls;
        ASSERT_TRUE(srv.run_until([&] {
            least_parked = std::min(least_parked, srv.stats().parked);
            return answered_at_least(clients, round) == polls;
        }, std::chrono::seconds(10)));
        for (auto& c : clients)
            c->send(poll_request("first"));
        ASSERT_TRUE(srv.run_until([&] {
            least_parked = std::min(least_parked, srv.stats().parked);
            return srv.stats().long_polling == polls;
        }, std::chrono::seconds(10)));
        EXPECT_EQ(least_parked, polls) << round;
        EXPECT_EQ(srv.stats().parked, polls) << round;
        (*srv).publish_text("first", std::to_string(round));
    }
    ASSERT_TRUE(srv.run_until([&] { return answered_at_least(clients, 6) == polls; }, std::chrono::seconds(10)));
}

TEST(parked_polls, a_parked_poll_whose_client_leaves_lets_go_of_it_at_once)
{
    auto options = quick_ticks();
    options.poll_hold = std::chrono::minutes(5);  // far past the test's deadlines: only the departure ends them
    live_server srv(options, 1);
    srv.start();
    auto const clients = polling(srv, 20, "left");
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 20; }, std::chrono::seconds(10)));

    // Half of them leave: the idle watch sees their end, and their polls, topics and sockets go.
    for (std::size_t i = 0; i < clients.size(); i += 2)
        clients[i]->close();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 10 && srv.stats().parked == 10; },
                              std::chrono::seconds(10)));
    EXPECT_EQ((*srv).hub().subscriber_count("left"), 10u);

    // The others are still served.
    (*srv).publish_text("left", R"("to those who stayed")");
    for (std::size_t i = 1; i < clients.size(); i += 2)
        ASSERT_TRUE(clients[i]->wait_for("to those who stayed")) << i;
}

TEST(parked_polls, a_request_pipelined_behind_a_parked_poll_wakes_it_and_is_answered_after_it)
{
    auto options = quick_ticks();
    options.poll_hold = std::chrono::minutes(5);
    live_server srv(options, 1);
    srv.start();
    raw_connection client(srv.ioc, srv.port);
    client.send(poll_request("behind"));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 1; }, std::chrono::seconds(10)));

    // The pipelined request wakes the watch, which reads it ahead and waits in Asio; quiet again, it parks again.
    client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 0; }, std::chrono::seconds(10)));
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 1; }, std::chrono::seconds(10)));
    EXPECT_EQ(client.received(), "");

    // The poll is answered first, then the request behind it.
    (*srv).publish_text("behind", R"("first")");
    ASSERT_TRUE(client.wait_for([](std::string const& got) { return count_of(got, "HTTP/1.1 200") == 2; }))
        << client.received();
    EXPECT_LT(client.received().find("\"first\""), client.received().rfind("HTTP/1.1 200"));
}

// curl as the long-polling client: its request parks, and the message comes back byte for byte.
TEST(parked_polls, curl_gets_the_message_of_its_parked_poll_byte_for_byte)
{
    live_server srv(quick_ticks(), 1);
    srv.start();
    std::string const payload = R"({"big":123456789012345678901234567890,"f":1.50})";
    publish_once_parked publisher(srv, "curl", payload, /*then_stop=*/false);
    auto const answer = curl(srv.ioc, url(srv, "/poll?topic=curl"), {"-s"});
    ASSERT_TRUE(publisher.published()) << answer.output;
    EXPECT_NE(answer.body.find("\"data\":" + payload + "}"), std::string::npos) << answer.body;
    // Answered in the idle watch, where curl's leaving is heard.
    EXPECT_TRUE(srv.run_until([&] { return srv.stats().parked == 0; }, std::chrono::seconds(10)));
}

TEST(parked_polls, stopping_the_server_answers_every_parked_poll)
{
    auto options = quick_ticks();
    options.poll_hold = std::chrono::minutes(5);
    live_server srv(options, 1);
    srv.start();
    auto clients = polling(srv, 20, "t");
    auto answered = polling(srv, 20, "u");
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 40; }, std::chrono::seconds(10)));
    // Half of them answered: their connections await their next request in the idle watch.
    (*srv).publish_text("u", "1");
    ASSERT_TRUE(srv.run_until([&] { return answered_at_least(answered, 1) == 20; }, std::chrono::seconds(10)));
    EXPECT_EQ(srv.stats().parked, 40u);

    (*srv).stop();
    clients.insert(clients.end(), std::make_move_iterator(answered.begin()), std::make_move_iterator(answered.end()));
    for (auto& c : clients) {
        ASSERT_TRUE(c->wait_closed(std::chrono::seconds(20)));
        EXPECT_EQ(c->received().rfind("HTTP/1.1 200", 0), 0u) << c->received();
        EXPECT_EQ(count_of(c->received(), "HTTP/1.1 200"), 1u) << c->received();
    }
    EXPECT_EQ(srv.stats().parked, 0u);
}

// A poll answered in the idle watch leaves its connection there, awaiting its next request: a message to every
// waiting poll takes none back into Asio, where each would hold a reactor entry (which Asio pools for good) until
// its next poll came. Whatever the client does next is heard there.
TEST(parked_polls, a_connection_answered_in_the_idle_watch_awaits_its_next_request_there)
{
    auto options = ticks_of_a_second(std::chrono::minutes(5));
    options.request_timeout = std::chrono::seconds(2);  // also how long a kept-alive connection waits for a request
    live_server srv(options, 1);
    srv.start();
    auto const clients = polling(srv, 4, "next");
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 4; }, std::chrono::seconds(10)));
    (*srv).publish_text("next", R"("one")");
    ASSERT_TRUE(srv.run_until([&] { return answered_at_least(clients, 1) == 4; }, std::chrono::seconds(10)));
    EXPECT_EQ(srv.stats().long_polling, 0u);
    EXPECT_EQ(srv.stats().parked, 4u);

    // Half a request is read in the idle watch, and the rest awaited in Asio.
    clients[1]->send("GET /healthz HTTP/1.1\r\nHo");
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().parked == 3; }, std::chrono::seconds(10)));
    clients[1]->send("st: 127.0.0.1\r\n\r\n");  // asks something else than a poll
    clients[0]->shutdown_send();                 // leaves: the server closes too
    clients[2]->send(poll_request("next"));      // polls again
    ASSERT_TRUE(clients[0]->wait_closed(std::chrono::seconds(10)));
    ASSERT_TRUE(clients[1]->wait_for([](std::string const& got) { return count_of(got, "HTTP/1.1 200") == 2; }))
        << clients[1]->received();
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 1; }, std::chrono::seconds(10)));
    (*srv).publish_text("next", R"("two")");
    ASSERT_TRUE(clients[2]->wait_for("\"two\""));
    // One that says nothing is closed once request_timeout has passed, as any kept-alive connection: 2 and 3 in
    // the idle watch, 1 in Asio (its request came in two parts).
    for (std::size_t i = 1; i < clients.size(); ++i)
        ASSERT_TRUE(clients[i]->wait_closed(std::chrono::seconds(10))) << i;
    EXPECT_EQ(count_of(clients[3]->received(), "HTTP/1.1 200"), 1u);
    EXPECT_EQ(srv.stats().parked, 0u);
}

}  // namespace
}  // namespace switchboard::test
