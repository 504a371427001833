// WebSocket over HTTP/2 (RFC 8441, extended CONNECT): the server announces SETTINGS_ENABLE_CONNECT_PROTOCOL, a
// CONNECT stream with :protocol websocket on /ws becomes a WebSocket channel answered 200 (no 101, no
// Sec-WebSocket-Accept) whose frames both ways are the stream's DATA, with the same commands, messages (byte for
// byte), errors, authentication and budgets as over HTTP/1.1. Exact frames over a raw socket (h2c with prior
// knowledge, tests/support/h2_frames.hpp), so the attacks can lie; Node's own http2 module as the third-party
// client (http2_websocket_node.mjs).

#include "support/h2_frames.hpp"
#include "support/http_client.hpp"
#include "support/jwt_maker.hpp"
#include "support/live_server.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;
using namespace h2_frames;
using nlohmann::json;

constexpr std::uint8_t TEXT = 0x1, CLOSE = 0x8, PING = 0x9, PONG = 0xA;

// The WebSocket frames the server sent on `stream`.
std::vector<ws_message> ws_on(raw_connection const& c, std::uint32_t stream)
{
    return ws_frames_in(data_of(c.received(), stream));
}

// The text frames on `stream` that parse as JSON with "type" `type` (and "id" `id` when given).
std::vector<json> replies(raw_connection const& c, std::uint32_t stream, std::string_view type,
                          std::optional<int> id = std::nullopt)
{
    std::vector<json> out;
    for (auto const& m : ws_on(c, stream)) {
        if (m.opcode != TEXT)
            continue;
        auto j = json::parse(m.payload, nullptr, false);
        if (j.is_object() && j.value("type", "") == type && (!id || j.value("id", -1) == *id))
            out.push_back(std::move(j));
    }
    return out;
}

std::string send_text(std::uint32_t stream, json const& command, std::uint8_t flags = 0)
{
    return frame(DATA, flags, stream, ws_frame(TEXT, command.dump()));
}

class http2_websocket : public ::testing::Test {
protected:
    void start(server_options options = {})
    {
        srv = std::make_unique<live_server>(std::move(options));
        srv->start();
    }

    // An h2c connection with stream `id` open as a WebSocket (200 seen).
    std::unique_ptr<raw_connection> open_ws(std::uint32_t id = 1, std::string const& opening = preface + settings())
    {
        auto c = std::make_unique<raw_connection>(srv->ioc, srv->port);
        c->send(opening + extended_connect(id, "/ws"));
        EXPECT_TRUE(c->wait_for([&](std::string const& b) { return status_of(b, id) != 0; })) << shown(c->received());
        EXPECT_EQ(status_of(c->received(), id), 200) << shown(c->received());
        return c;
    }

    std::unique_ptr<live_server> srv;
};

TEST_F(http2_websocket, the_server_announces_enable_connect_protocol)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings());
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, SETTINGS, 0); }));
    bool announced = false;
    for (auto const& f : frames_in(c.received()))
        if (f.type == SETTINGS && !(f.flags & 0x1))
            for (std::size_t i = 0; i + 6 <= f.payload.size(); i += 6)
                if (f.payload[i] == 0 && f.payload[i + 1] == 0x8)
                    announced = code_of({SETTINGS, 0, 0, f.payload.substr(i + 2, 4)}) == 1;
    EXPECT_TRUE(announced) << shown(c.received());
}

