// HTTP/1.1 message framing (RFC 9112) and the request semantics it leans on (RFC 9110), rule by rule, over raw
// sockets writing exact bytes: a request whose length cannot be told for sure is refused with 400 and the
// connection closed, so no byte of its body is ever read as a request (smuggling); Host, Expect, HEAD, the
// request-target forms, keep-alive, pipelining and the version each get the answer the RFCs give.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"

#include <switchboard/error.hpp>

#include <boost/beast/http/field.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
namespace http = boost::beast::http;

std::string shown(std::string_view bytes)
{
    return ::testing::PrintToString(std::string(bytes.substr(0, 300))) + (bytes.size() > 300 ? "..." : "");
}

// What came back for a run of requests on one connection.
struct conversation {
    std::vector<raw_response> responses;
    std::string rest;     // bytes after the last complete response
    bool closed = false;  // the server closed the connection
    std::string bytes;    // everything, for messages
};

// A request that publishes to "smuggled": hidden in the bodies below, it must never run.
std::string const smuggled = "POST /publish?topic=smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1";

class http_conformance : public ::testing::Test {
protected:
    void SetUp() override
    {
        server_options options;
        options.admin_token = "secret";
        options.poll_hold = std::chrono::seconds(60);  // a poll that is held shows as a missing answer
        options.max_message_size = 1024;
        srv = std::make_unique<live_server>(options);
        (*srv)->route("/hello", [](http_request const& req) {
            http_response res{http::status::ok, req.version()};
            res.set(http::field::content_type, "text/plain");
            res.body() = "hello";
            return res;
        });
        srv->start();
    }

    void TearDown() override
    {
        // No request hidden in a body ever ran.
        std::optional<std::uint64_t> latest;
        (*srv)->backplane().history("smuggled", std::nullopt, 0,
                                     [&](boost::system::error_code, history_result r) { latest = r.latest.offset; });
        ASSERT_TRUE(srv->run_until([&] { return latest.has_value(); }));
        EXPECT_EQ(*latest, 0u) << "a request smuggled in a body was executed";
        srv.reset();
    }

    /// Writes `requests` on one connection and reads until the server closes it or `deadline` passes. `heads[i]`
    /// says the i-th response answers a HEAD.
    conversation exchange(std::string_view requests, std::vector<bool> heads = {},
                          std::chrono::milliseconds deadline = std::chrono::seconds(5))
    {
        auto [bytes, closed] = raw_round_trip(srv->ioc, srv->port, requests, deadline);
        return parse(std::move(bytes), closed, std::move(heads));
    }

    static conversation parse(std::string bytes, bool closed, std::vector<bool> heads = {})
    {
        conversation c;
        c.closed = closed;
        c.bytes = std::move(bytes);
        std::string_view rest = c.bytes;
        while (!rest.empty()) {
            bool const head = c.responses.size() < heads.size() && heads[c.responses.size()];
            auto res = take_response(rest, head);
            if (!res)
                break;
            c.responses.push_back(std::move(*res));
        }
        c.rest = std::string(rest);
        return c;
    }

    /// The request is refused with `code` (its status, the JSON error body, and in HTTP/1.1 Connection: close),
    /// nothing else is answered on the connection, and the server closes it.
    void expect_refused_and_closed(std::string_view request, std::string_view code)
    {
        SCOPED_TRACE(shown(request));
        auto const c = exchange(request);
        ASSERT_EQ(c.responses.size(), 1u) << shown(c.bytes);
        auto const& res = c.responses[0];
        EXPECT_EQ(std::string(error_name_of(res)), code) << shown(c.bytes);
        if (res.version() == 11) {
            EXPECT_EQ(std::string(res[http::field::connection]), "close") << shown(c.bytes);
        }
        EXPECT_TRUE(c.rest.empty()) << shown(c.bytes);
        EXPECT_TRUE(c.closed) << "the connection stayed open: " << shown(c.bytes);
    }

