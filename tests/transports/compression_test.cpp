// permessage-deflate (RFC 7692) on the WebSocket transport, from the wire: what the handshake answers to each
// offer, that a message is compressed once and the same compressed frame reaches every subscriber that
// negotiated it (and the plain frame those that did not), that compressed client commands are read, and what
// a client that lies costs: a zip bomb, an invalid stream, RSV1 where the RFC forbids it. Frames are read and
// written here byte by byte over a raw socket and inflated with zlib directly, not with the server's code;
// Python's websockets (a third-party client that offers permessage-deflate by default) checks the same from
// outside. Node's ws and Chromium are in tests/browser/compression.test.mjs.

#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr std::string_view deflate_offer = "permessage-deflate; client_max_window_bits";
constexpr std::string_view accepted = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

std::string upgrade_request(std::optional<std::string_view> extensions)
{
    std::string req = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    if (extensions)
        req += "Sec-WebSocket-Extensions: " + std::string(*extensions) + "\r\n";
    return req + "\r\n";
}

// A masked client frame with the first byte as given (FIN, RSV bits, opcode).
std::string client_frame(std::uint8_t first, std::string_view payload)
{
    std::string out(1, static_cast<char>(first));
    std::uint8_t const mask[4] = {0x11, 0x22, 0x33, 0x44};
    std::size_t const n = payload.size();
    if (n < 126) {
        out += static_cast<char>(0x80 | n);
    } else if (n <= 0xFFFF) {
        out += static_cast<char>(0x80 | 126);
        out += static_cast<char>(n >> 8);
        out += static_cast<char>(n & 0xFF);
    } else {
        out += static_cast<char>(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF);
    }
    out.append(reinterpret_cast<char const*>(mask), 4);
    for (std::size_t i = 0; i < n; ++i)
        out += static_cast<char>(payload[i] ^ mask[i % 4]);
    return out;
}

// Raw deflate as any peer's encoder makes it (zlib, sync flush, the 4-byte tail removed: RFC 7692 7.2.1).
std::string deflate_raw(std::string_view payload)
{
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, payload.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
    z.avail_in = static_cast<uInt>(payload.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out - 4);
    deflateEnd(&z);
    return out;
}

std::string inflate_raw(std::string_view compressed)
{
    std::string in(compressed);
    in += std::string_view("\x00\x00\xff\xff", 4);
    z_stream z{};
    inflateInit2(&z, -15);
    std::string out;
    char chunk[16384];
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    do {
        z.next_out = reinterpret_cast<Bytef*>(chunk);
        z.avail_out = sizeof chunk;
        int const rc = inflate(&z, Z_SYNC_FLUSH);
        out.append(chunk, sizeof chunk - z.avail_out);
        if (rc != Z_OK)
            break;
    } while (z.avail_in > 0 || z.avail_out == 0);
    inflateEnd(&z);
    return out;
}

struct server_frame {
    bool rsv1;
    int opcode;
    std::string payload;
};

// The server's frames after the 101 response, as far as they are complete.
std::vector<server_frame> frames_in(std::string_view bytes)
{
    auto const head_end = bytes.find("\r\n\r\n");
    if (head_end == std::string_view::npos)
        return {};
    bytes.remove_prefix(head_end + 4);
    std::vector<server_frame> out;
    while (bytes.size() >= 2) {
        auto const b0 = static_cast<unsigned char>(bytes[0]);
        std::uint64_t n = static_cast<unsigned char>(bytes[1]) & 0x7F;
        std::size_t at = 2;
        if (n == 126) {
            if (bytes.size() < 4)
                break;
            n = (static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[2])) << 8) |
                static_cast<unsigned char>(bytes[3]);
            at = 4;
        } else if (n == 127) {
            if (bytes.size() < 10)
                break;
            n = 0;
            for (std::size_t i = 2; i < 10; ++i)
                n = (n << 8) | static_cast<unsigned char>(bytes[i]);
            at = 10;
        }
        if (bytes.size() < at + n)
            break;
        out.push_back({(b0 & 0x40) != 0, b0 & 0x0F, std::string(bytes.substr(at, n))});
        bytes.remove_prefix(at + n);
    }
    return out;
}

// What a frame says, inflated when it is compressed.
std::string text_of(server_frame const& f)
{
    return f.rsv1 ? inflate_raw(f.payload) : f.payload;
}

std::optional<std::uint16_t> close_code(std::string_view bytes)
{
    for (auto const& f : frames_in(bytes))
        if (f.opcode == 8 && f.payload.size() >= 2)
            return static_cast<std::uint16_t>((static_cast<unsigned char>(f.payload[0]) << 8) |
                                              static_cast<unsigned char>(f.payload[1]));
    return std::nullopt;
}