// A message published over an HTTP/1.1 POST reaches the HTTP/2 WebSocket in the very frame an HTTP/1.1
// WebSocket gets; the answer is 200 without Sec-WebSocket-Accept; the stream counts as a WebSocket channel and an
// HTTP/2 stream.
TEST_F(http2_websocket, a_subscriber_over_http2_gets_an_http1_publish_byte_for_byte)
{
    start();
    // An HTTP/1.1 WebSocket on the same topic, as raw bytes to compare.
    raw_connection h1(srv->ioc, srv->port);
    h1.send("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
            ws_frame(TEXT, R"({"type":"subscribe","topic":"news","id":1})"));
    auto c = open_ws();
    auto const fields = headers_of(c->received(), 1);
    EXPECT_FALSE(header(fields, "sec-websocket-accept")) << shown(c->received());
    EXPECT_FALSE(header(fields, "sec-websocket-extensions"));  // none offered
    c->send(send_text(1, {{"type", "subscribe"}, {"topic", "news"}, {"id", 1}}));
    ASSERT_TRUE(c->wait_for([&](std::string const&) { return !replies(*c, 1, "ack", 1).empty(); }))
        << data_of(c->received(), 1);
    EXPECT_EQ(replies(*c, 1, "ack", 1).front()["topic"], "news");
    ASSERT_TRUE(h1.wait_for(R"("type":"ack")"));
    EXPECT_EQ(srv->stats().websocket, 2u);
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_streams"), 1u);

    std::string const payload = R"({"n": 1.50, "s":"\u00e9"})";
    auto const published = fetch(srv->ioc, srv->port, "POST", "/publish?topic=news", payload);
    EXPECT_EQ(published.status, 200) << published.body;
    auto const message_frame = [](std::vector<ws_message> const& frames) {
        for (auto const& m : frames)
            if (m.payload.find(R"("type":"message")") != std::string::npos)
                return m.bytes;
        return std::string();
    };
    ASSERT_TRUE(c->wait_for([&](std::string const&) { return !message_frame(ws_on(*c, 1)).empty(); }))
        << data_of(c->received(), 1);
    ASSERT_TRUE(h1.wait_for(payload));
    auto const h1_body = h1.received().substr(h1.received().find("\r\n\r\n") + 4);
    EXPECT_EQ(message_frame(ws_on(*c, 1)), message_frame(ws_frames_in(h1_body)));
    EXPECT_NE(message_frame(ws_on(*c, 1)).find(payload), std::string::npos);
    EXPECT_FALSE(c->closed());
}

TEST_F(http2_websocket, a_publish_over_the_http2_websocket_reaches_an_http1_sse_client)
{
    start();
    raw_connection sse(srv->ioc, srv->port);
    sse.send("GET /sse?topic=chat HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 1; }));
    auto c = open_ws();
    c->send(send_text(1, {{"type", "publish"}, {"topic", "chat"}, {"data", {{"from", "h2"}}}, {"id", 7}}));
    ASSERT_TRUE(c->wait_for([&](std::string const&) { return !replies(*c, 1, "ack", 7).empty(); }))
        << data_of(c->received(), 1);
    EXPECT_TRUE(sse.wait_for(R"({"from":"h2"})")) << sse.received();
}

// Permessage-deflate is negotiated by the same code as over HTTP/1.1: the answer names it and large messages come
// compressed (RSV1).
TEST_F(http2_websocket, permessage_deflate_is_negotiated_as_over_http1)
{
    server_options options;
    options.ws_compression = true;
    start(options);
    auto c = std::make_unique<raw_connection>(srv->ioc, srv->port);
    c->send(preface + settings() +
            extended_connect(1, "/ws", "websocket",
                             literal("sec-websocket-version", "13") +
                                 literal("sec-websocket-extensions", "permessage-deflate; client_max_window_bits")));
    ASSERT_TRUE(c->wait_for([&](std::string const& b) { return status_of(b, 1) == 200; })) << shown(c->received());
    auto const ext = header(headers_of(c->received(), 1), "sec-websocket-extensions");
    ASSERT_TRUE(ext);
    EXPECT_NE(ext->find("permessage-deflate"), std::string::npos) << *ext;
}

TEST_F(http2_websocket, ping_pong_keepalive_and_the_close_handshake)
{
    server_options options;
    options.ws_ping_interval = 200ms;
    options.ws_pong_timeout = 10s;
    start(options);
    auto c = open_ws();
    c->send(frame(DATA, 0, 1, ws_frame(PING, "hello")));
    auto const has_op = [&](std::uint8_t op, std::string_view payload) {
        for (auto const& m : ws_on(*c, 1))
            if (m.opcode == op && m.payload == payload)
                return true;
        return false;
    };
    ASSERT_TRUE(c->wait_for([&](std::string const&) { return has_op(PONG, "hello"); })) << data_of(c->received(), 1);
    // Idle past the interval: the server pings.
    ASSERT_TRUE(c->wait_for([&](std::string const&) { return has_op(PING, ""); })) << data_of(c->received(), 1);
    c->send(frame(DATA, 0, 1, ws_frame(PONG, "")));
    // The close handshake: our close frame, its echo, then END_STREAM after it; our END_STREAM ends the stream.
    c->send(frame(DATA, 0, 1, ws_frame(CLOSE, std::string("\x03\xe8", 2) + "bye")));
    ASSERT_TRUE(c->wait_for([&](std::string const& b) { return ended(b, 1); })) << shown(c->received());
    auto const frames = ws_on(*c, 1);
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.back().opcode, CLOSE);
    EXPECT_EQ(frames.back().payload.substr(0, 2), std::string("\x03\xe8", 2));
    EXPECT_FALSE(has(c->received(), RST_STREAM, 1)) << shown(c->received());
    c->send(frame(DATA, END_STREAM, 1, ""));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().websocket == 0; }));
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_streams"), 0u);
    EXPECT_FALSE(c->closed());
}