    /// The error code of a JSON error response, its status checked against the code's; "" when it is not one.
    static std::string error_name_of(raw_response const& res)
    {
        auto const body = json::parse(res.body(), nullptr, false);
        if (!body.is_object() || !body.contains("error") || !body["error"].is_object())
            return "";
        EXPECT_EQ(std::string(res[http::field::content_type]), "application/json");
        auto const code = body["error"].value("code", "");
        EXPECT_EQ(status_of(code), res.result_int()) << code;
        return code;
    }

    /// The HTTP status of the error named `code` (0 for no such error).
    static unsigned status_of(std::string_view code)
    {
        // Every value of the enum has a name; past the last one, error_name falls back to "internal_error".
        for (int e = 1;; ++e) {
            auto const ec = make_error_code(static_cast<error>(e));
            if (error_name(ec) == code)
                return http_status(ec);
            if (e > static_cast<int>(error::internal_error) && error_name(ec) == "internal_error")
                return 0;
        }
    }

    std::unique_ptr<live_server> srv;
};

// ---- message length: RFC 9112 section 6 --------------------------------------------------------------------

// Section 6.3: a Transfer-Encoding whose final coding is not chunked leaves the length unknown; 400 and close.
// Beast reads such a request as having no body, so its body would run as the next request.
TEST_F(http_conformance, a_transfer_encoding_not_ending_in_chunked_is_refused_and_the_connection_closed)
{
    for (std::string_view coding : {"identity", "gzip", "xchunked", "chunked, identity", "chunked, chunked",
                                    "chunked;q=1", "\"chunked\""}) {
        expect_refused_and_closed("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " +
                                      std::string(coding) + "\r\n\r\n" + smuggled,
                                  "bad_request");
    }
    // The same list over two field lines: "chunked, identity".
    expect_refused_and_closed("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              "Transfer-Encoding: identity\r\n\r\n" + smuggled,
                              "bad_request");
    // Chunked is final, but the server applies no other coding (section 6.1: 501), and reads no further.
    expect_refused_and_closed("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                              "1\r\n1\r\n0\r\n\r\n" + smuggled,
                              "not_implemented");
    // Chunked alone, in any case, is the one accepted.
    auto const ok = exchange("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ChunKed\r\n"
                             "Connection: close\r\n\r\n1\r\n1\r\n0\r\n\r\n");
    ASSERT_EQ(ok.responses.size(), 1u) << shown(ok.bytes);
    EXPECT_EQ(ok.responses[0].result_int(), 200u) << shown(ok.bytes);
}

// Section 6.1: Transfer-Encoding and Content-Length together are a smuggling attempt or a broken intermediary;
// refused whatever their order or value.
TEST_F(http_conformance, transfer_encoding_with_content_length_is_refused)
{
    for (std::string_view fields : {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                                    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                    "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n",
                                    "Content-Length: 0\r\nTransfer-Encoding: identity\r\n"}) {
        expect_refused_and_closed("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\n" + std::string(fields) +
                                      "\r\n0\r\n\r\n" + smuggled,
                                  "bad_request");
    }
}

// Section 6.3: Content-Length must be one decimal number; a list of equal ones is that number.
TEST_F(http_conformance, content_length_must_be_a_single_valid_number)
{
    for (std::string_view fields :
         {"Content-Length: 1, 2\r\n", "Content-Length: 1\r\nContent-Length: 2\r\n", "Content-Length: +1\r\n",
          "Content-Length: -1\r\n", "Content-Length: 0x1\r\n", "Content-Length: 1 1\r\n", "Content-Length: \r\n",
          "Content-Length: 1a\r\n", "Content-Length: 99999999999999999999999\r\n"}) {
        expect_refused_and_closed("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\n" + std::string(fields) + "\r\n1" +
                                      smuggled,
                                  "bad_request");
    }
    for (std::string_view fields : {"Content-Length: 1, 1\r\n", "Content-Length: 1\r\nContent-Length: 1\r\n"}) {
        auto const c = exchange("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                                std::string(fields) + "\r\n1");
        ASSERT_EQ(c.responses.size(), 1u) << shown(c.bytes);
        EXPECT_EQ(c.responses[0].result_int(), 200u) << shown(fields) << shown(c.bytes);
    }
}

// Beast waits for a chunk's size line, and for the trailer section, to end before it reads them: one that never
// ends must not make the server hold all that comes (until the request deadline). What one request may take
// bounds it: the head and body limits.
TEST_F(http_conformance, a_chunk_line_or_trailer_that_never_ends_is_refused)
{
    std::string const head = "POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::string const& body : {"1;" + std::string(200'000, 'a'), "1\r\n1\r\n0\r\nX-Trailer: " + std::string(200'000, 'a')}) {
        auto const started = std::chrono::steady_clock::now();
        auto const c = exchange(head + body);
        ASSERT_EQ(c.responses.size(), 1u) << shown(c.bytes);
        EXPECT_EQ(c.responses[0].result_int(), 400u) << shown(c.bytes);
        EXPECT_TRUE(c.closed);
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
    }
}