std::string response_head(std::string const& bytes)
{
    return bytes.substr(0, bytes.find("\r\n\r\n") + 4);
}

// A raw WebSocket client: upgraded (offering `extensions`), then subscribed to `topic`.
struct raw_ws {
    raw_connection conn;
    raw_ws(live_server& s, std::optional<std::string_view> extensions) : conn(s.ioc, s.port)
    {
        conn.send(upgrade_request(extensions));
        EXPECT_TRUE(conn.wait_for("\r\n\r\n", 10s)) << conn.received();
    }
    std::vector<server_frame> frames() const { return frames_in(conn.received()); }
    bool wait_frames(std::size_t n)
    {
        return conn.wait_for([&](std::string const& b) { return frames_in(b).size() >= n; }, 20s);
    }
    void subscribe(std::string const& topic, bool compressed = false)
    {
        std::string const cmd = R"({"type":"subscribe","topic":")" + topic + R"(","id":1})";
        auto const before = frames().size();
        conn.send(compressed ? client_frame(0xC1, deflate_raw(cmd)) : client_frame(0x81, cmd));
        ASSERT_TRUE(wait_frames(before + 1)) << conn.received();
        EXPECT_EQ(json::parse(text_of(frames()[before])).value("type", ""), "ack") << text_of(frames()[before]);
    }
};

// A JSON document of about 1 KB that repeats itself, as dashboards and price lists do.
std::string price_list(int version)
{
    json rows = json::array();
    for (int i = 0; i < 12; ++i)
        rows.push_back({{"symbol", "SYM" + std::to_string(i)}, {"price", 100 + i + version}, {"currency", "EUR"},
                        {"exchange", "XETRA"}, {"updated", "2026-12-04T12:00:00Z"}});
    return json{{"version", version}, {"rows", rows}}.dump();
}

TEST(compression, the_handshake_accepts_an_offer_only_when_made_and_enabled)
{
    live_server s;
    s.start();
    {
        raw_ws ws(s, deflate_offer);
        EXPECT_NE(response_head(ws.conn.received()).find("Sec-WebSocket-Extensions: " + std::string(accepted)),
                  std::string::npos)
            << ws.conn.received();
    }
    for (std::optional<std::string_view> offer :
         {std::optional<std::string_view>{}, std::optional<std::string_view>{"permessage-deflate; server_max_window_bits=9"},
          std::optional<std::string_view>{"x-unknown"}}) {
        raw_ws ws(s, offer);
        EXPECT_NE(ws.conn.received().find("101 Switching Protocols"), std::string::npos) << ws.conn.received();
        EXPECT_EQ(response_head(ws.conn.received()).find("Sec-WebSocket-Extensions"), std::string::npos)
            << ws.conn.received();
    }

    server_options off;
    off.ws_compression = false;
    live_server plain(off);
    plain.start();
    raw_ws ws(plain, deflate_offer);
    EXPECT_NE(ws.conn.received().find("101 Switching Protocols"), std::string::npos);
    EXPECT_EQ(response_head(ws.conn.received()).find("Sec-WebSocket-Extensions"), std::string::npos);
}

TEST(compression, a_message_is_compressed_once_and_its_frame_shared_by_every_subscriber)
{
    live_server s;
    s.start();
    raw_ws a(s, deflate_offer), b(s, deflate_offer), plain(s, std::nullopt);
    for (auto* ws : {&a, &b, &plain})
        ws->subscribe("prices");
    std::size_t const acks = 1;
    std::vector<std::string> const docs = {price_list(1), price_list(2), "{\"small\":true}"};
    for (auto const& d : docs) {
        bool done = false;
        s->publish_text("prices", d, [&](boost::system::error_code ec, position) {
            EXPECT_FALSE(ec);
            done = true;
        });
        ASSERT_TRUE(s.run_until([&] { return done; }));
    }
    for (auto* ws : {&a, &b, &plain})
        ASSERT_TRUE(ws->wait_frames(acks + docs.size())) << ws->conn.received();

    for (std::size_t i = 0; i < docs.size(); ++i) {
        std::string const envelope = R"({"type":"message","topic":"prices","offset":)" + std::to_string(i + 1) +
                                     R"(,"data":)" + docs[i] + "}";
        auto const fa = a.frames()[acks + i], fb = b.frames()[acks + i], fp = plain.frames()[acks + i];
        bool const large = envelope.size() >= server_options{}.ws_compression_min_size;
        // Byte for byte the same envelope on every client, compressed only for those that asked, and only
        // when it is past the minimum size.
        EXPECT_EQ(fa.rsv1, large);
        EXPECT_FALSE(fp.rsv1);
        EXPECT_EQ(text_of(fa), envelope);
        EXPECT_EQ(fp.payload, envelope);
        EXPECT_EQ(fa.payload, fb.payload);  // the same compressed bytes
        if (large) {
            EXPECT_LT(fa.payload.size() * 3, envelope.size()) << "a repetitive 1 KB document deflates well";
        }
    }
    // Two large messages compressed once each, whatever the number of subscribers; four compressed
    // deliveries.
    EXPECT_EQ(metric(s.ioc, s.port, "switchboard_websocket_compressed_frames_total"), 2u);
    EXPECT_EQ(metric(s.ioc, s.port, "switchboard_websocket_compressed_deliveries_total"), 4u);
}

