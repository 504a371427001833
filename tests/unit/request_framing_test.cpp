// request_framing: the header scanner gives the same verdict however the bytes are split across reads, and the
// head checks, version reading and absolute-form rewriting follow RFC 9112. The server's answers to each case
// over a socket are in tests/transports/http_conformance_test.cpp.

#include "http/request_framing.hpp"

#include <switchboard/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using switchboard::error;
using switchboard::http_request;
using switchboard::detail::check_request_head;
using switchboard::detail::expects_continue;
using switchboard::detail::header_scanner;
using switchboard::detail::request_line_version;
using switchboard::detail::to_origin_form;
namespace http = boost::beast::http;

using verdict = header_scanner::verdict;

// Scans `bytes` in pieces of `piece` bytes; the verdict, and how many bytes were looked at in all.
std::pair<verdict, std::size_t> scan(std::string_view bytes, std::size_t piece)
{
    header_scanner s;
    std::size_t total = 0;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        std::size_t used = 0;
        auto const v = s.scan(bytes.substr(at, piece), used);
        total += used;
        if (v != verdict::more)
            return {v, total};
    }
    return {verdict::more, total};
}

TEST(header_scanner, gives_one_verdict_however_the_bytes_are_split)
{
    struct case_ {
        std::string_view bytes;
        verdict expected;
        std::size_t looked_at;  // for done: the head's length; for bad: up to the offending byte
    } const cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody\n\r", verdict::done, 27},
        {"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", verdict::done, 31},  // empty lines first are allowed
        {"GET / HTTP/1.1\r\nHost: x\r\n", verdict::more, 25},
        {"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", verdict::bad, 23},    // obsolete line folding
        {"GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", verdict::bad, 23},
        {"GET / HTTP/1.1\r\n Host: x\r\n\r\n", verdict::bad, 17},      // whitespace before the first field
        {" GET / HTTP/1.1\r\n\r\n", verdict::bad, 1},
        {"GET / HTTP/1.1\nHost: x\r\n\r\n", verdict::bad, 15},         // bare LF
        {"GET / HTTP/1.1\r\nHost: x\n\n", verdict::bad, 24},
        {"GET /\rHTTP/1.1\r\n\r\n", verdict::bad, 7},                  // bare CR
        {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", verdict::bad, 22},
        {"GET / HTTP/1.1\r\r\n\r\n", verdict::bad, 16},
    };
    for (auto const& c : cases) {
        for (std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}, c.bytes.size()}) {
            auto const [v, looked_at] = scan(c.bytes, piece);
            EXPECT_EQ(v, c.expected) << ::testing::PrintToString(std::string(c.bytes)) << " in pieces of " << piece;
            EXPECT_EQ(looked_at, c.looked_at) << ::testing::PrintToString(std::string(c.bytes)) << " in pieces of "
                                              << piece;
        }
    }
}

TEST(header_scanner, knows_when_the_request_line_has_ended)
{
    header_scanner s;
    std::size_t used = 0;
    EXPECT_TRUE(s.in_request_line());
    s.scan("\r\nGET /a-long-target", used);
    EXPECT_TRUE(s.in_request_line());
    s.scan(" HTTP/1.1\r\nHost:", used);
    EXPECT_FALSE(s.in_request_line());
    EXPECT_EQ(s.scan(" x\r\n\r\n", used), verdict::done);
    EXPECT_EQ(s.scan("more", used), verdict::done);  // the head is over
    EXPECT_EQ(used, 0u);
}