// Section 6.1: Transfer-Encoding in an HTTP/1.0 request means faulty framing, even with a Content-Length.
TEST_F(http_conformance, transfer_encoding_in_http10_is_refused)
{
    expect_refused_and_closed("POST /publish?topic=t HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
                              "\r\n1\r\n1\r\n0\r\n\r\n" + smuggled,
                              "bad_request");
}

// Section 5.1 and 5.2: no whitespace between a field name and its colon; obsolete line folding (and
// whitespace before the first field) is refused rather than unfolded.
TEST_F(http_conformance, folded_lines_and_whitespace_before_a_colon_are_refused)
{
    for (std::string_view fields : {"Host: x\r\nX-Folded: a\r\n b\r\n", "Host: x\r\nX-Folded: a\r\n\tb\r\n",
                                    " Host: x\r\n", "Host: x\r\nContent-Length: 0\r\n Transfer-Encoding: chunked\r\n",
                                    "Host : x\r\n", "Host: x\r\nContent-Length\t: 0\r\n",
                                    "Host: x\r\nTransfer-Encoding : chunked\r\n"}) {
        expect_refused_and_closed("POST /publish?topic=t HTTP/1.1\r\n" + std::string(fields) + "\r\n0\r\n\r\n" + smuggled,
                                  "bad_request");
    }
}

// Section 2.2: a bare CR or LF is not a line ending.
TEST_F(http_conformance, a_bare_cr_or_lf_is_refused)
{
    for (std::string_view request :
         {"GET /healthz HTTP/1.1\nHost: x\r\n\r\n", "GET /healthz\rHTTP/1.1\r\nHost: x\r\n\r\n",
          "GET /healthz HTTP/1.1\r\rHost: x\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n",
          "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\rc\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: x\n\n",
          "GET /healthz HTTP/1.1\r\nHost: x\r\n\n"}) {
        expect_refused_and_closed(std::string(request) + smuggled, "bad_request");
    }
    // RFC 9110 5.5: NUL (and other controls) in a field value; RFC 9112 3: one SP between the parts of the
    // request line.
    using namespace std::string_literals;
    for (std::string const& request : {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"s,
                                       "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"s,
                                       "GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n"s,
                                       "GET /healthz  HTTP/1.1\r\nHost: x\r\n\r\n"s,
                                       "GET\t/healthz HTTP/1.1\r\nHost: x\r\n\r\n"s}) {
        expect_refused_and_closed(request + smuggled, "bad_request");
    }
}

// ---- Host: RFC 9112 section 3.2 ----------------------------------------------------------------------------