TEST(compression, compressed_client_commands_are_read_and_replies_compressed_when_large)
{
    live_server s;
    s.start();
    raw_ws ws(s, deflate_offer);
    ws.subscribe("docs", true);
    // A compressed publish, split in two frames: RSV1 on the first only.
    std::string const cmd = R"({"type":"publish","topic":"docs","id":7,"data":)" + price_list(3) + "}";
    auto const deflated = deflate_raw(cmd);
    auto const half = deflated.size() / 2;
    ws.conn.send(client_frame(0x41, deflated.substr(0, half)) + client_frame(0x80, deflated.substr(half)));
    ASSERT_TRUE(ws.wait_frames(3)) << ws.conn.received();
    std::vector<std::string> texts;
    for (auto const& f : ws.frames())
        texts.push_back(text_of(f));
    std::string const envelope = R"({"type":"message","topic":"docs","offset":1,"data":)" + price_list(3) + "}";
    EXPECT_NE(std::find(texts.begin(), texts.end(), envelope), texts.end());
    // A reply past the minimum size (the ack of a long topic's subscribe) comes compressed as well.
    std::string const topic(128, 'x');
    ws.conn.send(client_frame(0x81, R"({"type":"subscribe","topic":")" + topic + R"(","id":8})"));
    ASSERT_TRUE(ws.wait_frames(4)) << ws.conn.received();
    auto const reply = ws.frames()[3];
    EXPECT_TRUE(reply.rsv1);
    EXPECT_EQ(json::parse(text_of(reply)).value("topic", ""), topic) << text_of(reply);
}

// A WebSocket keeps a frame parser only while a message is split across its reads: each read of whole frames gets
// a new one. A frame begun before a quiet spell (the stream parked) ends after it, and a compressed command split
// in two frames, read after the quiet, is read too: the negotiation outlives the parser.
TEST(compression, a_websocket_that_went_quiet_mid_frame_or_between_messages_is_read_the_same)
{
    server_options options;
    options.ws_ping_interval = 400ms;  // ticks of 100 ms: the stream parks within 300 ms
    options.ws_pong_timeout = 20s;     // this client answers no ping: it is not dropped for that
    live_server s(options, 1);
    s.start();
    raw_ws ws(s, deflate_offer);
    auto const quiet = [&] {
        return s.run_until([&] { return s.stats().parked == 1; }, 10s);
    };
    auto const acks = [&] {
        std::size_t n = 0;
        for (auto const& f : ws.frames())
            n += f.opcode == 1 && json::parse(text_of(f)).value("type", "") == "ack";
        return n;
    };

    // Half a frame: its header and part of its payload, then quiet for two ticks and more.
    auto const frame = client_frame(0x81, R"({"type":"subscribe","topic":"a","id":1})");
    ws.conn.send(frame.substr(0, 12));
    ASSERT_TRUE(quiet());
    ws.conn.send(frame.substr(12));
    ASSERT_TRUE(ws.conn.wait_for([&](std::string const&) { return acks() == 1; }, 20s)) << ws.conn.received();

    // Quiet between messages. A compressed command, in two frames, is read after it.
    ASSERT_TRUE(quiet());
    auto const deflated = deflate_raw(R"({"type":"subscribe","topic":"b","id":2})");
    ws.conn.send(client_frame(0x41, deflated.substr(0, 3)) + client_frame(0x80, deflated.substr(3)));
    ASSERT_TRUE(ws.conn.wait_for([&](std::string const&) { return acks() == 2; }, 20s)) << ws.conn.received();
    ASSERT_TRUE(quiet());
    s.publish("b", json{{"after", "quiet"}});
    // A small message: it comes plain, its text as published.
    ASSERT_TRUE(ws.conn.wait_for(R"("data":{"after":"quiet"})", 20s)) << ws.conn.received();
    EXPECT_FALSE(close_code(ws.conn.received())) << ws.conn.received();
}

