// Random and mutated input over real sockets against a real in-process server: a few thousand raw HTTP requests,
// each on a fresh TCP connection, then a few thousand random text frames and commands on one WebSocket. Every
// request gets a well-formed HTTP response (every error the protocol's JSON error, every answer to HEAD without
// a body) or a clean close, whatever its bytes (targets that are not UTF-8, refused WebSocket handshakes); every
// frame gets the answer docs/protocol.md gives (an error frame for each frame that is not a valid command, the
// connection staying open), nothing hangs, and afterwards a subscriber on SSE and one on WebSocket still get
// what is published. Fixed seeds, fixed counts and deadlines: 3 to 5 s in a Debug build.

#include "support/exchange_pool.hpp"
#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/json_members.hpp"
#include "support/random_input.hpp"
#include "support/raw_connection.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

#include <array>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

constexpr std::size_t http_requests = 5'000;
constexpr std::size_t connections_at_once = 128;
constexpr std::size_t ws_frames = 5'000;
constexpr std::size_t frames_per_round = 250;
constexpr auto answer_deadline = std::chrono::seconds(5);  // per request: far past every server timeout below

server_options fuzz_options()
{
    server_options options;
    // Incomplete requests are cut off quickly, and polls answer quickly, so that every exchange ends soon.
    options.request_timeout = std::chrono::milliseconds(250);
    options.poll_hold = std::chrono::milliseconds(100);
    return options;
}

std::string shown(std::string_view bytes)
{
    return ::testing::PrintToString(std::string(bytes.substr(0, 400))) + (bytes.size() > 400 ? "..." : "");
}

// nlohmann's own check, the one the server's error bodies and frames go through.
bool is_utf8(std::string_view s)
{
    try {
        (void)json(std::string(s)).dump();
        return true;
    } catch (json::type_error const&) {
        return false;
    }
}

std::optional<unsigned> status_of_error(std::string_view code)
{
    // Every value of the enum has a name; past the last one, error_name falls back to "internal_error".
    for (int e = 1;; ++e) {
        auto const ec = make_error_code(static_cast<error>(e));
        if (error_name(ec) == code)
            return http_status(ec);
        if (e > static_cast<int>(error::internal_error) && error_name(ec) == "internal_error")
            return std::nullopt;
    }
}

std::string_view first_line(std::string_view bytes)
{
    return bytes.substr(0, bytes.find('\n'));
}

// Whether the server reads `request` as a HEAD: its method is HEAD and its request line is well formed, as
// Beast's parser has it (method SP target SP HTTP/1.x CRLF, the target's bytes above 0x20 and not 0x7F; a
// minor version past 1 is read as 1.1). A request line that cannot be read has no method, so the 400 refusing
// it has its body.
bool is_head(std::string_view request)
{
    if (!request.starts_with("HEAD "))
        return false;
    auto const end = request.find("\r\n");
    if (end == std::string_view::npos)
        return false;
    std::string_view const line = request.substr(5, end - 5);
    auto const space = line.find(' ');
    if (space == 0 || space == std::string_view::npos)
        return false;
    for (char c : line.substr(0, space))
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7F')
            return false;
    auto const version = line.substr(space + 1);
    return version.size() == 8 && version.starts_with("HTTP/1.") && version[7] >= '0' && version[7] <= '9';
}

// ---- one raw HTTP exchange --------------------------------------------------------------------------------

enum class ending {
    answered,   // a complete response
    streaming,  // a response head that opens a stream (101, or an SSE 200): nothing more to wait for
    closed,     // EOF before any byte: a clean refusal
    malformed,  // bytes that are not an HTTP response, or a response cut short
    reset,      // the connection failed before any byte
    timed_out,  // neither an answer nor a close within the deadline
    failed,     // could not connect
};

std::string_view to_string(ending e)
{
    static constexpr std::string_view names[] = {"answered", "streaming", "closed", "malformed", "reset", "timed out",
                                                 "connect failed"};
    return names[static_cast<int>(e)];
}

struct exchange_result {
    ending how = ending::failed;
    unsigned status = 0;
    unsigned version = 0;
    std::string content_type;
    std::string content_length;
    std::string body;
    std::string after_head;  // for HEAD: the bytes that followed the response head (none, or the next response)
    std::string received;    // the first bytes, for messages
    std::string why;
};

// Connects to 127.0.0.1:port, writes `request` as it is and reads what comes back through Beast's response
// parser, until a response is complete, a stream opens, the server closes, or the deadline passes. Reading
// starts with writing: the server may answer (and close) before it has read everything. The answer to a HEAD
// (see is_head) ends with its head; reading goes on until the close or until what follows shows whether it is a body (which
// it must not be) or the answer to a pipelined request.
class raw_exchange : public std::enable_shared_from_this<raw_exchange> {
public:
    using done_handler = std::function<void(exchange_result)>;

    raw_exchange(asio::io_context& ioc, std::string request, done_handler done)
        : socket_(ioc), timer_(ioc), request_(std::move(request)), done_(std::move(done))
    {
        parser_.eager(true);
        parser_.body_limit(64 * 1024 * 1024);
        if (is_head(request_)) {
            head_ = true;
            parser_.skip(true);
        }
    }

