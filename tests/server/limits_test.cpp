// Slow consumers, dead peers, slowloris and connection limits: each bounded, each with a clear reason, and
// none of them slows or harms the other clients.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <string_view>

namespace switchboard::test {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

TEST(limits, a_slow_consumer_is_cut_off_and_the_others_lose_nothing)
{
    server_options options;
    options.max_queue_bytes = 64 * 1024;
    options.socket_send_buffer = 16 * 1024;  // else the kernel alone may absorb the whole burst
    options.close_timeout = std::chrono::seconds(120);  // the slow one gets its close frame whenever it reads
    live_server srv(options);
    srv.start();

    auto slow = ws_client::create(srv.ioc);
    slow->set_receive_buffer_size(4096);
    slow->connect(srv.port);
    ASSERT_TRUE(slow->subscribe(srv.ioc, "firehose", 0));
    slow->pause_reading();

    constexpr int per_transport = 500;  // 1,000 subscribers that keep reading
    std::vector<std::shared_ptr<ws_client>> ws;
    std::vector<std::shared_ptr<sse_client>> sse;
    for (int i = 0; i < per_transport; ++i) {
        ws.push_back(ws_client::create(srv.ioc));
        ws.back()->connect(srv.port);
        ws.back()->send_json({{"type", "subscribe"}, {"topic", "firehose"}});
        sse.push_back(sse_client::create(srv.ioc));
        sse.back()->connect(srv.port, "/sse?topic=firehose");
    }
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("firehose") == 1 + 2 * per_transport; },
                              std::chrono::seconds(60)));

    // 300 KiB for everyone, in batches the readers keep up with: far past the slow one's 64 KiB queue and
    // socket buffers, never near anyone else's.
    constexpr std::size_t count = 150;
    constexpr std::size_t batch = 10;
    std::string const payload(2'000, 'x');
    auto const everyone_has = [&](std::size_t n) {
        for (auto const& c : ws)
            if (c->message_count() < n)
                return false;
        for (auto const& c : sse)
            if (c->message_count() < n)
                return false;
        return true;
    };
    for (std::size_t sent = 0; sent < count; sent += batch) {
        for (std::size_t i = sent; i < sent + batch; ++i)
            (*srv).publish("firehose", {{"i", i}, {"pad", payload}});
        ASSERT_TRUE(srv.run_until([&] { return everyone_has(sent + batch); }, std::chrono::seconds(60)))
            << "batch from " << sent;
    }
    // The slow one was dropped (its queue freed) while it read nothing.
    EXPECT_EQ((*srv).hub().subscriber_count("firehose"), 2u * per_transport);
    EXPECT_EQ((*srv).stats().websocket, static_cast<std::size_t>(per_transport));
    for (auto const& c : ws) {
        auto const got = c->messages();
        for (std::size_t i = 0; i < count; ++i)
            ASSERT_EQ(got[i]["offset"], i + 1);
    }
    for (auto const& c : sse) {
        auto const got = c->messages();
        for (std::size_t i = 0; i < count; ++i)
            ASSERT_EQ(got[i]["offset"], i + 1);
    }

    // When it reads again it finds a prefix of the stream, then the reason: 4000, resume from history.
    slow->resume_reading();
    ASSERT_TRUE(slow->wait_closed(srv.ioc, std::chrono::seconds(20)));
    EXPECT_EQ(slow->close_code(), 4000);
    auto const partial = slow->messages();
    EXPECT_LT(partial.size(), count);
    for (std::size_t i = 0; i < partial.size(); ++i)
        EXPECT_EQ(partial[i]["offset"], i + 1);

    for (auto const& c : ws)
        c->close();
    for (auto const& c : sse)
        c->close();
}

TEST(limits, a_slow_sse_consumer_gets_a_close_event)
{
    server_options options;
    options.max_queue_bytes = 32 * 1024;
    options.socket_send_buffer = 16 * 1024;
    live_server srv(options);
    srv.start();
    auto slow = sse_client::create(srv.ioc);
    slow->set_receive_buffer_size(4096);
    slow->connect(srv.port, "/sse?topic=t");
    ASSERT_TRUE(slow->wait_events(srv.ioc, 1));
    slow->pause_reading();
    std::string const payload(4'000, 'y');
    for (int i = 0; i < 100; ++i)
        (*srv).publish("t", payload);
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 0; }));
    slow->resume_reading();
    ASSERT_TRUE(slow->wait_ended(srv.ioc));
    auto const close = slow->find_event("close");
    ASSERT_TRUE(close);
    EXPECT_EQ(json::parse(close->data)["code"], 4000);
}