TEST_F(http2_websocket, a_reset_from_the_client_closes_the_channel_at_once)
{
    server_options options;
    options.close_timeout = 30s;  // no linger hides it
    start(options);
    auto c = open_ws();
    c->send(extended_connect(3, "/ws"));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().websocket == 2; }));
    c->send(frame(RST_STREAM, 0, 1, be32(0x8 /*CANCEL*/)));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().websocket == 1; }, 5s));
    c->send(send_text(3, {{"type", "ping"}, {"id", 2}}));
    EXPECT_TRUE(c->wait_for([&](std::string const&) { return !replies(*c, 3, "pong", 2).empty(); }));
}

TEST_F(http2_websocket, other_protocols_paths_and_plain_connect_are_refused_and_the_connection_goes_on)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings() + extended_connect(1, "/ws", "connect-udp") + extended_connect(3, "/nowhere") +
           extended_connect(5, "/ws", "websocket", literal("sec-websocket-version", "8")) +
           extended_connect(7, "/sse") +
           // A plain CONNECT (a proxy tunnel): :method and :authority only.
           frame(HEADERS, END_HEADERS, 9, literal(2, "CONNECT") + literal(1, "127.0.0.1:80")) +
           request(11, "GET", "/healthz"));
    ASSERT_TRUE(c.wait_for([](std::string const& b) {
        for (std::uint32_t id : {1, 3, 5, 7, 9, 11})
            if (status_of(b, id) == 0)
                return false;
        return true;
    })) << shown(c.received());
    auto const& b = c.received();
    EXPECT_EQ(status_of(b, 1), 400);
    EXPECT_NE(data_of(b, 1).find(R"("code":"bad_request")"), std::string::npos) << data_of(b, 1);
    EXPECT_EQ(status_of(b, 3), 404);
    EXPECT_EQ(status_of(b, 5), 400);
    EXPECT_EQ(header(headers_of(b, 5), "sec-websocket-version"), "13");
    EXPECT_EQ(status_of(b, 7), 405);  // /sse takes GET
    EXPECT_EQ(status_of(b, 9), 405);
    EXPECT_EQ(status_of(b, 11), 200);
    EXPECT_EQ(srv->stats().websocket, 0u);
    EXPECT_FALSE(c.closed());
}

TEST_F(http2_websocket, authentication_and_origin_refuse_as_over_http1_with_the_json_error)
{
    server_options options;
    options.security.jwt_secret = "a secret of at least thirty-two bytes!!";
    options.security.allowed_origins = {"https://app.example"};
    start(options);
    auto const token = make_hs256({{"sub", "ann"}, {"exp", unix_time(600s)}}, options.security.jwt_secret);
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings() +
           extended_connect(1, "/ws", "websocket",
                            literal("sec-websocket-version", "13") + literal("origin", "https://evil.example")) +
           extended_connect(3, "/ws") + extended_connect(5, "/ws?token=not.a.token") +
           extended_connect(7, "/ws?token=" + token, "websocket",
                            literal("sec-websocket-version", "13") + literal("origin", "https://app.example")));
    ASSERT_TRUE(c.wait_for([](std::string const& b) {
        return status_of(b, 1) && status_of(b, 3) && status_of(b, 5) && status_of(b, 7);
    })) << shown(c.received());
    auto const& b = c.received();
    EXPECT_EQ(status_of(b, 1), 403);
    EXPECT_EQ(json::parse(data_of(b, 1), nullptr, false)["error"]["code"], "origin_not_allowed") << data_of(b, 1);
    auto const h1 = fetch(srv->ioc, srv->port, "GET", "/ws");  // the same refusal over HTTP/1.1
    EXPECT_EQ(status_of(b, 3), h1.status);
    EXPECT_EQ(data_of(b, 3), h1.body);
    EXPECT_EQ(status_of(b, 5), 401);
    EXPECT_EQ(status_of(b, 7), 200);
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().websocket == 1; }));
}