struct lie {
    char const* what;
    std::string bytes;
    std::uint16_t code;
};

TEST(compression, a_lying_client_is_closed_with_the_rfc_code_and_harms_no_one_else)
{
    live_server s;
    s.start();
    raw_ws bystander(s, deflate_offer);
    bystander.subscribe("news");

    std::string const zeros(64 << 20, '\0');
    std::vector<lie> const lies = {
        // 64 MB of zeros in about 64 KB: past max_message_size (64 KB) once inflated.
        {"zip bomb", client_frame(0xC1, deflate_raw(zeros)), 1009},
        {"invalid deflate stream", client_frame(0xC1, std::string("\xff\xff\xff", 3)), 1007},
        {"compressed text that is not UTF-8", client_frame(0xC1, deflate_raw("\"\xff\xfe\"")), 1007},
        {"RSV1 on a continuation", client_frame(0x01, "{") + client_frame(0xC0, "}"), 1002},
        {"RSV1 on a ping", client_frame(0xC9, ""), 1002},
        {"RSV2", client_frame(0xA1, "{}"), 1002},
    };
    for (auto const& l : lies) {
        SCOPED_TRACE(l.what);
        raw_ws liar(s, deflate_offer);
        liar.conn.send(l.bytes);
        ASSERT_TRUE(liar.conn.wait_for([](std::string const& b) { return close_code(b).has_value(); }, 20s))
            << liar.conn.received().size();
        EXPECT_EQ(close_code(liar.conn.received()), l.code);
        EXPECT_TRUE(liar.conn.wait_closed(20s));
    }
    // Without the extension RSV1 is a protocol error too.
    raw_ws unnegotiated(s, std::nullopt);
    unnegotiated.conn.send(client_frame(0xC1, deflate_raw("{}")));
    ASSERT_TRUE(unnegotiated.conn.wait_for([](std::string const& b) { return close_code(b).has_value(); }, 20s));
    EXPECT_EQ(close_code(unnegotiated.conn.received()), 1002);

    // The bystander still gets its messages.
    bool done = false;
    s->publish_text("news", price_list(9), [&](boost::system::error_code, position) { done = true; });
    ASSERT_TRUE(s.run_until([&] { return done; }));
    ASSERT_TRUE(bystander.wait_frames(2)) << bystander.conn.received();
    EXPECT_EQ(text_of(bystander.frames()[1]),
              R"({"type":"message","topic":"news","offset":1,"data":)" + price_list(9) + "}");
}

// Python's websockets offers permessage-deflate by default and compresses what it sends: it publishes a
// document and reads it back, and the server's metrics show the compressed delivery.
TEST(compression, python_websockets_negotiates_it_and_reads_messages_byte_for_byte)
{
    live_server s;
    s.start();
    std::string const script = R"(
import asyncio, sys, websockets

async def main():
    port, data = sys.argv[1], sys.argv[2]
    async with websockets.connect('ws://127.0.0.1:' + port + '/ws') as ws:
        print('extensions', [e.name for e in ws.extensions], flush=True)
        await ws.send('{"type":"subscribe","topic":"py","id":"sub"}')
        await ws.recv()
        await ws.send('{"type":"publish","topic":"py","id":1,"data":' + data + '}')
        while True:
            frame = await ws.recv()
            if frame.startswith('{"type":"message",'):
                print('frame', frame, flush=True)
                return

asyncio.run(asyncio.wait_for(main(), 30))
)";
    // Debian's python3-websockets is for /usr/bin/python3, not another python3 earlier on the PATH.
    server_process python("/usr/bin/python3", {"-c", script, std::to_string(s.port), price_list(4)});
    ASSERT_TRUE(s.run_until([&] { return python.exit_status().has_value(); }, 40s)) << python.output();
    ASSERT_EQ(*python.exit_status(), 0) << python.output();
    EXPECT_EQ(python.output(), "extensions ['permessage-deflate']\nframe " +
                                   std::string(R"({"type":"message","topic":"py","offset":1,"data":)") + price_list(4) +
                                   "}\n");
    EXPECT_EQ(metric(s.ioc, s.port, "switchboard_websocket_compressed_deliveries_total"), 1u);
}

}  // namespace
}  // namespace switchboard::test
