// Random HTTP/2 frames over real sockets against a real in-process server (h2c with prior knowledge): 100,000
// frames on a few thousand connections, 64 at once. Each connection opens with the preface and a SETTINGS frame,
// then mixes valid requests (GET /sse, POST /publish, GET /poll, /healthz) with malformed frames of every kind
// (random and unknown types, wrong lengths, bad stream ids, PRIORITY loops, padding past the payload, bad
// SETTINGS, WINDOW_UPDATE 0 and overflow, broken HPACK, CONTINUATION out of place and in floods, RST_STREAM on
// idle streams, GOAWAY and PUSH_PROMISE from the client, DATA on closed streams), and ends with a PING.
//
// Every connection must end cleanly within a deadline: the server acknowledges the PING (it read everything and
// answered each stream with a response or RST_STREAM), or it sends GOAWAY with an error code and closes, or it
// closes. What the server writes must be well-formed frames, starting with its SETTINGS. Afterwards no stream,
// channel or connection is left on the server, and a healthy client still gets SSE over HTTP/2 and HTTP/1.1.
// Fixed seed, fixed counts, deadlines on every wait.

#include "support/h2_frames.hpp"
#include "support/http_client.hpp"
#include "support/exchange_pool.hpp"
#include "support/live_server.hpp"
#include "support/random_input.hpp"
#include "support/raw_connection.hpp"
#include "support/sse_client.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;
using namespace h2_frames;
using nlohmann::json;
namespace asio = boost::asio;
using boost::system::error_code;