TEST(limits, a_websocket_that_stops_answering_pings_is_dropped)
{
    server_options options;
    options.ws_ping_interval = std::chrono::milliseconds(100);
    options.ws_pong_timeout = std::chrono::milliseconds(200);
    live_server srv(options);
    srv.start();
    auto alive = ws_client::create(srv.ioc);  // Beast answers pings
    alive->connect(srv.port);
    ASSERT_TRUE(alive->subscribe(srv.ioc, "t", 1));

    // A peer that completes the handshake and then says nothing, pongs included.
    asio::ip::tcp::socket dead(srv.ioc);
    dead.connect({asio::ip::make_address("127.0.0.1"), srv.port});
    std::string const upgrade = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    asio::write(dead, asio::buffer(upgrade));
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().websocket == 2; }));
    auto const started = std::chrono::steady_clock::now();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().websocket == 1; }, std::chrono::seconds(10)));
    // Dropped after about ping interval + pong timeout, not before.
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
    EXPECT_TRUE(alive->is_open());
    dead.close();
    (*srv).publish("t", "still served");
    EXPECT_TRUE(alive->wait_messages(srv.ioc, 1));
    alive->close();
}

TEST(limits, idle_sse_streams_get_heartbeats)
{
    server_options options;
    options.sse_heartbeat = std::chrono::milliseconds(100);
    live_server srv(options);
    srv.start();
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=quiet");
    ASSERT_TRUE(srv.run_until([&] { return sse->comments() >= 3; }, std::chrono::seconds(10)));
    sse->close();
}

TEST(limits, an_empty_poll_is_answered_when_the_hold_ends)
{
    server_options options;
    options.poll_hold = std::chrono::milliseconds(200);
    live_server srv(options);
    srv.start();
    auto const started = std::chrono::steady_clock::now();
    auto res = fetch(srv.ioc, srv.port, "GET", "/poll?topic=nothing");
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
    ASSERT_EQ(res.status, 200);
    EXPECT_TRUE(res.json()["messages"].empty());
    EXPECT_TRUE(res.json()["cursor"].is_string());
}

TEST(limits, a_long_poll_whose_client_leaves_gives_its_slot_back_at_once)
{
    // The hold is a minute; the client leaves after a moment. Its slot must not wait for the hold to end.
    server_options options;
    options.poll_hold = std::chrono::seconds(60);
    options.max_connections_per_address = 1;
    live_server srv(options);
    srv.start();
    asio::ip::tcp::socket sock(srv.ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), srv.port});
    asio::write(sock, asio::buffer(std::string_view("GET /poll?topic=t HTTP/1.1\r\nHost: x\r\n\r\n")));
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 1; }));
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/nowhere").status, 503);  // the one slot is taken

    sock.close();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 0; }, std::chrono::seconds(5)));
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/nowhere").status, 404);
}

// Bytes before the FIN (a request pipelined behind the poll) must not hide the client's departure.
TEST(limits, a_long_poll_whose_client_pipelined_a_request_and_left_gives_its_slot_back_at_once)
{
    server_options options;
    options.poll_hold = std::chrono::seconds(60);
    options.max_connections_per_address = 1;
    live_server srv(options);
    srv.start();
    std::string const poll = "GET /poll?topic=t HTTP/1.1\r\nHost: x\r\n\r\n";
    std::string const publish = "POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"n\":1}";

    // The pipelined request and the FIN arrive together...
    {
        raw_connection c(srv.ioc, srv.port);
        c.send(poll);
        ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 1; }));
        c.send(poll);
        c.close();
        ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 0; }, std::chrono::seconds(5)));
    }
    // ... or one after the other: the request alone does not end the poll, the FIN then does.
    {
        raw_connection c(srv.ioc, srv.port);
        c.send(poll);
        ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 1; }));
        c.send(publish);
        run_for(srv.ioc, std::chrono::milliseconds(200));
        EXPECT_EQ((*srv).stats().long_polling, 1u);
        EXPECT_TRUE(c.received().empty());
        c.shutdown_send();
        ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 0; }, std::chrono::seconds(5)));
    }
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/nowhere").status, 404);
    // The request read early never ran: its client was gone.
    std::optional<std::uint64_t> latest;
    (*srv).backplane().history("t", std::nullopt, 0,
                               [&](boost::system::error_code, history_result r) { latest = r.latest.offset; });
    ASSERT_TRUE(srv.run_until([&] { return latest.has_value(); }));
    EXPECT_EQ(*latest, 0u);
}