TEST_F(http_conformance, http11_needs_exactly_one_valid_host)
{
    expect_refused_and_closed("GET /healthz HTTP/1.1\r\n\r\n", "bad_request");
    expect_refused_and_closed("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "bad_request");
    expect_refused_and_closed("GET /healthz HTTP/1.1\r\nHost: a, b\r\n\r\n", "bad_request");
    expect_refused_and_closed("GET /healthz HTTP/1.1\r\nHost: a/b\r\n\r\n", "bad_request");
    expect_refused_and_closed("GET /healthz HTTP/1.1\r\nHost: user@a\r\n\r\n", "bad_request");
    for (std::string_view request :
         {"GET /healthz HTTP/1.0\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n",
          "GET /healthz HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close\r\n\r\n",
          "GET /healthz HTTP/1.1\r\nHost: xn--caf-dma.example\r\nConnection: close\r\n\r\n",
          "GET /healthz HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n"}) {
        auto const c = exchange(request);
        ASSERT_EQ(c.responses.size(), 1u) << shown(request) << " -> " << shown(c.bytes);
        EXPECT_EQ(c.responses[0].result_int(), 200u) << shown(request);
    }
}

// ---- Expect: RFC 9110 section 10.1.1 -----------------------------------------------------------------------

TEST_F(http_conformance, expect_100_continue_gets_100_before_the_body_is_sent)
{
    raw_connection c(srv->ioc, srv->port);
    c.send("POST /publish?topic=e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n");
    ASSERT_TRUE(c.wait_for("\r\n\r\n")) << shown(c.received());
    EXPECT_EQ(c.received(), "HTTP/1.1 100 Continue\r\n\r\n");
    c.send(R"({"n":1})");
    ASSERT_TRUE(c.wait_for("}")) << shown(c.received());
    // The connection stays usable.
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.wait_closed());
    auto const got = parse(c.received(), true);
    ASSERT_EQ(got.responses.size(), 3u) << shown(got.bytes);
    EXPECT_EQ(got.responses[0].result_int(), 100u);
    EXPECT_EQ(got.responses[1].result_int(), 200u) << shown(got.bytes);
    EXPECT_EQ(json::parse(got.responses[1].body())["offset"], 1);
    EXPECT_EQ(got.responses[2].result_int(), 200u) << shown(got.bytes);

    // A body sent without waiting for the 100 is read all the same, and a request with no body needs no 100.
    auto const eager = exchange("POST /publish?topic=e HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
                                "Content-Length: 1\r\n\r\n2"
                                "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n");
    ASSERT_GE(eager.responses.size(), 2u) << shown(eager.bytes);
    EXPECT_EQ(eager.responses.back().result_int(), 200u);
    EXPECT_EQ(eager.responses[eager.responses.size() - 2].result_int(), 200u);
    EXPECT_EQ(json::parse(eager.responses[eager.responses.size() - 2].body())["offset"], 2) << shown(eager.bytes);
    EXPECT_EQ(eager.bytes.find("100 Continue", eager.bytes.find("healthz")), std::string::npos);
}

// A kept-alive connection waits for its next request on the socket alone, and reads a head that comes whole there,
// Beast's stream resting: the 100 Continue written on it must wake it (it ended the server once, on a
// std::bad_variant_access).
TEST_F(http_conformance, expect_100_continue_gets_100_on_a_connection_waiting_for_its_next_request)
{
    raw_connection c(srv->ioc, srv->port);
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(c.wait_for(R"({"status":"ok"})")) << shown(c.received());
    auto const before = c.received().size();
    c.send("POST /publish?topic=e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n");
    ASSERT_TRUE(c.wait_for([&](std::string const& got) { return got.size() > before && got.ends_with("\r\n\r\n"); }))
        << shown(c.received());
    EXPECT_EQ(c.received().substr(before), "HTTP/1.1 100 Continue\r\n\r\n");
    c.send(R"({"n":1})");
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(c.wait_closed());
    auto const got = parse(c.received(), true);
    ASSERT_EQ(got.responses.size(), 4u) << shown(got.bytes);
    EXPECT_EQ(got.responses[1].result_int(), 100u);
    EXPECT_EQ(got.responses[2].result_int(), 200u) << shown(got.bytes);
    EXPECT_EQ(json::parse(got.responses[2].body())["offset"], 1);
}