TEST(request_framing, reads_the_version_of_a_request_line)
{
    EXPECT_EQ(request_line_version("GET / HTTP/2.0\r\nHost: x\r\n"), 20);
    EXPECT_EQ(request_line_version("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 20);
    EXPECT_EQ(request_line_version("GET /x HTTP/1.2\r\n"), 12);
    EXPECT_EQ(request_line_version("GET /x HTTP/0.9\r\n"), 9);
    EXPECT_EQ(request_line_version("GET /x HTTP/1.10\r\n"), -1);
    EXPECT_EQ(request_line_version("GET /x HTTP/1.1"), -1);  // not a whole line
    EXPECT_EQ(request_line_version("GET /x HTTPS/1.1\r\n"), -1);
    EXPECT_EQ(request_line_version("\r\n"), -1);
    EXPECT_EQ(request_line_version("GET /x  HTTP/2.0\r\n"), -1);
    EXPECT_EQ(request_line_version("GET  /x HTTP/2.0\r\n"), -1);
    EXPECT_EQ(request_line_version(" /x HTTP/2.0\r\n"), -1);
    EXPECT_EQ(request_line_version("GET /x y HTTP/2.0\r\n"), -1);
}

http_request request(unsigned version, std::initializer_list<std::pair<http::field, std::string_view>> fields)
{
    http_request req{http::verb::post, "/publish?topic=t", version};
    for (auto const& [name, value] : fields)
        req.insert(name, value);
    return req;
}

TEST(request_framing, checks_host_transfer_encoding_and_expect)
{
    struct case_ {
        http_request req;
        boost::system::error_code expected;
    } const cases[] = {
        {request(11, {{http::field::host, "x"}}), {}},
        {request(10, {}), {}},
        {request(11, {}), error::bad_request},
        {request(11, {{http::field::host, "x"}, {http::field::host, "x"}}), error::bad_request},
        {request(11, {{http::field::host, ""}}), {}},
        {request(11, {{http::field::host, "[::1]:8080"}}), {}},
        {request(11, {{http::field::host, "[::1"}}), error::bad_request},
        {request(11, {{http::field::host, "a%2eb:80"}}), {}},
        {request(11, {{http::field::host, "a%2:80"}}), error::bad_request},
        {request(11, {{http::field::host, "a:b"}}), error::bad_request},
        {request(11, {{http::field::host, "a:1:2"}}), error::bad_request},
        {request(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "chunked"}}), {}},
        {request(11, {{http::field::host, "x"}, {http::field::transfer_encoding, " CHUNKED "}}), {}},
        {request(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "gzip"}}), error::bad_request},
        {request(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "chunked, gzip"}}), error::bad_request},
        {request(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "chunked"},
                      {http::field::transfer_encoding, "chunked"}}),
         error::bad_request},
        {request(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "gzip, chunked"}}),
         error::not_implemented},
        {request(11, {{http::field::host, "x"}, {http::field::transfer_encoding, ""}}), error::bad_request},
        {request(11, {{http::field::host, "x"}, {http::field::transfer_encoding, "chunked"},
                      {http::field::content_length, "1"}}),
         error::bad_request},
        {request(10, {{http::field::transfer_encoding, "chunked"}}), error::bad_request},
        {request(11, {{http::field::host, "x"}, {http::field::expect, "100-Continue"}}), {}},
        {request(11, {{http::field::host, "x"}, {http::field::expect, "100-continue, 100-continue"}}), {}},
        {request(11, {{http::field::host, "x"}, {http::field::expect, "101-continue"}}), error::expectation_failed},
        {request(10, {{http::field::expect, "whatever"}}), {}},  // HTTP/1.0 predates Expect
    };
    for (auto const& c : cases) {
        std::string why;
        auto const ec = check_request_head(c.req, why);
        std::string shown = "HTTP/" + std::to_string(c.req.version() / 10) + "." + std::to_string(c.req.version() % 10);
        for (auto const& f : c.req)
            shown += "\n" + std::string(f.name_string()) + ": " + std::string(f.value());
        EXPECT_EQ(ec, c.expected) << shown;
        EXPECT_EQ(why.empty(), !ec) << shown;
    }
    EXPECT_TRUE(expects_continue(request(11, {{http::field::expect, "100-continue"}})));
    EXPECT_FALSE(expects_continue(request(11, {{http::field::expect, " "}})));
    EXPECT_FALSE(expects_continue(request(10, {{http::field::expect, "100-continue"}})));
}

TEST(request_framing, rewrites_an_absolute_form_target_to_its_origin_form)
{
    struct case_ {
        std::string_view target;
        std::string_view path;  // "" when refused
        std::string_view host;
    } const cases[] = {
        {"/a?b", "/a?b", "x"},
        {"*", "*", "x"},
        {"http://example.com/a?b", "/a?b", "example.com"},
        {"HTTPS://example.com:8443", "/", "example.com:8443"},
        {"http://example.com?q=1", "/?q=1", "example.com"},
        {"http://[::1]:80/x", "/x", "[::1]:80"},
        {"ftp://example.com/a", "", ""},
        {"http://user@example.com/a", "", ""},
        {"http://exa mple.com/a", "", ""},
    };
    for (auto const& c : cases) {
        http_request req{http::verb::get, c.target, 11};
        req.set(http::field::host, "x");
        auto const ec = to_origin_form(req);
        EXPECT_EQ(!ec, !c.path.empty()) << c.target;
        if (!ec) {
            EXPECT_EQ(req.target(), c.path) << c.target;
            EXPECT_EQ(req[http::field::host], c.host) << c.target;
        }
    }
}

}  // namespace