// A client that stays gets every request it pipelined behind its poll answered, in order, the request read
// early (its body included) untouched.
TEST(limits, requests_pipelined_behind_a_waiting_poll_are_answered_after_it)
{
    server_options options;
    options.poll_hold = std::chrono::milliseconds(300);
    live_server srv(options);
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    c.send("GET /poll?topic=t HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 1; }));
    std::string const body = "{\"pad\":\"" + std::string(3000, 'p') + "\"}";
    c.send("POST /publish?topic=u HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.wait_closed());
    std::string_view rest = c.received();
    auto const poll = take_response(rest);
    auto const published = take_response(rest);
    auto const health = take_response(rest);
    ASSERT_TRUE(poll && published && health) << c.received();
    EXPECT_EQ(nlohmann::json::parse(poll->body())["messages"], nlohmann::json::array());  // its hold ended
    EXPECT_EQ(nlohmann::json::parse(published->body())["topic"], "u");
    EXPECT_EQ(health->result_int(), 200u);
    EXPECT_TRUE(rest.empty());
}

TEST(limits, a_request_pipelined_behind_a_waiting_poll_does_not_end_it)
{
    server_options options;
    options.poll_hold = std::chrono::milliseconds(300);
    live_server srv(options);
    srv.start();
    asio::ip::tcp::socket sock(srv.ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), srv.port});
    std::string const poll = "GET /poll?topic=t HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(sock, asio::buffer(poll));
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 1; }));
    asio::write(sock, asio::buffer(poll));  // sent early, before the first is answered
    ASSERT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=t", R"({"n":1})").status, 200);

    // Both are answered on the same connection: the first with the message, the second when its hold ends.
    std::string received;
    std::array<char, 4096> chunk;
    bool failed = false;
    std::function<void()> read_more = [&] {
        sock.async_read_some(asio::buffer(chunk), [&](boost::system::error_code ec, std::size_t n) {
            if (ec) {
                failed = true;
                return;
            }
            received.append(chunk.data(), n);
            read_more();
        });
    };
    read_more();
    auto const answers = [&] {
        std::size_t count = 0;
        for (auto at = received.find("HTTP/1.1 200"); at != std::string::npos; at = received.find("HTTP/1.1 200", at + 1))
            ++count;
        return count;
    };
    ASSERT_TRUE(srv.run_until([&] { return answers() == 2 || failed; }, std::chrono::seconds(5))) << received;
    EXPECT_FALSE(failed);
    EXPECT_NE(received.find(R"({"n":1})"), std::string::npos) << received;
    sock.close();
}

// A waiting poll's stream rests without deadlines (connection_stream::rest): its answer must bring them back,
// for the answer's write and for every request after it on the connection.
TEST(limits, a_connection_that_held_polls_still_cuts_off_a_slow_request_after_them)
{
    server_options options;
    options.poll_hold = std::chrono::milliseconds(150);
    options.request_timeout = std::chrono::milliseconds(600);
    live_server srv(options);
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    // Two polls, one answered empty when its hold ends and one with a message.
    c.send("GET /poll?topic=t HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(c.wait_for([](std::string const& r) { return r.find("\"cursor\"") != std::string::npos; }));
    c.send("GET /poll?topic=t HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 1; }));
    ASSERT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=t", R"({"n":1})").status, 200);
    ASSERT_TRUE(c.wait_for(R"({"n":1})"));

    // Then a request that never ends: cut off at request_timeout, as on a connection that never polled.
    auto const started = std::chrono::steady_clock::now();
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    ASSERT_TRUE(c.wait_closed(std::chrono::seconds(10)));
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(300));  // not at once
    std::string_view rest = c.received();
    auto const empty = take_response(rest);
    auto const full = take_response(rest);
    ASSERT_TRUE(empty && full) << c.received();
    EXPECT_EQ(nlohmann::json::parse(empty->body())["messages"], nlohmann::json::array());
    EXPECT_EQ(nlohmann::json::parse(full->body())["messages"].size(), 1u);
    EXPECT_EQ((*srv).stats().long_polling, 0u);
}

TEST(limits, slowloris_headers_are_cut_off)
{
    server_options options;
    options.request_timeout = std::chrono::milliseconds(500);
    live_server srv(options);
    srv.start();

    // One byte every 50 ms: the request would take 10 s to arrive.
    std::string const request = "GET /poll?topic=a HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(150, 'z') + "\r\n\r\n";
    asio::ip::tcp::socket sock(srv.ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), srv.port});
    asio::steady_timer drip(srv.ioc);
    std::size_t sent = 0;
    bool cut = false;
    std::function<void()> next = [&] {
        boost::system::error_code ec;
        asio::write(sock, asio::buffer(&request[sent], 1), ec);
        if (ec) {
            cut = true;
            return;
        }
        if (++sent == request.size())
            return;
        drip.expires_after(std::chrono::milliseconds(50));
        drip.async_wait([&](boost::system::error_code e) {
            if (!e)
                next();
        });
    };
    next();
    char byte;
    sock.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code ec, std::size_t) { cut = cut || ec; });
    // Meanwhile everyone else is served.
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/nowhere").status, 404);
    ASSERT_TRUE(srv.run_until([&] { return cut; }, std::chrono::seconds(5)));
    EXPECT_LT(sent, request.size());
    drip.cancel();
    sock.close();
}