// The attacks. A client that floods its stream with commands and never opens the stream's window for the
// answers: the answers wait in the channel's own bounded queue, past it the channel closes as a slow consumer
// (4000) and the stream is reset; its other stream, and other clients, go on.
TEST_F(http2_websocket, a_stream_flooded_by_a_client_that_never_reads_is_closed_and_the_others_go_on)
{
    server_options options;
    options.max_queue_bytes = 16 * 1024;
    options.close_timeout = 300ms;
    start(options);
    // Every stream's window starts at 0; the connection's is opened wide, and stream 3's.
    auto c = open_ws(1, preface + settings({{0x4 /*INITIAL_WINDOW_SIZE*/, 0}}) +
                            frame(WINDOW_UPDATE, 0, 0, be32(1u << 30)));
    c->send(extended_connect(3, "/ws") + frame(WINDOW_UPDATE, 0, 3, be32(1u << 30)));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().websocket == 2; }));
    auto other = open_ws();  // another client
    // ~46 KB of commands (within the stream's and the connection's 64 KiB receive windows, which this client does
    // not wait to see reopened), ~40 KB of answers for a queue of 16 KiB.
    std::string flood;
    for (int i = 0; i < 1500; ++i)
        flood += ws_frame(TEXT, json{{"type", "ping"}, {"id", i}}.dump());
    for (std::size_t at = 0; at < flood.size(); at += 16000)
        c->send(frame(DATA, 0, 1, std::string_view(flood).substr(at, 16000)));
    ASSERT_TRUE(c->wait_for([](std::string const& b) { return has(b, RST_STREAM, 1); }, 10s)) << shown(c->received());
    EXPECT_TRUE(data_of(c->received(), 1).empty());
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_slow_consumers_total"), 1u);
    EXPECT_EQ(srv->stats().websocket, 2u);
    c->send(send_text(3, {{"type", "ping"}, {"id", 1}}));
    EXPECT_TRUE(c->wait_for([&](std::string const&) { return !replies(*c, 3, "pong", 1).empty(); }));
    other->send(send_text(1, {{"type", "ping"}, {"id", 1}}));
    EXPECT_TRUE(other->wait_for([&](std::string const&) { return !replies(*other, 1, "pong", 1).empty(); }));
    EXPECT_FALSE(c->closed());
}

// Multiplexing multiplies no client's budget: each WebSocket stream counts as a connection of its address; past
// the limit the stream is refused 503 and the ones open go on.
TEST_F(http2_websocket, streams_past_max_connections_per_address_are_refused_503)
{
    server_options options;
    options.max_connections_per_address = 3;  // the HTTP/2 connection and two streams
    start(options);
    auto c = open_ws();
    c->send(extended_connect(3, "/ws") + extended_connect(5, "/ws"));
    ASSERT_TRUE(c->wait_for([](std::string const& b) { return status_of(b, 5) != 0; })) << shown(c->received());
    EXPECT_EQ(status_of(c->received(), 3), 200);
    EXPECT_EQ(status_of(c->received(), 5), 503);
    EXPECT_NE(data_of(c->received(), 5).find("too_many_connections"), std::string::npos);
    EXPECT_EQ(srv->stats().websocket, 2u);
    c->send(send_text(1, {{"type", "subscribe"}, {"topic", "a"}, {"id", 1}}));
    ASSERT_TRUE(c->wait_for([&](std::string const&) { return !replies(*c, 1, "ack", 1).empty(); }));
    srv->publish("a", json{{"still", "here"}});
    EXPECT_TRUE(c->wait_for([](std::string const& b) { return data_of(b, 1).find(R"("still")") != std::string::npos; }));
    // A reset stream's place is free again.
    c->send(frame(RST_STREAM, 0, 3, be32(0x8)) + extended_connect(7, "/ws"));
    ASSERT_TRUE(c->wait_for([](std::string const& b) { return status_of(b, 7) != 0; })) << shown(c->received());
    EXPECT_EQ(status_of(c->received(), 7), 200);
}

// Node's built-in http2 client (a third-party HTTP/2 stack): it sees enableConnectProtocol in the server's
// SETTINGS, opens the WebSocket with an extended CONNECT, subscribes, and receives a message published over
// HTTP/1.1.
TEST_F(http2_websocket, node_http2_opens_a_websocket_by_extended_connect)
{
    start();
    server_process node(SWITCHBOARD_NODE, {SWITCHBOARD_H2_WS_NODE_SCRIPT, std::to_string(srv->port)});
    ASSERT_TRUE(srv->run_until([&] { return node.output().find("subscribed") != std::string::npos; }, 20s))
        << node.output();
    auto const published = fetch(srv->ioc, srv->port, "POST", "/publish?topic=node", R"({"hello":"node"})");
    EXPECT_EQ(published.status, 200);
    ASSERT_TRUE(srv->run_until([&] { return node.exit_status().has_value(); }, 20s)) << node.output();
    EXPECT_EQ(*node.exit_status(), 0) << node.output();
    EXPECT_NE(node.output().find(R"(received {"hello":"node"})"), std::string::npos) << node.output();
}

}  // namespace
}  // namespace switchboard::test