// A request its headers already refuse gets its final status without a 100, and the connection is closed
// (the body the client may still send would otherwise be read as a request).
TEST_F(http_conformance, expect_100_continue_refused_by_the_headers_gets_the_final_status_alone)
{
    struct case_ {
        std::string request;
        std::string code;
    } const cases[] = {
        {"POST /nowhere HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", "not_found"},
        {"PUT /publish?topic=t HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
         "method_not_allowed"},
        {"POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n",
         "message_too_large"},
        {"POST /publish?topic=a%zz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
         "bad_request"},
    };
    for (auto const& c : cases) {
        SCOPED_TRACE(c.request);
        raw_connection conn(srv->ioc, srv->port);
        conn.send(c.request);
        ASSERT_TRUE(conn.wait_closed()) << shown(conn.received());
        auto const got = parse(conn.received(), true);
        ASSERT_EQ(got.responses.size(), 1u) << shown(got.bytes);
        EXPECT_EQ(error_name_of(got.responses[0]), c.code);
        EXPECT_EQ(std::string(got.responses[0][http::field::connection]), "close");
    }
}

TEST_F(http_conformance, an_unknown_expectation_is_417)
{
    expect_refused_and_closed("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n1",
                              "expectation_failed");
    expect_refused_and_closed("GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue, x\r\n\r\n", "expectation_failed");
    // HTTP/1.0 predates Expect: it is ignored there (RFC 9110 10.1.1).
    auto const c = exchange("POST /publish?topic=t HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n1");
    ASSERT_EQ(c.responses.size(), 1u) << shown(c.bytes);
    EXPECT_EQ(c.responses[0].result_int(), 200u) << shown(c.bytes);
}

// curl asks for 100-continue and, told to wait a minute for it, publishes at once only because it came.
TEST_F(http_conformance, curl_gets_100_continue)
{
    auto const started = std::chrono::steady_clock::now();
    server_process curl("curl", {"--silent", "--show-error", "--max-time", "60", "--expect100-timeout", "60", "-H",
                                 "Expect: 100-continue", "-H", "Content-Type: application/json", "--data-binary",
                                 R"({"from":"curl"})",
                                 "http://127.0.0.1:" + std::to_string(srv->port) + "/publish?topic=curl"});
    ASSERT_TRUE(srv->run_until([&] { return curl.exit_status().has_value(); }, std::chrono::seconds(60)));
    EXPECT_EQ(curl.exit_status(), 0) << curl.output();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
    auto const answer = json::parse(curl.output(), nullptr, false);
    ASSERT_TRUE(answer.is_object()) << curl.output();
    EXPECT_EQ(answer["offset"], 1);
}

// ---- HEAD: RFC 9110 section 9.3.2 --------------------------------------------------------------------------