TEST(limits, connections_per_address_are_bounded)
{
    server_options options;
    options.max_connections_per_address = 3;
    live_server srv(options);
    srv.start();
    std::vector<std::shared_ptr<sse_client>> streams;
    for (int i = 0; i < 3; ++i) {
        streams.push_back(sse_client::create(srv.ioc));
        streams.back()->connect(srv.port, "/sse?topic=t");
        ASSERT_TRUE(streams.back()->wait_status(srv.ioc));
        ASSERT_EQ(streams.back()->status(), 200);
    }
    auto refused = fetch(srv.ioc, srv.port, "GET", "/sse?topic=t");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.json()["error"]["code"], "too_many_connections");
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(srv.run_until([&] { return ws->failed(); }));
    EXPECT_EQ(ws->http_status(), 503);

    // A slot comes back when a connection ends.
    streams.front()->close();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().sse == 2; }));
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=t", "1").status, 200);
    for (auto const& s : streams)
        s->close();
}

// A connection past a limit is answered 503 at once, without waiting for its request, closed, and counted
// nowhere: one address past its own limit cannot take the server's slots from another.
TEST(limits, connections_past_the_address_limit_are_refused_at_once_and_counted_nowhere)
{
    server_options options;
    options.max_connections = 6;
    options.max_connections_per_address = 2;
    options.request_timeout = std::chrono::seconds(60);  // a refusal must not wait for it
    live_server srv(options);
    srv.start();

    // 127.0.0.2 holds its two slots with streams, then opens many more connections that never send a byte.
    std::vector<std::unique_ptr<raw_connection>> streams, refused;
    for (int i = 0; i < 2; ++i) {
        streams.push_back(std::make_unique<raw_connection>(srv.ioc, srv.port, "127.0.0.2"));
        streams.back()->send("GET /sse?topic=t HTTP/1.1\r\nHost: x\r\n\r\n");
        ASSERT_TRUE(streams.back()->wait_for("text/event-stream"));
    }
    for (int i = 0; i < 20; ++i) {
        refused.push_back(std::make_unique<raw_connection>(srv.ioc, srv.port, "127.0.0.2"));
        ASSERT_TRUE(refused.back()->wait_closed(std::chrono::seconds(5))) << "refused connection #" << i << " held";
        std::string_view got = refused.back()->received();
        auto const res = take_response(got);
        ASSERT_TRUE(res) << refused.back()->received();
        EXPECT_EQ(res->result_int(), 503u);
        EXPECT_EQ(nlohmann::json::parse(res->body())["error"]["code"], "too_many_connections");
        EXPECT_EQ(std::string((*res)[boost::beast::http::field::connection]), "close");
    }
    // The client keeps those ends open, and the server counts none of them: other addresses get every slot left.
    std::vector<std::unique_ptr<raw_connection>> others;
    for (int i = 0; i < 4; ++i) {
        others.push_back(std::make_unique<raw_connection>(srv.ioc, srv.port, "127.0.1." + std::to_string(i + 1)));
        others.back()->send("GET /sse?topic=t HTTP/1.1\r\nHost: x\r\n\r\n");
        ASSERT_TRUE(others.back()->wait_for("text/event-stream")) << i << ": " << others.back()->received();
    }
    // Now the server is full: a seventh connection is refused, whatever its address.
    raw_connection seventh(srv.ioc, srv.port, "127.0.0.3");  // an address with no connection yet
    ASSERT_TRUE(seventh.wait_closed());
    EXPECT_TRUE(seventh.received().starts_with("HTTP/1.1 503 ")) << seventh.received();
    // One stream leaves; the metrics request takes its place and counts six sockets, the refused ones not among them.
    others.back()->close();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().sse == 5; }));
    auto const metrics = fetch(srv.ioc, srv.port, "GET", "/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("switchboard_client_sockets 6\n"), std::string::npos) << metrics.body;
}

TEST(limits, total_connections_are_bounded)
{
    server_options options;
    options.max_connections = 2;
    live_server srv(options);
    srv.start();
    auto a = ws_client::create(srv.ioc);
    auto b = ws_client::create(srv.ioc);
    a->connect(srv.port);
    b->connect(srv.port);
    ASSERT_TRUE(a->wait_open(srv.ioc));
    ASSERT_TRUE(b->wait_open(srv.ioc));
    auto refused = fetch(srv.ioc, srv.port, "POST", "/publish?topic=t", "1");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.json()["error"]["code"], "too_many_connections");
    a->close();
    b->close();
}

}  // namespace
}  // namespace switchboard::test