    void start(std::uint16_t port)
    {
        timer_.expires_after(answer_deadline);
        timer_.async_wait([self = shared_from_this()](error_code ec) {
            if (!ec)
                self->finish(ending::timed_out, "no answer and no close");
        });
        socket_.async_connect({asio::ip::address_v4::loopback(), port},
                              [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
    }

private:
    void on_connect(error_code ec)
    {
        if (finished_)
            return;
        if (ec)
            return finish(ending::failed, ec.message());
        asio::async_write(socket_, asio::buffer(request_), [self = shared_from_this()](error_code, std::size_t) {});
        do_read();
    }

    void do_read()
    {
        socket_.async_read_some(asio::buffer(chunk_),
                                [self = shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
    }

    void on_read(error_code ec, std::size_t n)
    {
        if (finished_)
            return;
        received_.append(chunk_.data(), n);
        if (n > 0 && parse())
            return;
        if (!ec)
            return do_read();
        if (ec != asio::error::eof)
            return finish(received_.empty() ? ending::reset : ending::malformed, ec.message());
        if (received_.empty())
            return finish(ending::closed, {});
        if (head_ && parser_.is_done())
            return finish(ending::answered, {});
        // A body that runs to the close is complete at EOF.
        boost::beast::error_code eof_ec;
        parser_.put_eof(eof_ec);
        if (!eof_ec && parser_.is_done())
            return finish(ending::answered, {});
        finish(ending::malformed, "the connection closed inside the response" +
                                      (eof_ec ? ": " + eof_ec.message() : std::string()));
    }

    /// Feeds what has arrived to the parser; true once the exchange is over.
    bool parse()
    {
        while (consumed_ < received_.size() && !parser_.is_done()) {
            boost::beast::error_code ec;
            auto const n = parser_.put(asio::buffer(received_.data() + consumed_, received_.size() - consumed_), ec);
            consumed_ += n;
            if (ec == http::error::need_more)
                break;
            if (ec) {
                finish(ending::malformed, ec.message());
                return true;
            }
            if (n == 0)
                break;
        }
        if (parser_.is_header_done()) {
            auto const& res = parser_.get();
            if (res.result_int() == 101 || res[http::field::content_type].starts_with("text/event-stream")) {
                finish(ending::streaming, {});
                return true;
            }
        }
        if (parser_.is_done()) {
            if (head_) {
                // Enough to tell a next response ("HTTP/1.x ...") from a body, or the close, ends it.
                std::string_view const after(received_.data() + consumed_, received_.size() - consumed_);
                if (after.size() < 7 && std::string_view("HTTP/1.").starts_with(after))
                    return false;
            }
            finish(ending::answered, {});
            return true;
        }
        return false;
    }

    void finish(ending how, std::string why)
    {
        if (finished_)
            return;
        finished_ = true;
        timer_.cancel();
        error_code ignored;
        socket_.close(ignored);

        exchange_result r;
        r.how = how;
        r.why = std::move(why);
        r.received = received_.substr(0, 600);
        if (parser_.is_header_done()) {
            auto const& res = parser_.get();
            r.status = res.result_int();
            r.version = res.version();
            r.content_type = std::string(res[http::field::content_type]);
            r.content_length = std::string(res[http::field::content_length]);
            r.body = res.body();
            if (head_ && parser_.is_done())
                r.after_head = received_.substr(consumed_, 600);
        }
        done_(std::move(r));
    }

    asio::ip::tcp::socket socket_;
    asio::steady_timer timer_;
    std::string request_;
    done_handler done_;
    std::array<char, 16 * 1024> chunk_{};
    std::string received_;
    std::size_t consumed_ = 0;
    http::response_parser<http::string_body> parser_;
    bool head_ = false;
    bool finished_ = false;
};

// ---- generating requests ----------------------------------------------------------------------------------

class request_generator : public random_input {
public:
    explicit request_generator(std::uint32_t seed) : random_input(seed) {}

    std::string next()
    {
        switch (pick(10)) {
        case 0: return random_bytes(pick(300));
        case 1: return random_from("GET POST /sse/poll/ws/publish?topic=&since=%HTTP/1.1\r\n: ", pick(200));
        case 2:
        case 3:
        case 4: return mutate(valid_request());
        default: return valid_request();
        }
    }

private:
    // Topics of their own ("h/..."), apart from the WebSocket phase's.
    std::string topic()
    {
        switch (pick(8)) {
        case 0: return "h/" + random_from(topic_chars, 1 + pick(20));
        case 1: return std::string(pick(2) ? "h/bad%20topic" : "h/caf%C3%A9");
        default: return "h/" + std::to_string(pick(6));
        }
    }

    std::string cursor()
    {
        switch (pick(4)) {
        case 0: return random_from("0123456789.,abcXYZ/:%-", pick(30));
        default: return std::to_string(pick(5)) + "." + random_from("abcXYZ019", pick(12)) + "." + topic();
        }
    }

    // Bytes above 0x7F that are not UTF-8 (a stray continuation byte, a character cut short, 0xFF), in the
    // path or in the query: Beast lets them into a target.
    std::string not_utf8()
    {
        static constexpr std::string_view bad[] = {"\xFF", "\x80", "\xC3", "\xE2\x82", "\xF0\x9D\x84", "\xC0\xAF",
                                                   "\xED\xA0\x80", "\xFE"};
        std::string out(bad[pick(std::size(bad))]);
        if (pick(2))
            out = random_from("abc", pick(3)) + out + random_from("xyz", pick(3));
        return out;
    }

    std::string non_utf8_target()
    {
        switch (pick(6)) {
        case 0:
        case 1: return "/" + not_utf8();
        case 2: return "/sse" + not_utf8() + "?topic=" + topic();
        case 3: return "/sse?topic=h/" + not_utf8();
        case 4: return "/poll?topic=" + topic() + "&cursor=1.e." + not_utf8();
        default: return "/ws/" + not_utf8();
        }
    }

    std::string target()
    {
        switch (pick(13)) {
        case 0:
        case 1:
        case 2: {
            std::string t = "/sse?topic=" + topic();
            if (pick(3) == 0)
                t += "&topic=" + topic();
            if (pick(3) == 0)
                t += "&since=" + cursor();
            return t;
        }
        case 3:
        case 4: return "/poll?topic=" + topic() + (pick(2) ? "&cursor=" + cursor() : "");
        case 5:
        case 6: return "/publish?topic=" + topic();
        case 7:
        case 8: return "/ws";
        case 9: return pick(2) ? "/nowhere" : "/";
        case 10: return pick(2) ? "*" : "/sse?topic=a%zz";
        case 11: return non_utf8_target();
        default: return "/poll?" + random_from("topic=&%2Fab", pick(40));
        }
    }

    // The handshake headers of a /ws upgrade: mostly right, else a key missing or not 24 characters, or a
    // version other than 13 or none.
    std::string handshake_headers()
    {
        std::string out = "Connection: Upgrade\r\nUpgrade: websocket\r\n";
        switch (pick(10)) {
        case 0: break;
        case 1: out += "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n"; break;          // 16 characters
        case 2: out += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==x\r\n"; break;  // 25
        case 3: out += "Sec-WebSocket-Key: \r\n"; break;
        default: out += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"; break;
        }
        switch (pick(8)) {
        case 0: out += "Sec-WebSocket-Version: 8\r\n"; break;
        case 1: break;
        case 2: out += pick(2) ? "Sec-WebSocket-Version: 14\r\n" : "Sec-WebSocket-Version: 13, 8\r\n"; break;
        default: out += "Sec-WebSocket-Version: 13\r\n"; break;
        }
        return out;
    }

    std::string body()
    {
        switch (pick(8)) {
        case 0: return "";
        case 1: return "{oops";
        case 2: return "\"" + std::string(pick(10) == 0 ? 70'000 : pick(2000), 'x') + "\"";
        case 3: return std::string(100, '[') + std::string(100, ']');
        default: return R"({"n":)" + std::to_string(pick(1000)) + R"(,"s":"caf\u00e9"})";
        }
    }

    std::string valid_request()
    {
        static constexpr std::string_view methods[] = {"GET", "GET", "GET", "POST", "HEAD", "HEAD", "DELETE", "PUT", "OPTIONS"};
        std::string const target_text = target();
        std::string method(methods[pick(std::size(methods))]);
        if (pick(5) != 0)  // mostly the method the path wants
            method = target_text.starts_with("/publish") ? "POST" : "GET";
        std::string out = method + " " + target_text + (pick(10) == 0 ? " HTTP/1.0" : " HTTP/1.1") + "\r\n";
        if (pick(10) != 0)
            out += "Host: 127.0.0.1\r\n";
        if (target_text == "/ws" && pick(5) != 0)
            out += handshake_headers();
        else if (pick(3) != 0)
            out += pick(2) ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
        if (pick(4) == 0)
            out += "Last-Event-ID: " + cursor() + "\r\n";
        for (std::size_t i = 0, n = pick(3); i < n; ++i)
            out += "X-" + random_from("abcdefgh", 1 + pick(6)) + ": " + random_from("abc 123=;,\t\"", pick(30)) + "\r\n";
        if (pick(40) == 0)
            out += "X-Big: " + std::string(9'000, 'h') + "\r\n";
        if (method == "POST" || pick(10) == 0) {
            std::string const b = body();
            out += "Content-Type: application/json\r\n";
            if (pick(6) == 0) {
                // Chunked, sometimes with a lying chunk size.
                std::size_t const declared = pick(4) == 0 ? b.size() + pick(3) : b.size();
                char hex[32];
                std::snprintf(hex, sizeof hex, "%zx", declared);
                return out + "Transfer-Encoding: chunked\r\n\r\n" + (b.empty() ? "" : std::string(hex) + "\r\n" + b + "\r\n") +
                       "0\r\n\r\n";
            }
            std::size_t const length = pick(6) == 0 ? b.size() + pick(5) : b.size();  // sometimes more than sent
            return out + "Content-Length: " + std::to_string(length) + "\r\n\r\n" + b;
        }
        return out + "\r\n";
    }

    std::string mutate(std::string s)
    {
        std::size_t const edits = 1 + pick(4);
        for (std::size_t i = 0; i < edits; ++i) {
            std::size_t const at = s.empty() ? 0 : pick(s.size() + 1);
            switch (pick(8)) {
            case 0: s.insert(at, pick(2) ? "\r\n" : std::string(1, static_cast<char>(pick(256)))); break;
            case 1:
                if (at < s.size())
                    s.erase(at, 1 + pick(6));
                break;
            case 2:
                if (at < s.size())
                    s[at] = static_cast<char>(pick(256));
                break;
            case 3:
                if (at < s.size())
                    s[at] = static_cast<char>(s[at] ^ (1 << pick(8)));
                break;
            case 4:
                if (!s.empty()) {  // often a second request, or a repeated header
                    std::size_t const from = pick(s.size());
                    s.insert(at, s.substr(from, 1 + pick(s.size() - from)));
                }
                break;
            case 5: s.resize(at); break;
            case 6: s.insert(at, std::string(1, " :/?%\t"[pick(6)])); break;
            default: s.insert(at, random_bytes(1 + pick(8))); break;
            }
        }
        return s;
    }
};

// The target of a request line ("GET /x HTTP/1.1"): what lies between its first and its last space.
std::string_view target_of(std::string_view request)
{
    auto const line = first_line(request);
    auto const first = line.find(' ');
    auto const last = line.rfind(' ');
    return first < last ? line.substr(first + 1, last - first - 1) : std::string_view();
}

struct http_tally {
    std::map<std::string, std::size_t> outcomes;  // "answered 404", "closed", ...
    std::size_t non_utf8_targets = 0;             // answered requests whose target is not UTF-8
    std::size_t head_answers = 0;                 // answers to HEAD
    std::size_t handshake_refusals = 0;           // /ws upgrades refused with 400
};

// The answer to one request is clean: a complete, well-formed response with an expected status (and for
// errors, the JSON error body with the code matching the status), an opened stream, or a close. The answer
// to a HEAD has no body, but the Content-Length of the answer a GET would get.
void expect_clean(std::size_t i, std::string const& request, exchange_result const& r, http_tally& tally)
{
    auto const where = [&] {
        return ::testing::Message() << "request #" << i << ": " << shown(request) << "\n  got (" << to_string(r.how)
                                    << (r.why.empty() ? "" : ": " + r.why) << "): " << shown(r.received);
    };
    if (r.how == ending::closed) {
        ++tally.outcomes["closed"];
        return;
    }
    ASSERT_TRUE(r.how == ending::answered || r.how == ending::streaming) << where();
    ++tally.outcomes[std::string(to_string(r.how)) + " " + std::to_string(r.status)];

    bool const asked_10 = first_line(request).ends_with("HTTP/1.0\r") || first_line(request).ends_with("HTTP/1.0");
    EXPECT_TRUE(r.version == 11 || (r.version == 10 && asked_10)) << "HTTP/" << r.version / 10 << "." << r.version % 10
                                                                   << ", " << where();
    // 501 and 505: a transfer coding or a version a mutation made up.
    EXPECT_TRUE(r.status == 101 || (r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500) ||
                r.status == 501 || r.status == 505)
        << where();
    if (r.how == ending::streaming) {
        EXPECT_TRUE(r.status == 101 || (r.status == 200 && r.content_type.starts_with("text/event-stream"))) << where();
        return;
    }
    if (!is_utf8(target_of(request)))
        ++tally.non_utf8_targets;
    if (r.status == 400 && first_line(request).starts_with("GET /ws ") &&
        request.find("Upgrade: websocket\r\n") != std::string::npos)
        ++tally.handshake_refusals;
    if (r.content_type != "application/json") {
        // Not the protocol's error (which every HTTP error is, docs/protocol.md): reported, and the run goes on.
        ADD_FAILURE() << "Content-Type " << shown(r.content_type) << ", not application/json, " << where();
        return;
    }
    if (is_head(request)) {
        ++tally.head_answers;
        EXPECT_TRUE(r.body.empty()) << where();
        EXPECT_TRUE(r.after_head.empty() || r.after_head.starts_with("HTTP/1."))
            << "a body after the answer to HEAD: " << shown(r.after_head) << ", " << where();
        if (r.status >= 400) {
            // The refusal a GET would get has a JSON body: its head gives that body's length.
            EXPECT_TRUE(!r.content_length.empty() && r.content_length != "0" &&
                        r.content_length.find_first_not_of("0123456789") == std::string::npos)
                << "Content-Length " << shown(r.content_length) << ", " << where();
        } else {
            // A poll's head: its answer is not written yet, so its length is not known.
            EXPECT_TRUE(r.content_length.empty()) << "Content-Length " << shown(r.content_length) << ", " << where();
        }
        return;
    }
    auto const body = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << where();
    if (r.status >= 400) {
        ASSERT_TRUE(body.contains("error") && body["error"].is_object()) << where();
        auto const& e = body["error"];
        ASSERT_TRUE(e.contains("code") && e["code"].is_string() && e.contains("message") && e["message"].is_string())
            << where();
        EXPECT_FALSE(e["message"].get<std::string>().empty()) << where();
        EXPECT_EQ(status_of_error(e["code"].get<std::string>()), r.status) << where();
    } else if (body.contains("messages")) {
        EXPECT_TRUE(body["messages"].is_array() && body["cursor"].is_string()) << where();
    } else {
        EXPECT_TRUE(body["topic"].is_string() && body["offset"].is_number_unsigned() && body["epoch"].is_string())
            << where();
    }
}

// ---- WebSocket frames and the protocol's answer to each ---------------------------------------------------

std::size_t depth_of(json const& j)
{
    if (!j.is_structured())
        return 0;
    std::size_t deepest = 0;
    for (auto const& child : j)
        deepest = std::max(deepest, depth_of(child));
    return 1 + deepest;
}

bool is_topic(std::string const& s)
{
    static constexpr std::string_view allowed =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@/-";
    return !s.empty() && s.size() <= 128 && s.find_first_not_of(allowed) == std::string::npos;
}

bool is_epoch(std::string const& s)
{
    static constexpr std::string_view allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    return s.size() <= 32 && s.find_first_not_of(allowed) == std::string::npos;
}

struct ws_frame {
    std::string payload;
    bool binary = false;
};

struct expected_answer {
    enum class kind { error, pong, subscribe, unsubscribe, publish };
    kind what = kind::error;
    std::string code;  // error
    std::optional<json> id;
    std::string topic;
    bool resuming = false;   // subscribe with since: replayed messages may follow the ack
    bool delivered = false;  // publish to a topic this connection is subscribed to
    std::uint64_t offset = 0;
    json data;
    std::size_t depth = 0;  // of a text frame that is JSON
    std::string type;       // when it is a string
};

// What the connection knows: the protocol's state, and each topic's last offset.
struct ws_model {
    std::size_t max_subscriptions = 128;
    std::size_t max_message_size = 64 * 1024;
    std::set<std::string> subscribed;
    std::map<std::string, std::uint64_t> last_offset;

    expected_answer answer(ws_frame const& f)
    {
        expected_answer out;
        auto const refuse = [&out](std::string code) {
            out.code = std::move(code);
            return out;
        };
        if (f.payload.size() > max_message_size)
            return refuse("message_too_large");
        // The generator's binary frames are random bytes: never a publish command, a line feed and data
        // (payload_test.cpp sends those), so the answer is the binary frame's invalid_json.
        if (f.binary)
            return refuse("invalid_json");
        json const j = json::parse(f.payload, nullptr, false);
        if (j.is_discarded())
            return refuse("invalid_json");
        // More than 64 levels of containers, every one counted (an empty innermost one too).
        out.depth = depth_of(j);
        if (out.depth > 64 || !j.is_object())
            return refuse("invalid_json");
        if (j.contains("id") && (j["id"].is_number() || j["id"].is_string()))
            out.id = j["id"];
        if (!j.contains("type") || !j["type"].is_string())
            return refuse("missing_field");
        auto const type = j["type"].get<std::string>();
        out.type = type;
        if (type == "ping") {
            out.what = expected_answer::kind::pong;
            return out;
        }
        if (type != "subscribe" && type != "unsubscribe" && type != "publish")
            return refuse("unknown_type");
        if (!j.contains("topic") || !j["topic"].is_string())
            return refuse("missing_field");
        out.topic = j["topic"].get<std::string>();
        if (!is_topic(out.topic))
            return refuse("invalid_topic");
        if (type == "subscribe") {
            if (j.contains("since")) {
                auto const& s = j["since"];
                if (!s.is_object() || !s.contains("offset") || !s["offset"].is_number_unsigned() || !s.contains("epoch") ||
                    !s["epoch"].is_string() || !is_epoch(s["epoch"].get<std::string>()))
                    return refuse("invalid_cursor");
                out.resuming = true;
            }
            if (!subscribed.contains(out.topic) && subscribed.size() >= max_subscriptions)
                return refuse("too_many_topics");
            subscribed.insert(out.topic);
            out.what = expected_answer::kind::subscribe;
            out.offset = last_offset[out.topic];
            return out;
        }
        if (type == "unsubscribe") {
            subscribed.erase(out.topic);
            out.what = expected_answer::kind::unsubscribe;
            return out;
        }
        // The data is the text of the one "data" member, delivered as written; SSE could not carry a raw CR in it.
        auto const data = member_values(f.payload, "data");
        if (data.empty())
            return refuse("missing_field");
        if (data.size() > 1 || data[0].find('\r') != std::string_view::npos)
            return refuse("invalid_json");
        out.data = json::parse(data[0]);
        out.what = expected_answer::kind::publish;
        out.delivered = subscribed.contains(out.topic);
        out.offset = ++last_offset[out.topic];
        return out;
    }
};

// A type longer than the 64 bytes an unknown_type message quotes, whose 65th byte is inside a character.
bool cut_inside_a_character(std::string const& type)
{
    return type.size() > 64 && (static_cast<unsigned char>(type[64]) & 0xC0) == 0x80;
}

class frame_generator : public random_input {
public:
    explicit frame_generator(std::uint32_t seed) : random_input(seed) {}

    ws_frame next()
    {
        switch (pick(50)) {
        case 0: {
            ws_frame f{std::string(1 + pick(200), '\0'), true};
            for (auto& c : f.payload)
                c = static_cast<char>(pick(256));
            return f;
        }
        case 1: return {R"({"type":"publish","topic":"w/0","data":")" + std::string(64 * 1024, 'x') + "\"}"};
        case 2:
        case 3: {
            // At the nesting bound: the command object and 62 to 64 more levels, the innermost maybe empty.
            json c = {{"type", "publish"}, {"topic", topic()}, {"data", deep(62 + pick(3), pick(3) != 0)}};
            if (pick(2))
                c["id"] = pick(1000);
            return {c.dump()};
        }
        case 4:
        case 5: {
            json c = valid_command();
            c["type"] = long_type();
            return {c.dump()};
        }
        default: break;
        }
        switch (pick(10)) {
        case 0: return {random_text(pick(60))};
        case 1: return {random_value(2).dump()};
        case 2:
        case 3: return {valid_command().dump()};
        case 4:
        case 5:
        case 6: return {with_one_field_changed()};
        default: return {mutate(valid_command().dump())};
        }
    }

private:
    // UTF-8 text (a text frame must be): JSON punctuation, letters, and characters of every width.
    std::string random_text(std::size_t n)
    {
        static constexpr std::string_view ascii = R"({}[]":,0123456789.-+eE tfnrul\pingtypeidsubscribe/)";
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            switch (pick(8)) {
            case 0: append_utf8(out, static_cast<std::uint32_t>(0x80 + pick(0x800 - 0x80))); break;
            case 1: append_utf8(out, static_cast<std::uint32_t>(0xE000 + pick(0x10000 - 0xE000))); break;
            case 2: append_utf8(out, static_cast<std::uint32_t>(0x10000 + pick(0x110000 - 0x10000))); break;
            default: out += ascii[pick(ascii.size())]; break;
            }
        }
        return out;
    }

    std::string random_string() { return pick(4) == 0 ? random_text(pick(80)) : random_text(pick(8)); }

    // A pool of the WebSocket phase's own topics, so that subscriptions and publishes meet.
    std::string topic() { return pick(10) == 0 ? "w/" + std::string(1 + pick(20), topic_chars[pick(60)]) : "w/" + std::to_string(pick(8)); }

    json random_number()
    {
        switch (pick(6)) {
        case 0: return pick(1000);
        case 1: return -static_cast<std::int64_t>(1 + pick(1000));
        case 2: return std::numeric_limits<std::uint64_t>::max() - pick(2);
        case 3: return static_cast<double>(pick(1000)) / 8.0;
        case 4: return 1e300;
        default: return -0.0;
        }
    }

    json random_value(int depth)
    {
        switch (pick(depth > 0 ? 7 : 5)) {
        case 0: return nullptr;
        case 1: return pick(2) == 1;
        case 2: return random_number();
        case 3:
        case 4: return random_string();
        case 5: {
            json a = json::array();
            for (std::size_t i = 0, n = pick(4); i < n; ++i)
                a.push_back(random_value(depth - 1));
            return a;
        }
        default: {
            static constexpr std::string_view keys[] = {"type", "topic", "id", "since", "data", "offset", "epoch"};
            json o = json::object();
            for (std::size_t i = 0, n = pick(4); i < n; ++i)
                o[pick(2) ? std::string(keys[pick(std::size(keys))]) : random_string()] = random_value(depth - 1);
            return o;
        }
        }
    }

    json valid_command()
    {
        static constexpr std::string_view types[] = {"subscribe", "subscribe", "unsubscribe", "publish", "publish", "ping"};
        json c = {{"type", std::string(types[pick(std::size(types))])}};
        if (pick(3) != 0)
            c["id"] = pick(4) == 0 ? json(random_string()) : random_number();
        if (c["type"] == "ping")
            return c;
        c["topic"] = topic();
        if (c["type"] == "subscribe" && pick(4) == 0)
            c["since"] = {{"offset", pick(5)}, {"epoch", pick(3) == 0 ? std::string() : std::string("e") + std::to_string(pick(9))}};
        if (c["type"] == "publish")
            c["data"] = random_value(2);
        return c;
    }

    // `levels` arrays (now and then objects) around 1, or around an empty array or object (one level more).
    json deep(std::size_t levels, bool empty_innermost = false)
    {
        json v = !empty_innermost ? json(1) : pick(2) ? json::array() : json::object();
        bool const objects = pick(4) == 0;
        for (std::size_t i = 0; i < levels; ++i)
            v = objects && pick(2) ? json{{"a", std::move(v)}} : json::array({std::move(v)});
        return v;
    }

    // An unknown type longer than the 64 bytes its error message quotes, with a multi-byte character at or
    // around byte 64.
    std::string long_type()
    {
        static constexpr std::string_view wide[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E"};
        std::string out(60 + pick(5), "aZ_"[pick(3)]);
        for (std::size_t i = 0, n = 1 + pick(4); i < n; ++i)
            out += wide[pick(std::size(wide))];
        return out + random_text(pick(20));
    }

    json odd_value()
    {
        switch (pick(10)) {
        case 0: return nullptr;
        case 1: return random_number();
        case 2: return random_string();
        case 3: return std::string(129 + pick(3), 'a');
        case 4: return json::array({random_value(1)});
        case 5: return random_value(2);
        case 6: return {{"offset", random_number()}, {"epoch", pick(2) ? json(random_string()) : random_value(1)}};
        case 7: return deep(pick(3) == 0 ? 60 + pick(8) : pick(2) ? pick(40) : 100 + pick(200), pick(2) == 1);
        case 8: return "w/" + random_string();
        default: return std::string(pick(2) ? "Subscribe" : "ping ");
        }
    }

    std::string with_one_field_changed()
    {
        static constexpr std::string_view fields[] = {"type", "topic", "id", "since", "data", "offset", "epoch"};
        json c = valid_command();
        std::string const field(fields[pick(std::size(fields))]);
        json* target = &c;
        if (field == "offset" || field == "epoch") {
            c["since"] = {{"offset", 1}, {"epoch", "e"}};
            target = &c["since"];
        }
        if (pick(4) == 0)
            target->erase(field);
        else
            (*target)[field] = odd_value();
        return c.dump();
    }

    // Byte edits that keep the text UTF-8: ASCII replaces ASCII only, cuts fall between characters.
    std::string mutate(std::string s)
    {
        auto const boundary = [&s](std::size_t at) {
            return at >= s.size() || (static_cast<unsigned char>(s[at]) & 0xC0) != 0x80;
        };
        static constexpr std::string_view structural = R"({}[]":,\0-.e )";
        for (std::size_t i = 0, edits = 1 + pick(3); i < edits; ++i) {
            std::size_t const at = s.empty() ? 0 : pick(s.size() + 1);
            switch (pick(5)) {
            case 0:
                if (boundary(at))
                    s.insert(at, 1, structural[pick(structural.size())]);
                break;
            case 1:
                if (at < s.size() && static_cast<unsigned char>(s[at]) < 0x80)
                    s[at] = structural[pick(structural.size())];
                break;
            case 2: {
                std::size_t end = std::min(s.size(), at + 1 + pick(4));
                while (!boundary(end))
                    ++end;
                if (boundary(at))
                    s.erase(at, end - at);
                break;
            }
            case 3:
                if (boundary(at))
                    s.resize(at);
                break;
            default: {
                std::string const piece = random_text(1 + pick(3));
                if (boundary(at))
                    s.insert(at, piece);
                break;
            }
            }
        }
        return s;
    }
};

// Checks the items a frame was answered with (everything between two sync pongs) against the model's answer.
void expect_answer(std::size_t i, ws_frame const& f, expected_answer const& e, std::vector<json> const& items,
                   std::map<std::string, std::string>& epochs)
{
    auto const where = [&] {
        return ::testing::Message() << "frame #" << i << (f.binary ? " (binary)" : "") << ": " << shown(f.payload)
                                    << "\n  answered: " << shown(json(items).dump());
    };
    auto const expect_id = [&](json const& item) {
        if (e.id) {
            EXPECT_TRUE(item.contains("id") && item["id"] == *e.id) << where();
        } else {
            EXPECT_FALSE(item.contains("id")) << where();
        }
    };
    auto const expect_epoch = [&](json const& item) {
        ASSERT_TRUE(item.contains("epoch") && item["epoch"].is_string()) << where();
        auto const [it, first] = epochs.emplace(e.topic, item["epoch"].get<std::string>());
        EXPECT_EQ(item["epoch"], it->second) << "the epoch changed, " << where();
    };

    switch (e.what) {
    case expected_answer::kind::error: {
        ASSERT_EQ(items.size(), 1u) << "one error frame expected (" << e.code << "), " << where();
        auto const& err = items[0];
        ASSERT_TRUE(err.is_object()) << where();
        EXPECT_EQ(err.value("type", ""), "error") << where();
        EXPECT_EQ(err.value("code", ""), e.code) << where();
        EXPECT_TRUE(err.contains("message") && err["message"].is_string() && !err["message"].empty()) << where();
        expect_id(err);
        return;
    }
    case expected_answer::kind::pong:
        ASSERT_EQ(items.size(), 1u) << where();
        EXPECT_EQ(items[0].value("type", ""), "pong") << where();
        expect_id(items[0]);
        return;
    case expected_answer::kind::unsubscribe:
        if (!e.id) {
            EXPECT_TRUE(items.empty()) << where();
            return;
        }
        ASSERT_EQ(items.size(), 1u) << where();
        EXPECT_EQ(items[0], (json{{"type", "ack"}, {"id", *e.id}, {"topic", e.topic}})) << where();
        return;
    case expected_answer::kind::subscribe: {
        // Always acknowledged; replayed messages of this topic (only) may follow when resuming.
        ASSERT_FALSE(items.empty()) << where();
        auto const& ack = items[0];
        EXPECT_EQ(ack.value("type", ""), "ack") << where();
        EXPECT_EQ(ack.value("topic", ""), e.topic) << where();
        EXPECT_EQ(ack.value("offset", std::uint64_t{0}), e.offset) << where();
        EXPECT_EQ(ack.contains("recovered"), e.resuming) << where();
        expect_id(ack);
        expect_epoch(ack);
        std::uint64_t previous = 0;
        for (std::size_t k = 1; k < items.size(); ++k) {
            EXPECT_TRUE(e.resuming) << where();
            EXPECT_EQ(items[k].value("type", ""), "message") << where();
            EXPECT_EQ(items[k].value("topic", ""), e.topic) << where();
            auto const offset = items[k].value("offset", std::uint64_t{0});
            EXPECT_TRUE(offset > previous && offset <= e.offset) << where();
            previous = offset;
        }
        return;
    }
    case expected_answer::kind::publish: {
        std::size_t acks = 0, messages = 0;
        for (auto const& item : items) {
            if (item.value("type", "") == "ack") {
                ++acks;
                EXPECT_EQ(item.value("topic", ""), e.topic) << where();
                EXPECT_EQ(item.value("offset", std::uint64_t{0}), e.offset) << where();
                expect_id(item);
                expect_epoch(item);
            } else {
                ++messages;
                EXPECT_EQ(item, (json{{"type", "message"}, {"topic", e.topic}, {"offset", e.offset}, {"data", e.data}}))
                    << where();
            }
        }
        EXPECT_EQ(acks, e.id ? 1u : 0u) << where();
        EXPECT_EQ(messages, e.delivered ? 1u : 0u) << where();
        return;
    }
    }
}

// ---- the tests --------------------------------------------------------------------------------------------

class wire_fuzz : public ::testing::Test {
protected:
    void SetUp() override
    {
        srv = std::make_unique<live_server>(fuzz_options());
        srv->start();
    }

    void TearDown() override
    {
        if (ws)
            ws->close();
        ws.reset();  // clients go before the io_context they run on
        srv.reset();
    }

    // (a) Raw HTTP requests, each on its own connection.
    void raw_http_requests()
    {
        request_generator requests_from(80'001);
        std::vector<std::string> requests;
        for (std::size_t i = 0; i < http_requests; ++i)
            requests.push_back(requests_from.next());
        auto const results =
            exchange_all<raw_exchange, exchange_result>(*srv, requests, connections_at_once, std::chrono::seconds(60));
        http_tally tally;
        for (std::size_t i = 0; i < requests.size(); ++i) {
            expect_clean(i, requests[i], results[i], tally);
            if (HasFatalFailure())
                return;
        }
        // The generator is only useful if it reaches every kind of answer.
        for (std::string_view outcome : {"closed", "streaming 101", "streaming 200", "answered 200", "answered 400",
                                         "answered 404", "answered 405"})
            EXPECT_GT(tally.outcomes[std::string(outcome)], 50u) << outcome;
        EXPECT_GT(tally.non_utf8_targets, 100u);
        EXPECT_GT(tally.head_answers, 50u);
        EXPECT_GT(tally.handshake_refusals, 50u);
        std::cout << "[          ] answers to targets that are not UTF-8 " << tally.non_utf8_targets << ", to HEAD "
                  << tally.head_answers << ", handshakes refused " << tally.handshake_refusals << '\n';
    }

    // (b) Random frames and commands on one WebSocket, each followed by a ping whose pong ends its answer.
    void websocket_frames()
    {
        ws_model model;
        for (int t = 0; t < 8; ++t) {
            // Start from each topic's position (the HTTP phase may have published anywhere).
            std::string const topic = "w/" + std::to_string(t);
            (*srv)->backplane().history(topic, std::nullopt, 0, [&](error_code, history_result r) {
                model.last_offset[topic] = r.latest.offset;
            });
        }
        ws = ws_client::create(srv->ioc);
        ws->connect(srv->port);
        ASSERT_TRUE(ws->wait_open(srv->ioc));

        frame_generator frames_from(6455'13);
        std::map<std::string, std::string> epochs;
        std::map<std::string, std::size_t> answers;
        std::size_t read = 0;
        for (std::size_t round = 0; round < ws_frames / frames_per_round; ++round) {
            std::vector<ws_frame> frames;
            std::vector<expected_answer> expected;
            while (frames.size() < frames_per_round) {
                auto f = frames_from.next();
                expected.push_back(model.answer(f));
                f.binary ? ws->send_binary(f.payload) : ws->send_text(f.payload);
                ws->send_json({{"type", "ping"}, {"id", sync_id(round * frames_per_round + frames.size())}});
                frames.push_back(std::move(f));
            }
            ASSERT_TRUE(ws->wait_reply(srv->ioc, sync_id(round * frames_per_round + frames_per_round - 1),
                                       std::chrono::seconds(20)))
                << "round " << round << ": no answer to the last frame; connection open: " << ws->is_open();

            auto const& got = ws->received();
            for (std::size_t k = 0; k < frames.size(); ++k) {
                std::size_t const i = round * frames_per_round + k;
                json const sync = {{"type", "pong"}, {"id", sync_id(i)}};
                std::vector<json> items;
                while (read < got.size() && got[read] != sync)
                    items.push_back(got[read++]);
                ASSERT_LT(read, got.size()) << "frame #" << i << ": its sync pong is missing";
                ++read;
                expect_answer(i, frames[k], expected[k], items, epochs);
                if (HasFatalFailure())
                    return;
                auto const& e = expected[k];
                ++answers[e.what == expected_answer::kind::error ? e.code : "ok"];
                answers["binary frame refused"] += frames[k].binary && e.code == "invalid_json" ? 1 : 0;
                answers["nested 64 levels"] += e.depth == 64 ? 1 : 0;
                answers["nested 65 levels"] += e.depth == 65 ? 1 : 0;
                answers["unknown type cut inside a character"] +=
                    e.code == "unknown_type" && cut_inside_a_character(e.type) ? 1 : 0;
            }
        }
        EXPECT_TRUE(ws->is_open()) << "close code " << ws->close_code() << " " << ws->close_reason();
        std::cout << "[          ]";
        for (auto const& [answer, n] : answers)
            std::cout << ' ' << answer << ": " << n << ';';
        std::cout << '\n';
        // The generator is only useful if it reaches every answer, and the edges.
        for (std::string_view answer : {"invalid_json", "missing_field", "unknown_type", "invalid_topic",
                                        "invalid_cursor", "binary frame refused", "message_too_large",
                                        "nested 64 levels", "nested 65 levels", "unknown type cut inside a character"})
            EXPECT_GT(answers[std::string(answer)], 10u) << answer;
        EXPECT_GT(answers["ok"], ws_frames / 5);
    }

    // (c) The server is unharmed: new subscribers on SSE and WebSocket get a message published over HTTP, and
    // the fuzzed WebSocket still answers.
    void still_serving()
    {
        auto sse = sse_client::create(srv->ioc);
        sse->connect(srv->port, "/sse?topic=after.fuzz");
        auto fresh = ws_client::create(srv->ioc);
        fresh->connect(srv->port);
        ASSERT_TRUE(fresh->subscribe(srv->ioc, "after.fuzz", 1));
        ASSERT_TRUE(srv->run_until([&] { return (*srv)->hub().subscriber_count("after.fuzz") == 2; }));

        auto const published = fetch(srv->ioc, srv->port, "POST", "/publish?topic=after.fuzz", R"({"still":"here"})");
        ASSERT_EQ(published.status, 200) << published.body;
        ASSERT_TRUE(sse->wait_messages(srv->ioc, 1));
        ASSERT_TRUE(fresh->wait_messages(srv->ioc, 1));
        EXPECT_EQ(sse->messages()[0]["data"], (json{{"still", "here"}}));
        EXPECT_EQ(fresh->messages()[0]["data"], (json{{"still", "here"}}));

        ws->send_json({{"type", "ping"}, {"id", "last"}});
        EXPECT_TRUE(ws->wait_reply(srv->ioc, "last"));
        fresh->close();
        sse->close();
    }

    static json sync_id(std::size_t frame) { return "#sync " + std::to_string(frame); }

    std::unique_ptr<live_server> srv;
    std::shared_ptr<ws_client> ws;  // the fuzzed one
};

TEST_F(wire_fuzz, every_request_and_frame_is_answered_cleanly_and_the_server_survives)
{
    ASSERT_NO_FATAL_FAILURE(raw_http_requests());
    ASSERT_NO_FATAL_FAILURE(websocket_frames());
    still_serving();
}

// ---- each input that once took the server down or was answered wrongly, on its own ----------------------

/// Writes `request` on a fresh connection and returns everything that comes back until the server closes it.
std::string reply_to(live_server& srv, std::string const& request)
{
    return raw_round_trip(srv.ioc, srv.port, request).first;
}

/// The response is the protocol's JSON error with `code` (and the status that goes with it).
void expect_json_error(std::optional<http::response<http::string_body>> const& res, std::string_view code,
                       std::string_view what)
{
    ASSERT_TRUE(res) << what;
    EXPECT_EQ(std::optional<unsigned>(res->result_int()), status_of_error(code)) << what;
    EXPECT_EQ(std::string((*res)[http::field::content_type]), "application/json") << what;
    auto const body = json::parse(res->body(), nullptr, false);  // refuses text that is not UTF-8
    ASSERT_TRUE(body.is_object() && body.contains("error") && body["error"].is_object()) << what << ": " << shown(res->body());
    EXPECT_EQ(body["error"].value("code", ""), code) << what;
    EXPECT_TRUE(body["error"].contains("message") && body["error"]["message"].is_string() &&
                !body["error"]["message"].empty())
        << what;
}

// A target whose bytes are not UTF-8 (Beast lets any byte above 0x7F into one) is answered like any other: 404
// for an unknown path, else the error its query earns, the message quoting it with the bad bytes replaced; and
// the server goes on.
TEST_F(wire_fuzz, a_request_target_that_is_not_utf8_is_answered_404)
{
    struct case_ {
        std::string_view target;
        std::string_view code;
    } const cases[] = {
        {"/\xFF", "not_found"},
        {"/caf\xC3", "not_found"},
        {"/\xC3\xA9\xE2\x82", "not_found"},
        {"/sse\x80?topic=a", "not_found"},
        {"/ws/\xED\xA0\x80", "not_found"},
        {"/sse?topic=caf\xC3", "invalid_topic"},
        {"/poll?topic=a&cursor=1.e.\xFF", "invalid_cursor"},
    };
    for (auto const& c : cases) {
        std::string got;
        EXPECT_NO_THROW(got = reply_to(*srv, "GET " + std::string(c.target) +
                                                 " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            << shown(c.target);
        std::string_view rest = got;
        expect_json_error(take_response(rest), c.code, shown(c.target) + " -> " + shown(got));
    }
    std::string const after = reply_to(*srv, "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string_view rest = after;
    expect_json_error(take_response(rest), "not_found", "after them");
}

// An unknown_type message quotes at most 64 bytes of the type, cut on a character boundary: here the cut would
// fall inside "é", and the error frame (which must be UTF-8) still goes out, the connection staying open.
TEST_F(wire_fuzz, an_unknown_type_cut_inside_a_character_gets_an_error_frame)
{
    ws = ws_client::create(srv->ioc);
    ws->connect(srv->port);
    ASSERT_TRUE(ws->wait_open(srv->ioc));
    int id = 0;
    for (std::size_t before = 60; before <= 64; ++before) {
        for (std::string_view character : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E"}) {
            ws->send_text(R"({"type":")" + std::string(before, 'a') + std::string(character) + "tail\",\"id\":" +
                          std::to_string(++id) + "}");
            std::optional<json> answer;
            EXPECT_NO_THROW(answer = ws->wait_reply(srv->ioc, id, std::chrono::seconds(5)));
            ASSERT_TRUE(answer) << before << " + " << character.size() << "-byte character";
            EXPECT_EQ((*answer)["type"], "error");
            EXPECT_EQ((*answer)["code"], "unknown_type");
            ASSERT_TRUE((*answer)["message"].is_string());
            EXPECT_NE((*answer)["message"].get<std::string>().find(std::string(before, 'a')), std::string::npos)
                << (*answer)["message"];
        }
    }
    EXPECT_TRUE(ws->is_open());
}

// The answer to HEAD is the head a GET would get, Content-Length included, and no body (RFC 9110 9.3.2): on a
// kept-alive connection, the next bytes are the next response.
TEST_F(wire_fuzz, a_head_request_is_answered_without_a_body)
{
    for (std::string_view target : {"/nowhere", "/publish?topic=a", "/sse?topic=a%zz", "/caf\xC3"}) {
        std::string const t(target);
        std::string const got = reply_to(*srv, "HEAD " + t + " HTTP/1.1\r\nHost: x\r\n\r\n"
                                               "GET " + t + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        std::string_view rest = got;
        auto const head = take_response(rest, /*head=*/true);
        ASSERT_TRUE(head) << t << ": " << shown(got);
        EXPECT_TRUE(rest.starts_with("HTTP/1.1 ")) << t << ", a body after the answer to HEAD: " << shown(got);
        auto const get = take_response(rest);
        ASSERT_TRUE(get) << t << ": " << shown(got);
        EXPECT_EQ(head->result_int(), get->result_int()) << t;
        EXPECT_EQ((*head)[http::field::content_type], (*get)[http::field::content_type]) << t;
        EXPECT_EQ((*head)[http::field::content_length], std::to_string(get->body().size())) << t;
        EXPECT_FALSE(get->body().empty()) << t;
        EXPECT_TRUE(rest.empty()) << t << ": " << shown(rest);
    }
}

// A /ws upgrade that cannot be accepted (no Sec-WebSocket-Key or one that is not base64 of 16 bytes, a version other
// than 13, no Host) is refused with the protocol's JSON error, 400 bad_request, like every other HTTP error
// (docs/protocol.md); a version mismatch also names the version the server speaks (RFC 6455 4.2.2).
TEST_F(wire_fuzz, a_refused_websocket_handshake_gets_the_json_error)
{
    std::string const host = "Host: x\r\n";
    std::string const key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    struct case_ {
        std::string headers;
        bool version_mismatch;
    } const cases[] = {
        {host + "Sec-WebSocket-Version: 13\r\n", false},
        {host + "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\nSec-WebSocket-Version: 13\r\n", false},
        {host + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==x\r\nSec-WebSocket-Version: 13\r\n", false},
        // 24 characters, but not base64 of 16 bytes (RFC 6455 4.2.1): not base64, 17 and 18 bytes, padding inside.
        {host + "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\nSec-WebSocket-Version: 13\r\n", false},
        {host + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSA=\r\nSec-WebSocket-Version: 13\r\n", false},
        {host + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZSAx\r\nSec-WebSocket-Version: 13\r\n", false},
        {host + "Sec-WebSocket-Key: dGhlIHNhbXBs=SBub25jZQ=\r\nSec-WebSocket-Version: 13\r\n", false},
        {host + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ-_\r\nSec-WebSocket-Version: 13\r\n", false},
        {host, false},
        {host + key + "Sec-WebSocket-Version: 8\r\n", true},
        {host + key + "Sec-WebSocket-Version: 14\r\n", true},
        {host + key, true},
        {key + "Sec-WebSocket-Version: 13\r\n", false},  // no Host: HTTP/1.1 requires one (RFC 9112 3.2)
    };
    for (auto const& c : cases) {
        std::string const got = reply_to(*srv, "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\n"
                                               "Upgrade: websocket\r\n" +
                                                   c.headers + "\r\n");
        std::string_view rest = got;
        auto const res = take_response(rest);
        expect_json_error(res, "bad_request", shown(c.headers) + " -> " + shown(got));
        if (res && c.version_mismatch) {
            EXPECT_EQ((*res)[http::field::sec_websocket_version], "13") << shown(got);
        }
    }
    // The right handshake is still accepted.
    ws = ws_client::create(srv->ioc);
    ws->connect(srv->port);
    EXPECT_TRUE(ws->wait_open(srv->ioc));
}

}  // namespace
}  // namespace switchboard::test