constexpr std::size_t inputs = 100'000;  // frames written, over every connection
constexpr std::size_t connections_at_once = 64;
// Neither the PING's acknowledgement nor a close by then: the server waits for bytes a frame header promised (a
// length past what was sent swallowed the PING). A filler of zeros completes any frame and then reads as DATA on
// stream 0, a connection error.
constexpr auto stall_after = 1s;
constexpr auto end_deadline = 15s;  // per connection, under ASan on a busy machine: far past every server timeout
std::string const sync_payload = "fuzzsync";
std::string const filler(16'384 + 9, '\0');

// ---- the generator ------------------------------------------------------------------------------------------

// One connection's bytes: the preface, SETTINGS, then frames. Keeps the stream ids it used, so that it can open
// new ones in order, reuse closed ones and name idle ones.
class h2_script_generator : public random_input {
public:
    explicit h2_script_generator(std::uint32_t seed) : random_input(seed) {}

    /// Preface, SETTINGS and about `frames` more frames (a few kinds write several, counted each); `written` gets
    /// the count. Two connections in three end with one frame that is a connection error (or may be: a random
    /// type on a random stream) at a random place, and nothing after it: what the server reads past a connection
    /// error it ignores. The others carry only what is at most a stream error.
    std::string next_connection(std::size_t frames, std::size_t& written)
    {
        next_id_ = 1;
        used_.clear();
        open_.clear();
        waiting_body_ = 0;
        written = 1;
        std::string out = preface + (pick(10) == 0 ? bad_settings() : settings());
        std::size_t const fatal_at = pick(3) == 0 ? frames : pick(frames);
        while (written < frames) {
            if (written >= fatal_at)
                return out + fatal_frame(written);
            out += benign_frame(written);
        }
        return out;
    }

private:
    // SETTINGS whose values RFC 9113 6.5.2 refuses, or that are merely odd (unknown ids, tiny windows).
    std::string bad_settings()
    {
        std::vector<std::pair<std::uint16_t, std::uint32_t>> entries;
        for (std::size_t i = 0, n = 1 + pick(3); i < n; ++i) {
            switch (pick(9)) {
            case 0: entries.push_back({0x2 /*ENABLE_PUSH*/, 2 + std::uint32_t(pick(100))}); break;
            case 1: entries.push_back({0x4 /*INITIAL_WINDOW_SIZE*/, 0x80000000u + std::uint32_t(pick(100))}); break;
            case 2: entries.push_back({0x5 /*MAX_FRAME_SIZE*/, pick(2) ? 16'383u : 0x1000000u}); break;
            case 3: entries.push_back({0x1 /*HEADER_TABLE_SIZE*/, pick(2) ? 0xffffffffu : 0u}); break;
            case 4: entries.push_back({0x8 /*ENABLE_CONNECT_PROTOCOL*/, 2}); break;
            case 5: entries.push_back({std::uint16_t(0x10 + pick(0xfff0)), std::uint32_t(pick(1u << 31))}); break;
            case 6: entries.push_back({0x4 /*INITIAL_WINDOW_SIZE*/, std::uint32_t(pick(3))}); break;
            case 7: entries.push_back({0x3 /*MAX_CONCURRENT_STREAMS*/, std::uint32_t(pick(3))}); break;
            default: entries.push_back({0x6 /*MAX_HEADER_LIST_SIZE*/, std::uint32_t(pick(100))}); break;
            }
        }
        return settings(entries);
    }

    std::uint32_t new_id()
    {
        std::uint32_t const id = next_id_;
        next_id_ += 2;
        used_.push_back(id);
        return id;
    }

    std::uint32_t used_id() { return used_.empty() ? 1 : used_[pick(used_.size())]; }

    // A stream the client opened and the server keeps open (an SSE stream, a POST whose body never comes):
    // frames on it are at most stream errors. nghttp2 forgets closed streams, and a frame on one is a
    // connection error (STREAM_CLOSED), as RFC 9113 5.1 allows.
    std::uint32_t open_id() { return open_[pick(open_.size())]; }
    void forget(std::uint32_t id)
    {
        std::erase(open_, id);
        if (waiting_body_ == id)
            waiting_body_ = 0;
    }

    // A stream id for a frame that does not open a stream on purpose: 0, one in use or closed, an idle one
    // (odd, past the last opened), an even one (the server's), the largest.
    std::uint32_t some_id()
    {
        switch (pick(7)) {
        case 0: return 0;
        case 1: return next_id_ + 2 * std::uint32_t(pick(8));
        case 2: return 2 * std::uint32_t(1 + pick(50));
        case 3: return 0x7fffffffu;
        default: return used_id();
        }
    }

    std::string topic() { return "f/" + std::to_string(pick(6)); }

    std::string field(std::uint8_t high_bits, unsigned prefix_bits, std::size_t v)
    {
        auto out = hpack_int(prefix_bits, v);
        out[0] = char(std::uint8_t(out[0]) | high_bits);
        return out;
    }

    // A header block nghttp2 must refuse (COMPRESSION_ERROR) or, for some, may take: broken HPACK.
    std::string broken_hpack()
    {
        switch (pick(8)) {
        case 0: return field(0x80, 7, 62 + pick(5000));                                // indexed past the table
        case 1: return field(0x20, 5, 4097 + pick(1u << 30));                          // table size update past the limit
        case 2: return "\x82\x86" + field(0x20, 5, 0);                                 // a table size update after a field
        case 3: return std::string(1, '\0') + field(0x80, 7, 8) + random_bytes(8) + literal(1, "x");  // Huffman garbage
        case 4: return std::string(1, '\0') + hpack_int(7, 1000 + pick(100000)) + "abc";  // a length past the frame
        case 5: return field(0x80, 7, 0);                                              // index 0
        case 6: return std::string(9, '\xff') + '\x01';                                 // an index past 2^64
        default: return random_bytes(1 + pick(40));
        }
    }

    // A request block without END_STREAM handling: `method` GET or POST.
    std::string request_block(std::string_view method, std::string const& path)
    {
        std::string block = method == "POST" ? "\x83" : "\x82";
        block += "\x86";
        block += literal(4, path) + literal(1, "localhost");
        if (pick(4) == 0) {
            // Through the dynamic table: a literal with incremental indexing, then its index (62).
            block += field(0x40, 6, 0) + hpack_int(7, 5) + "x-dyn" + hpack_int(7, 3) + "abc";
            block += field(0x80, 7, 62);
        }
        return block;
    }

    std::string valid_request(std::size_t& written)
    {
        std::uint32_t const id = new_id();
        switch (pick(6)) {
        case 0:
        case 1:
            ++written;
            open_.push_back(id);
            return frame(HEADERS, END_HEADERS | END_STREAM, id, request_block("GET", "/sse?topic=" + topic()));
        case 2: {
            std::string const body = R"({"n":)" + std::to_string(pick(1000)) + "}";
            written += 2;
            if (pick(3) == 0) {  // the body in two DATA frames
                ++written;
                return frame(HEADERS, END_HEADERS, id, request_block("POST", "/publish?topic=" + topic())) +
                       frame(DATA, 0, id, body.substr(0, 3)) + frame(DATA, END_STREAM, id, body.substr(3));
            }
            return frame(HEADERS, END_HEADERS, id, request_block("POST", "/publish?topic=" + topic())) +
                   frame(DATA, END_STREAM, id, body);
        }
        case 3: ++written; return frame(HEADERS, END_HEADERS | END_STREAM, id, request_block("GET", "/poll?topic=" + topic()));
        case 4: {
            // Split over HEADERS and CONTINUATION.
            auto const block = request_block("GET", "/healthz");
            written += 2;
            return frame(HEADERS, END_STREAM, id, block.substr(0, 3)) + frame(CONTINUATION, END_HEADERS, id, block.substr(3));
        }
        default: ++written; return frame(HEADERS, END_HEADERS | END_STREAM, id, request_block("GET", pick(2) ? "/healthz" : "/nowhere"));
        }
    }

    // What the server must answer with a response, RST_STREAM or nothing, keeping the connection.
    std::string benign_frame(std::size_t& written)
    {
        ++written;
        switch (pick(24)) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
        case 6:
        case 7:
        case 8:
        case 9: --written; return valid_request(written);
        case 10:
        case 11:
        case 12: {  // unknown types, any flags, any stream (RFC 9113 5.5: ignored)
            return frame(std::uint8_t(10 + pick(246)), std::uint8_t(pick(256)), some_id(), random_bytes(pick(40)));
        }
        case 13: return frame(PING, 0, 0, random_bytes(8));
        case 14: {  // PRIORITY in a loop (a on b, b on a: a reprioritization), exclusive or not, on idle streams
            ++written;
            std::uint32_t const a = next_id_ + 2 * std::uint32_t(1 + pick(4)), b = a + 2;
            return frame(PRIORITY, 0, a, be32(b | (pick(2) ? 0x80000000u : 0)) + char(pick(256))) +
                   frame(PRIORITY, 0, b, be32(a) + char(pick(256)));
        }
        case 15: {  // a stream's window past 2^31-1 (a stream error: FLOW_CONTROL_ERROR)
            if (open_.empty())
                return --written, valid_request(written);
            std::uint32_t const id = open_id();
            ++written;
            return frame(WINDOW_UPDATE, 0, id, be32(0x7fffffffu)) + frame(WINDOW_UPDATE, 0, id, be32(1 + pick(1000)));
        }
        case 16: {  // the client resets a stream of its own
            if (open_.empty())
                return --written, valid_request(written);
            std::uint32_t const id = open_id();
            forget(id);
            return frame(RST_STREAM, 0, id, be32(std::uint32_t(pick(16))));
        }
        case 17: {  // a body for the request that waits for one, in pieces, perhaps never ended
            if (waiting_body_ == 0)
                return --written, valid_request(written);
            std::uint32_t const id = waiting_body_;
            if (pick(4) != 0)
                return frame(DATA, 0, id, R"({"piece":)");
            forget(id);  // ended: answered (400), then closed
            return frame(DATA, END_STREAM, id, "1}");
        }
        case 18: {  // SETTINGS that are odd but allowed: unknown ids, tiny windows, no dynamic table
            std::vector<std::pair<std::uint16_t, std::uint32_t>> entries;
            switch (pick(4)) {
            case 0: entries.push_back({std::uint16_t(0x10 + pick(0xfff0)), std::uint32_t(pick(1u << 31))}); break;
            case 1: entries.push_back({0x4 /*INITIAL_WINDOW_SIZE*/, std::uint32_t(pick(3))}); break;
            case 2: entries.push_back({0x3 /*MAX_CONCURRENT_STREAMS*/, std::uint32_t(pick(3))}); break;
            default: entries.push_back({0x1 /*HEADER_TABLE_SIZE*/, 0}); break;
            }
            return settings(entries);
        }
        case 19: {  // a header list past the limit (431), in HEADERS and CONTINUATION
            ++written;
            std::uint32_t const id = new_id();
            return frame(HEADERS, END_STREAM, id, request_block("GET", "/healthz") + literal("x-big1", std::string(9'000, 'b'))) +
                   frame(CONTINUATION, END_HEADERS, id, literal("x-big2", std::string(9'000 + pick(1000), 'b')));
        }
        case 20: {  // a request whose body never comes (reset at the request deadline, or by the close)
            std::uint32_t const id = new_id();
            open_.push_back(id);
            waiting_body_ = id;
            return frame(HEADERS, END_HEADERS, id, request_block("POST", "/publish?topic=" + topic()));
        }
        case 21: return frame(PRIORITY, 0, pick(2) || open_.empty() ? next_id_ + 2 : open_id(), be32(0) + char(pick(256)));
        default: return frame(PING, ACK, 0, random_bytes(8));  // an acknowledgement of nothing: ignored
        }
    }

    // What is, or may be, a connection error: the server answers GOAWAY (or closes), whatever follows.
    std::string fatal_frame(std::size_t& written)
    {
        ++written;
        switch (pick(26)) {
        case 0:
        case 1: {  // any known type, any flags, any stream
            return frame(std::uint8_t(pick(10)), std::uint8_t(pick(256)), some_id(), random_bytes(pick(40)));
        }
        case 2: {  // a length wrong for the type
            switch (pick(6)) {
            case 0: return frame(PING, 0, 0, random_bytes(pick(2) ? 7 : 9));
            case 1: return frame(SETTINGS, 0, 0, random_bytes(1 + pick(5)));
            case 2: return frame(WINDOW_UPDATE, 0, some_id(), random_bytes(pick(2) ? 3 : 5));
            case 3: return frame(RST_STREAM, 0, used_id(), random_bytes(pick(2) ? 3 : 5));
            case 4: return frame(PRIORITY, 0, used_id(), random_bytes(pick(2) ? 4 : 6));
            default: return frame(SETTINGS, ACK, 0, random_bytes(6));  // an acknowledgement with a payload
            }
        }
        case 3: {  // a frame header past the maximum frame size, or promising more than follows
            std::string f = frame(std::uint8_t(pick(10)), 0, some_id(), random_bytes(pick(20)));
            std::size_t const n = pick(3) == 0 ? 16'385 + pick(1u << 23) : f.size() - 9 + 1 + pick(30);
            f[0] = char(n >> 16), f[1] = char(n >> 8), f[2] = char(n);
            return f;
        }
        case 4: {  // a stream that depends on itself
            std::uint32_t const id = pick(2) ? used_id() : next_id_;
            return frame(PRIORITY, 0, id, be32(id) + char(pick(256)));
        }
        case 5: {  // padding past the payload, on DATA or HEADERS
            std::string const payload = random_bytes(pick(10));
            std::string const padded = char(payload.size() + 1 + pick(200)) + payload;
            return frame(pick(2) ? DATA : HEADERS, PADDED | (pick(2) ? END_STREAM : 0), pick(2) ? used_id() : new_id(),
                         padded);
        }
        case 6: return bad_settings();
        case 7: {  // the connection's window: WINDOW_UPDATE 0, or past 2^31-1
            if (pick(2))
                return frame(WINDOW_UPDATE, 0, 0, be32(0));
            ++written;
            return frame(WINDOW_UPDATE, 0, 0, be32(0x7fffffffu)) + frame(WINDOW_UPDATE, 0, 0, be32(1 + pick(1000)));
        }
        case 8:
        case 9:
        case 10:
        case 11: {  // HEADERS with broken HPACK
            return frame(HEADERS, END_HEADERS | END_STREAM, new_id(), pick(2) ? broken_hpack() : "\x82\x86" + broken_hpack());
        }
        case 12: return frame(CONTINUATION, std::uint8_t(pick(2) ? END_HEADERS : 0), some_id(), random_bytes(pick(20)));
        case 13: {  // a CONTINUATION flood, one more header field each, never ended
            std::uint32_t const id = new_id();
            std::string out = frame(HEADERS, END_STREAM, id, request_block("GET", "/healthz"));
            std::size_t const n = 5 + pick(100);
            for (std::size_t i = 0; i < n; ++i)
                out += frame(CONTINUATION, 0, id, literal("x-c" + std::to_string(i), std::string(pick(200), 'c')));
            written += n;
            return out;
        }
        case 14: return frame(RST_STREAM, 0, next_id_ + 2 * std::uint32_t(pick(5)), be32(std::uint32_t(pick(16))));  // idle
        case 15: return frame(GOAWAY, 0, 0, be32(std::uint32_t(pick(2) ? 0 : pick(100))) + be32(std::uint32_t(pick(14))));
        case 16: {  // PUSH_PROMISE from a client
            return frame(PUSH_PROMISE, END_HEADERS, used_id(), be32(2 * std::uint32_t(1 + pick(10))) + "\x82\x86" + literal(4, "/"));
        }
        case 17: {  // a request whose id is not above the last (reused), or even
            std::uint32_t const id = pick(2) && !used_.empty() ? used_id() : 2 * std::uint32_t(1 + pick(50));
            return frame(HEADERS, END_HEADERS | END_STREAM, id, request_block("GET", "/healthz"));
        }
        case 18: return frame(DATA, 0, next_id_ + 2 * std::uint32_t(pick(5)), random_bytes(pick(10)));  // on an idle stream
        case 19: return frame(std::uint8_t(pick(2) ? WINDOW_UPDATE : RST_STREAM), 0, 0, be32(1));  // on stream 0
        case 20: return frame(DATA, 0, 0, random_bytes(pick(10)));  // on stream 0
        // What RFC 9113 calls stream errors, which nghttp2 makes connection errors (an endpoint may, 5.4.1).
        case 21: return frame(WINDOW_UPDATE, 0, open_.empty() ? 1 : open_id(), be32(0));
        case 22: return frame(SETTINGS, ACK, 0, "");  // an acknowledgement of nothing
        case 23:
        case 24: {  // DATA, trailers or a second HEADERS on a stream the client has ended (an SSE request)
            std::uint32_t const id = open_.empty() ? used_id() : open_id();
            return pick(2) ? frame(DATA, END_STREAM, id, "{}") : frame(HEADERS, END_HEADERS | END_STREAM, id, literal("x-t", "t"));
        }
        default: {  // DATA or trailers on a stream that is closed (or, with no stream yet, idle)
            std::uint32_t const id = used_id();
            return pick(2) ? frame(DATA, END_STREAM, id, random_bytes(pick(10))) : frame(HEADERS, END_HEADERS | END_STREAM, id, literal("x-t", "t"));
        }
        }
    }

    std::uint32_t next_id_ = 1;
    std::vector<std::uint32_t> used_;
    std::vector<std::uint32_t> open_;
    std::uint32_t waiting_body_ = 0;  // the POST whose body has not ended
};

// ---- one connection -----------------------------------------------------------------------------------------

enum class ending {
    acked,      // the server read everything, acknowledged the PING, and closed when the client did
    goaway,     // GOAWAY with an error code, then the close, before the PING was acknowledged
    closed,     // the close alone, before the PING was acknowledged
    timed_out,  // no close within the deadline
    malformed,  // the server's bytes are not HTTP/2 frames
    failed,     // could not connect
};

struct h2_result {
    ending how = ending::failed;
    bool stalled = false;  // the filler was needed
    std::vector<std::uint32_t> goaway_codes;
    std::string goaway_reason;  // nghttp2 says why in GOAWAY's debug data
    std::vector<std::uint32_t> rst_codes;
    std::size_t responses = 0;  // HEADERS frames from the server
    std::string why;
    std::string shown;
};

class h2_exchange : public std::enable_shared_from_this<h2_exchange> {
public:
    using done_handler = std::function<void(h2_result)>;

    h2_exchange(asio::io_context& ioc, std::string script, done_handler done)
        : socket_(ioc), stall_(ioc), deadline_(ioc), script_(std::move(script)), done_(std::move(done))
    {
        script_ += frame(PING, 0, 0, sync_payload);
    }

    void start(std::uint16_t port)
    {
        deadline_.expires_after(end_deadline);
        deadline_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec)
                self->finish(ending::timed_out, "no close within the deadline");
        });
        stall_.expires_after(stall_after);
        stall_.async_wait([self = shared_from_this()](error_code ec) {
            if (ec || self->finished_ || self->acked_)
                return;
            self->result_.stalled = true;
            self->write(filler);
        });
        socket_.async_connect({asio::ip::address_v4::loopback(), port}, [self = shared_from_this()](error_code ec) {
            if (self->finished_)
                return;
            if (ec)
                return self->finish(ending::failed, ec.message());
            self->write(std::move(self->script_));
            self->do_read();
        });
    }

private:
    // One write at a time, in order (the script, then the filler or the goodbye). Errors are the server's close,
    // which the read sees.
    void write(std::string bytes)
    {
        outbox_.push_back(std::move(bytes));
        if (outbox_.size() == 1)
            do_write();
    }

    void do_write()
    {
        asio::async_write(socket_, asio::buffer(outbox_.front()), [self = shared_from_this()](error_code ec, std::size_t) {
            self->outbox_.pop_front();
            if (ec || self->finished_) {
                self->outbox_.clear();
                return;
            }
            if (self->shutdown_after_ && self->outbox_.empty()) {
                error_code ignored;
                self->socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
            }
            if (!self->outbox_.empty())
                self->do_write();
        });
    }

    void do_read()
    {
        socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (self->finished_)
                return;
            self->received_.append(self->chunk_.data(), n);
            if (!self->parse())
                return;
            if (!ec)
                return self->do_read();
            // EOF or reset: the server closed. Whatever came last must be whole frames.
            if (self->consumed_ != self->received_.size())
                return self->finish(ending::malformed, "the connection closed inside a frame");
            if (self->acked_)
                return self->finish(ending::acked, {});
            self->finish(self->result_.goaway_codes.empty() ? ending::closed : ending::goaway, ec.message());
        });
    }

    /// Reads the whole frames received; false once the exchange is over.
    bool parse()
    {
        while (received_.size() - consumed_ >= 9) {
            auto const u = [&](std::size_t i) { return std::uint32_t(std::uint8_t(received_[consumed_ + i])); };
            std::size_t const n = (u(0) << 16) | (u(1) << 8) | u(2);
            if (n > 16'384) {  // the server never sends more than the default SETTINGS_MAX_FRAME_SIZE
                finish(ending::malformed, "a frame of " + std::to_string(n) + " bytes");
                return false;
            }
            if (received_.size() - consumed_ < 9 + n)
                break;
            received_frame f{std::uint8_t(u(3)), std::uint8_t(u(4)), ((u(5) & 0x7f) << 24) | (u(6) << 16) | (u(7) << 8) | u(8),
                             received_.substr(consumed_ + 9, n)};
            consumed_ += 9 + n;
            if (frames_++ == 0 && (f.type != SETTINGS || (f.flags & ACK))) {
                finish(ending::malformed, "the first frame is not the server's SETTINGS");
                return false;
            }
            if (f.type == PUSH_PROMISE || ((f.type == HEADERS || f.type == DATA) && f.stream % 2 == 0)) {
                finish(ending::malformed, "a push, or a frame on a stream the client could not have opened");
                return false;
            }
            if (f.type == HEADERS)
                ++result_.responses;
            else if (f.type == RST_STREAM)
                result_.rst_codes.push_back(code_of(f));
            else if (f.type == GOAWAY) {
                result_.goaway_codes.push_back(code_of(f));
                result_.goaway_reason = f.payload.size() > 8 ? f.payload.substr(8) : "";
            }
            else if (f.type == PING && (f.flags & ACK) && f.payload == sync_payload && !acked_) {
                // Everything was read and answered: the client leaves, and the server must close.
                acked_ = true;
                shutdown_after_ = true;
                write(frame(GOAWAY, 0, 0, be32(0) + be32(0)));
            }
        }
        return true;
    }

    void finish(ending how, std::string why)
    {
        if (finished_)
            return;
        finished_ = true;
        stall_.cancel();
        deadline_.cancel();
        error_code ignored;
        socket_.close(ignored);
        result_.how = how;
        result_.why = std::move(why);
        result_.shown = shown(received_.substr(0, 2000));
        done_(std::move(result_));
    }

    asio::ip::tcp::socket socket_;
    asio::steady_timer stall_;
    asio::steady_timer deadline_;
    std::string script_;
    done_handler done_;
    std::array<char, 16 * 1024> chunk_{};
    std::string received_;
    std::size_t consumed_ = 0;
    std::size_t frames_ = 0;
    std::deque<std::string> outbox_;
    bool shutdown_after_ = false;  // the client is leaving: EOF after the last write
    bool acked_ = false;
    bool finished_ = false;
    h2_result result_;
};

std::string_view to_string(ending e)
{
    static constexpr std::string_view names[] = {"acked", "goaway", "closed", "timed out", "malformed", "connect failed"};
    return names[static_cast<int>(e)];
}

server_options fuzz_options()
{
    server_options options;
    // Requests left incomplete are reset soon, polls answer soon, idle connections are sent away soon.
    options.request_timeout = 250ms;
    options.poll_hold = 100ms;
    return options;
}

std::optional<std::uint64_t> metric_of(live_server& srv, std::string_view name)
{
    return metric(srv.ioc, srv.port, name);
}

TEST(http2_fuzz, every_connection_of_random_frames_ends_cleanly_and_the_server_survives)
{
    auto const started = std::chrono::steady_clock::now();
    live_server srv(fuzz_options());
    srv.start();

    h2_script_generator scripts_from(9113'7541);
    std::vector<std::string> scripts;
    std::size_t frames = 0;
    while (frames < inputs) {
        std::size_t written = 0;
        scripts.push_back(scripts_from.next_connection(10 + scripts_from.pick(70), written));
        frames += written;
    }
    auto const results = exchange_all<h2_exchange, h2_result>(srv, scripts, connections_at_once, 240s);

    std::map<std::string, std::size_t> tally;
    std::size_t responses = 0, stalled = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        auto const& r = results[i];
        ASSERT_TRUE(r.how == ending::acked || r.how == ending::goaway || r.how == ending::closed)
            << "connection #" << i << ": " << to_string(r.how) << " (" << r.why << "); received " << r.shown;
        ++tally[std::string(to_string(r.how))];
        for (auto code : r.goaway_codes)
            ++tally["GOAWAY " + std::to_string(code)];
        if (std::getenv("H2_FUZZ_WHY"))  // nghttp2's reasons (GOAWAY's debug data) in the tally printed below
            ++tally["why " + r.goaway_reason];
        for (auto code : r.rst_codes)
            ++tally["RST_STREAM " + std::to_string(code)];
        responses += r.responses;
        stalled += r.stalled ? 1 : 0;
    }
    std::cout << "[          ] " << scripts.size() << " connections, " << frames << " frames; responses " << responses
              << ", stalled " << stalled << ';';
    for (auto const& [what, n] : tally)
        std::cout << ' ' << what << ": " << n << ';';
    std::cout << '\n';
    // The generator is only useful if it reaches the answers that matter.
    EXPECT_GT(tally["acked"], scripts.size() / 4);
    EXPECT_GT(tally["goaway"], scripts.size() / 10);
    for (std::string_view code : {"GOAWAY 1", "GOAWAY 3", "GOAWAY 5", "GOAWAY 6", "GOAWAY 9", "RST_STREAM 3"})
        EXPECT_GT(tally[std::string(code)], 10u) << code;
    EXPECT_GT(responses, frames / 40);

    // Nothing is left behind: every stream and connection closed, every channel gone.
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().sse == 0 && srv.stats().long_polling == 0; }, 10s))
        << srv.stats().sse << " SSE, " << srv.stats().long_polling << " polls";
    auto const deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline &&
           (metric_of(srv, "switchboard_http2_streams") != 0u || metric_of(srv, "switchboard_http2_connections") != 0u))
        (void)srv.run_until([] { return false; }, 20ms);
    EXPECT_EQ(metric_of(srv, "switchboard_http2_streams"), 0u);
    EXPECT_EQ(metric_of(srv, "switchboard_http2_connections"), 0u);

    // And it still serves: SSE over HTTP/2 and over HTTP/1.1 get a message published over each.
    raw_connection h2c(srv.ioc, srv.port);
    h2c.send(preface + settings() + request(1, "GET", "/sse?topic=after.fuzz"));
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=after.fuzz");
    ASSERT_TRUE(srv.run_until([&] { return srv->hub().subscriber_count("after.fuzz") == 2; }));
    auto const published = fetch(srv.ioc, srv.port, "POST", "/publish?topic=after.fuzz", R"({"still":"here"})");
    ASSERT_EQ(published.status, 200) << published.body;
    h2c.send(request(3, "POST", "/publish?topic=after.fuzz", false, literal(31, "application/json")) +
             frame(DATA, END_STREAM, 3, R"({"over":"h2"})"));
    ASSERT_TRUE(h2c.wait_for([](std::string const& b) {
        auto const body = data_of(b, 1);
        return body.find(R"({"still":"here"})") != std::string::npos && body.find(R"({"over":"h2"})") != std::string::npos;
    })) << shown(h2c.received());
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 2));
    EXPECT_EQ(sse->messages()[0]["data"], (json{{"still", "here"}}));
    EXPECT_EQ(sse->messages()[1]["data"], (json{{"over", "h2"}}));
    sse->close();
    h2c.close();
    std::cout << "[          ] took "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
              << " ms\n";
}

}  // namespace
}  // namespace switchboard::test