// Every GET route answers HEAD with the head a GET gets (Content-Length included) and no body: the next
// response on the connection follows the head at once.
TEST_F(http_conformance, head_is_answered_on_every_get_route_without_a_body)
{
    for (std::string_view target : {"/healthz", "/readyz", "/metrics", "/switchboard.js", "/admin?token=secret",
                                    "/admin", "/hello", "/ws", "/sse", "/poll?topic=a&cursor=!", "/nowhere"}) {
        std::string const t(target);
        SCOPED_TRACE(t);
        auto const c = exchange("HEAD " + t + " HTTP/1.1\r\nHost: x\r\n\r\nGET " + t +
                                    " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                {true});
        ASSERT_EQ(c.responses.size(), 2u) << shown(c.bytes);
        auto const& head = c.responses[0];
        auto const& get = c.responses[1];
        EXPECT_EQ(head.result_int(), get.result_int());
        EXPECT_EQ(head[http::field::content_type], get[http::field::content_type]);
        if (t != "/metrics") {  // its counters move between the two requests
            EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
        }
        EXPECT_FALSE(get.body().empty());
        EXPECT_TRUE(c.rest.empty()) << shown(c.rest);
    }
}

// HEAD on the streaming routes answers the stream's head without starting it, and holds no poll; a request
// these routes refuse is refused as for GET.
TEST_F(http_conformance, head_on_sse_and_poll_starts_no_stream_and_holds_no_poll)
{
    for (std::string_view target : {"/sse?topic=a", "/poll?topic=a", "/admin/events?token=secret"}) {
        std::string const t(target);
        SCOPED_TRACE(t);
        auto const c = exchange("HEAD " + t + " HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
                                              "Connection: close\r\n\r\n",
                                {true});
        ASSERT_EQ(c.responses.size(), 2u) << shown(c.bytes);
        EXPECT_TRUE(c.closed);
        auto const& head = c.responses[0];
        EXPECT_EQ(head.result_int(), 200u);
        EXPECT_EQ(std::string(head[http::field::content_type]),
                  t.starts_with("/poll") ? "application/json" : "text/event-stream");
        // The length of an answer not yet written is not known: no Content-Length (RFC 9110 8.6).
        EXPECT_EQ(head.count(http::field::content_length), 0u);
        EXPECT_EQ(c.responses[1].result_int(), 200u);
        EXPECT_TRUE(c.rest.empty()) << shown(c.rest);
    }
    EXPECT_EQ((*srv)->hub().subscriber_count("a"), 0u);
    auto const stats = (*srv)->stats();
    EXPECT_EQ(stats.sse + stats.long_polling + stats.websocket, 0u);
    auto const metrics = fetch(srv->ioc, srv->port, "GET", "/metrics");
    EXPECT_NE(metrics.body.find("switchboard_connections_opened_total{transport=\"sse\"} 0"), std::string::npos);
    EXPECT_NE(metrics.body.find("switchboard_connections_opened_total{transport=\"long-polling\"} 0"), std::string::npos);
}

// A 304 has no body, and no Content-Length unless it is the length a 200 would have (RFC 9110 8.6, 15.4.5).
TEST_F(http_conformance, a_not_modified_answer_has_no_content_length)
{
    auto const first = exchange("GET /switchboard.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(first.responses.size(), 1u);
    std::string const etag(first.responses[0][http::field::etag]);
    ASSERT_FALSE(etag.empty());
    auto const c = exchange("GET /switchboard.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: " + etag +
                            "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(c.responses.size(), 2u) << shown(c.bytes);
    EXPECT_EQ(c.responses[0].result_int(), 304u);
    EXPECT_EQ(c.responses[0].count(http::field::content_length), 0u) << shown(c.bytes);
    EXPECT_EQ(std::string(c.responses[0][http::field::etag]), etag);
    EXPECT_EQ(c.responses[1].result_int(), 200u);
}

// ---- request targets: RFC 9112 section 3.2 ------------------------------------------------------------------

// A server must accept the absolute form (3.2.2); its authority replaces Host, and the path routes.
TEST_F(http_conformance, an_absolute_form_target_is_routed_by_its_path)
{
    auto const c = exchange("GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: elsewhere\r\n\r\n"
                            "POST HTTP://example.com:8080/publish?topic=abs HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1"
                            "GET https://x/nowhere?a=b HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET http://x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(c.responses.size(), 4u) << shown(c.bytes);
    EXPECT_EQ(c.responses[0].result_int(), 200u);
    EXPECT_EQ(c.responses[1].result_int(), 200u) << c.responses[1].body();
    EXPECT_EQ(json::parse(c.responses[1].body())["topic"], "abs");
    EXPECT_EQ(error_name_of(c.responses[2]), "not_found");
    EXPECT_NE(c.responses[2].body().find("/nowhere"), std::string::npos);
    EXPECT_EQ(error_name_of(c.responses[3]), "not_found");  // the empty path is "/"
    // Other schemes, and an authority-form target, are not requests for this server (the connection may stay:
    // the framing is sound).
    for (std::string_view target : {"ftp://x/healthz", "http://user@x/healthz", "127.0.0.1:80", "healthz"}) {
        auto const refused = exchange("GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        ASSERT_EQ(refused.responses.size(), 1u) << shown(refused.bytes);
        EXPECT_EQ(error_name_of(refused.responses[0]), "bad_request") << target;
    }
}

// The asterisk form is for OPTIONS only (3.2.4): it asks about the server itself.
TEST_F(http_conformance, the_asterisk_form_is_for_options_only)
{
    auto const c = exchange("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(c.responses.size(), 1u) << shown(c.bytes);
    EXPECT_EQ(c.responses[0].result_int(), 204u);
    EXPECT_EQ(std::string(c.responses[0][http::field::allow]), "GET, HEAD, POST, OPTIONS");
    EXPECT_EQ(c.responses[0].count(http::field::content_length), 0u);  // RFC 9110 8.6: never in a 204
    auto const refused = exchange("GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(refused.responses.size(), 1u) << shown(refused.bytes);
    EXPECT_EQ(error_name_of(refused.responses[0]), "bad_request");
}

// ---- connections: RFC 9112 section 9 -----------------------------------------------------------------------

TEST_F(http_conformance, http10_closes_unless_keep_alive_is_asked_for)
{
    auto const once = exchange("GET /healthz HTTP/1.0\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n");
    ASSERT_EQ(once.responses.size(), 1u) << shown(once.bytes);
    EXPECT_EQ(once.responses[0].version(), 10u);
    EXPECT_TRUE(once.closed);

    auto const kept = exchange("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                               "HEAD /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
                               "GET /readyz HTTP/1.0\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n",
                               {false, true});
    ASSERT_EQ(kept.responses.size(), 3u) << shown(kept.bytes);
    EXPECT_EQ(std::string(kept.responses[0][http::field::connection]), "keep-alive");
    EXPECT_EQ(std::string(kept.responses[1][http::field::connection]), "keep-alive");
    EXPECT_TRUE(kept.responses[2][http::field::connection].empty() ||
                kept.responses[2][http::field::connection] == "close");
    EXPECT_TRUE(kept.closed);
    EXPECT_TRUE(kept.rest.empty());
}

TEST_F(http_conformance, connection_close_is_honoured)
{
    auto const c = exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + smuggled);
    ASSERT_EQ(c.responses.size(), 1u) << shown(c.bytes);
    EXPECT_EQ(std::string(c.responses[0][http::field::connection]), "close");
    EXPECT_TRUE(c.closed);
    EXPECT_TRUE(c.rest.empty());
}

TEST_F(http_conformance, pipelined_requests_are_answered_in_order)
{
    auto const c = exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
                            "POST /publish?topic=p HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n7"
                            "GET /poll?topic=p&cursor=0..p HTTP/1.1\r\nHost: x\r\n\r\n"
                            "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                            {false, false, false, false, true});
    ASSERT_EQ(c.responses.size(), 6u) << shown(c.bytes);
    std::vector<unsigned> statuses;
    for (auto const& r : c.responses)
        statuses.push_back(r.result_int());
    EXPECT_EQ(statuses, (std::vector<unsigned>{200, 404, 200, 200, 200, 200}));
    EXPECT_EQ(json::parse(c.responses[3].body())["messages"][0]["data"], 7);
    EXPECT_EQ(c.responses[5].body(), "hello");
    EXPECT_TRUE(c.closed);
}

// ---- the request line -----------------------------------------------------------------------------------------

// A request line longer than the header limit is 414 (RFC 9112 3), a long header field still 431.
TEST_F(http_conformance, a_request_line_over_the_limit_is_414)
{
    expect_refused_and_closed("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", "uri_too_long");
    expect_refused_and_closed("GET /poll?topic=" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                  std::string(5000, 'b') + "\r\n\r\n",
                              "headers_too_large");
}

// Only HTTP/1.x is spoken here (RFC 9110 15.6.6); a higher minor version is read as 1.1 (RFC 9112 2.3).
TEST_F(http_conformance, an_unsupported_http_version_is_505)
{
    for (std::string_view version : {"HTTP/2.0", "HTTP/0.9", "HTTP/3.1", "HTTP/9.9"})
        expect_refused_and_closed("GET /healthz " + std::string(version) + "\r\nHost: x\r\n\r\n" + smuggled,
                                  "version_not_supported");
    auto const c = exchange("GET /healthz HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(c.responses.size(), 1u) << shown(c.bytes);
    EXPECT_EQ(c.responses[0].result_int(), 200u);
    EXPECT_EQ(c.responses[0].version(), 11u);
}

}  // namespace
}  // namespace switchboard::test
