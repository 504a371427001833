// HTTP/2 on the plain port (h2c with prior knowledge, RFC 9113 3.3): third-party clients (curl, nghttp) get the
// same answers and errors as over HTTP/1.1, long polls are held on streams of one connection, and a client that
// lies or floods (too many streams, a header list past the limit, a body that never ends, a window never opened,
// bytes that are not HTTP/2) gets what RFC 9113 prescribes while its other streams and other clients go on. The
// attacks write exact frames over a raw socket (tests/support/raw_connection.hpp).

#include "support/count_of.hpp"
#include "support/curl.hpp"
#include "support/h2_frames.hpp"
#include "support/http_client.hpp"
#include "support/jwt_maker.hpp"
#include "support/live_server.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/tcp_segments.hpp"
#include "support/temp_file.hpp"
#include "support/test_certificate.hpp"
#include "support/ws_client.hpp"

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// ---- clients ------------------------------------------------------------------------------------------------

// curl --http2-prior-knowledge on the plain port.
curl_answer curl_h2(live_server& srv, std::string const& target, std::vector<std::string> extra = {})
{
    extra.insert(extra.begin(), "--http2-prior-knowledge");
    return curl(srv.ioc, "http://127.0.0.1:" + std::to_string(srv.port) + target, extra);
}

using namespace h2_frames;  // raw frames (tests/support/h2_frames.hpp)

class http2 : public ::testing::Test {
protected:
    void start(server_options options = {})
    {
        srv = std::make_unique<live_server>(std::move(options));
        srv->start();
    }
    void SetUp() override {}

    std::unique_ptr<live_server> srv;
};

// ---- the routes over HTTP/2 -------------------------------------------------------------------------------------

TEST_F(http2, curl_with_prior_knowledge_gets_the_operator_routes_and_the_client)
{
    start();
    auto const health = curl_h2(*srv, "/healthz");
    EXPECT_EQ(health.status, 200) << health.output;
    EXPECT_EQ(health.version, "2") << health.output;
    EXPECT_EQ(json::parse(health.body, nullptr, false), json({{"status", "ok"}})) << health.output;

    auto const metrics = curl_h2(*srv, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("switchboard_"), std::string::npos);

    auto const script = curl_h2(*srv, "/switchboard.js");
    auto const over_h1 = fetch(srv->ioc, srv->port, "GET", "/switchboard.js");
    EXPECT_EQ(script.status, 200);
    EXPECT_EQ(script.version, "2");
    EXPECT_EQ(script.body, over_h1.body);  // byte for byte, over several DATA frames
}

TEST_F(http2, a_publish_over_http2_answers_a_long_poll_held_on_a_stream)
{
    start();
    server_process poll("nghttp", {"--timeout=20", "http://127.0.0.1:" + std::to_string(srv->port) + "/poll?topic=news"});
    ASSERT_TRUE(srv->run_until([&] { return (*srv).stats().long_polling == 1; })) << poll.output();

    auto const published = curl_h2(*srv, "/publish?topic=news",
                                   {"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", R"({"n":1})"});
    EXPECT_EQ(published.status, 200) << published.output;
    EXPECT_EQ(json::parse(published.body, nullptr, false)["offset"], 1) << published.output;

    ASSERT_TRUE(srv->run_until([&] { return poll.exit_status().has_value(); }, 20s)) << poll.output();
    EXPECT_EQ(poll.exit_status(), 0) << poll.output();
    auto const body = json::parse(poll.output(), nullptr, false);
    ASSERT_TRUE(body.is_object()) << poll.output();
    ASSERT_EQ(body["messages"].size(), 1u) << poll.output();
    EXPECT_EQ(body["messages"][0]["data"], json({{"n", 1}}));
}

TEST_F(http2, several_long_polls_on_one_connection_each_get_the_message)
{
    start();
    auto const base = "http://127.0.0.1:" + std::to_string(srv->port);
    // nghttp sends every URI of one authority as a stream of one connection.
    server_process polls("nghttp", {"--timeout=20", "--verbose", base + "/poll?topic=shared",
                                    base + "/poll?topic=shared&topic=b", base + "/poll?topic=shared&topic=c"});
    ASSERT_TRUE(srv->run_until([&] { return (*srv).stats().long_polling == 3; })) << polls.output();
    srv->publish("shared", json{{"to", "all"}});
    ASSERT_TRUE(srv->run_until([&] { return polls.exit_status().has_value(); }, 20s)) << polls.output();
    EXPECT_EQ(polls.exit_status(), 0) << polls.output();
    auto const out = polls.output();
    std::size_t seen = 0;
    for (auto at = out.find(R"("data":{"to":"all"})"); at != std::string::npos; at = out.find(R"("data":{"to":"all"})", at + 1))
        ++seen;
    EXPECT_EQ(seen, 3u) << out;
    for (auto const* id : {"stream_id=1", "stream_id=3", "stream_id=5"})
        EXPECT_NE(out.find(id), std::string::npos) << id << " in " << out;
}

TEST_F(http2, a_publish_over_http2_reaches_an_http1_sse_stream_byte_for_byte)
{
    start();
    auto sse = sse_client::create(srv->ioc);
    sse->connect(srv->port, "/sse?topic=mixed");
    ASSERT_TRUE(srv->run_until([&] { return (*srv).stats().sse == 1 && sse->status() == 200; }));
    std::string const payload = R"({"n": 1.50, "s":"\u00e9"})";  // spacing, a decimal, an escape: kept as sent
    auto const published = curl_h2(*srv, "/publish?topic=mixed",
                                   {"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", payload});
    EXPECT_EQ(published.status, 200) << published.output;
    ASSERT_TRUE(srv->run_until([&] { return sse->message_count() == 1; })) << published.output;
    EXPECT_NE(sse->events().back().data.find(payload), std::string::npos) << sse->events().back().data;
}

// A backend publishing over one HTTP/2 connection multiplexes its publishes: they arrive together and their
// deliveries share the turn's flush, as pipelined HTTP/1.1 publishes do (tests/transports/batching_test.cpp).
// h2load, nghttp2's load generator, is the publisher: 64 streams at once on one connection.
TEST_F(http2, publishes_multiplexed_on_one_connection_share_a_flush)
{
    start();
    constexpr int count = 64;
    auto ws = ws_client::create(srv->ioc);
    ws->connect(srv->port);
    ASSERT_TRUE(ws->subscribe(srv->ioc, "multiplexed", 1));
    auto const before = data_segments_received(ws->native_handle());
    ASSERT_TRUE(before) << "TCP_INFO has no tcpi_data_segs_in (Linux 4.6 and later)";
    temp_file body(R"({"from":"h2load"})");
    server_process h2load("h2load", {"-n", std::to_string(count), "-c", "1", "-m", std::to_string(count), "-d",
                                     body.path(), "-H", "Content-Type: application/json",
                                     "http://127.0.0.1:" + std::to_string(srv->port) + "/publish?topic=multiplexed"});
    ASSERT_TRUE(srv->run_until([&] { return h2load.exit_status().has_value(); }, 30s)) << h2load.output();
    EXPECT_EQ(*h2load.exit_status(), 0) << h2load.output();
    EXPECT_NE(h2load.output().find(std::to_string(count) + " succeeded"), std::string::npos) << h2load.output();
    EXPECT_NE(h2load.output().find("h2c"), std::string::npos) << h2load.output();
    ASSERT_TRUE(ws->wait_messages(srv->ioc, count));
    auto const writes = data_segments_received(ws->native_handle()).value_or(0) - *before;
    ::testing::Test::RecordProperty("ws_writes", static_cast<int>(writes));
    EXPECT_LE(writes, 8u);  // one write per publish is not batched
}

TEST_F(http2, the_services_own_routes_and_cors_answer_as_over_http1)
{
    server_options options;
    options.security.allowed_origins = {"https://app.example"};
    srv = std::make_unique<live_server>(options);
    (*srv)->route("/hello", [](http_request const& req) {
        http_response res{boost::beast::http::status::ok, req.version()};
        res.set(boost::beast::http::field::content_type, "text/plain");
        res.body() = "hello " + std::string(req[boost::beast::http::field::host]);
        res.prepare_payload();
        return res;
    });
    srv->start();
    auto const hello = curl_h2(*srv, "/hello");
    EXPECT_EQ(hello.status, 200) << hello.output;
    EXPECT_EQ(hello.body, "hello 127.0.0.1:" + std::to_string(srv->port));  // Host from :authority

    // A CORS preflight of a publish from an allowed origin, and a publish from another origin.
    auto const preflight = curl_h2(*srv, "/publish?topic=a",
                                   {"-X", "OPTIONS", "-H", "Origin: https://app.example", "-H",
                                    "Access-Control-Request-Method: POST", "-D", "-"});
    EXPECT_EQ(preflight.status, 204) << preflight.output;
    EXPECT_NE(preflight.output.find("access-control-allow-origin: https://app.example"), std::string::npos)
        << preflight.output;
    auto const refused = curl_h2(*srv, "/publish?topic=a",
                                 {"-X", "POST", "-H", "Origin: https://evil.example", "--data-binary", "{}"});
    auto const refused_h1 = fetch(srv->ioc, srv->port, "POST", "/publish?topic=a", "{}", {{"Origin", "https://evil.example"}});
    EXPECT_EQ(refused.status, 403) << refused.output;
    EXPECT_EQ(refused.body, refused_h1.body);
}

TEST_F(http2, errors_are_those_of_http1)
{
    server_options options;
    options.admin_token = "secret";
    start(options);
    struct request_case {
        std::string method;
        std::string target;
        std::string body;
    };
    for (auto const& c : std::vector<request_case>{
             {"GET", "/nowhere", ""},                              // 404 not_found
             {"POST", "/publish?topic=not%20a%20topic", "{}"},     // 400 invalid_topic
             {"POST", "/publish", "{}"},                           // 400 missing_field
             {"POST", "/publish?topic=a", "not json"},             // 400 invalid_json
             {"GET", "/publish?topic=a", ""},                      // 405 method_not_allowed
             {"GET", "/poll?topic=a&cursor=zz", ""},               // 400 invalid_cursor
             {"GET", "/admin", ""},                                // 403 rejected
         }) {
        std::vector<std::string> extra{"-X", c.method};
        if (!c.body.empty())
            extra.insert(extra.end(), {"-H", "Content-Type: application/json", "--data-binary", c.body});
        auto const h2 = curl_h2(*srv, c.target, extra);
        auto const h1 = fetch(srv->ioc, srv->port, c.method, c.target, c.body);
        EXPECT_GE(h2.status, 400) << c.target;
        EXPECT_EQ(h2.status, h1.status) << c.method << " " << c.target;
        EXPECT_EQ(h2.body, h1.body) << c.method << " " << c.target;
    }
}

TEST_F(http2, authentication_refuses_as_over_http1)
{
    server_options options;
    options.security.jwt_secret = "a secret of at least thirty-two bytes!!";
    start(options);
    auto const h2 = curl_h2(*srv, "/publish?topic=a",
                            {"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "{}"});
    auto const h1 = fetch(srv->ioc, srv->port, "POST", "/publish?topic=a", "{}");
    EXPECT_EQ(h1.status, 401);
    EXPECT_EQ(h2.status, 401) << h2.output;
    EXPECT_EQ(h2.body, h1.body);
    auto const bad = curl_h2(*srv, "/publish?topic=a",
                             {"-X", "POST", "-H", "Authorization: Bearer not.a.token", "--data-binary", "{}"});
    EXPECT_EQ(bad.status, 401) << bad.output;
}

// ---- SSE over HTTP/2 streams ------------------------------------------------------------------------------------

// The body of an HTTP/1.1 SSE stream (what follows its head) on `c`.
std::string sse_body(raw_connection const& c)
{
    auto const& all = c.received();
    auto const end = all.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : all.substr(end + 4);
}

std::string percent_encoded(std::string_view text)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char ch : text) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.')
            out += char(ch);
        else
            out += {'%', hex[ch >> 4], hex[ch & 15]};
    }
    return out;
}

// Publishes `data` (JSON text) to `topic` over a WebSocket, and waits for its acknowledgement.
void ws_client_publish(live_server& srv, std::string const& topic, std::string const& data)
{
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    ws->send_text(R"({"type":"publish","topic":")" + topic + R"(","data":)" + data + R"(,"id":1})");
    auto const ack = ws->wait_reply(srv.ioc, 1);
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["type"], "ack") << ack->dump();
}

server_options quiet_sse()
{
    server_options options;
    options.sse_heartbeat = std::chrono::hours(1);  // no comment line between the bytes compared
    return options;
}

TEST_F(http2, several_sse_streams_on_one_connection_each_get_a_published_message_byte_for_byte)
{
    start(quiet_sse());
    raw_connection h1(srv->ioc, srv->port);
    h1.send("GET /sse?topic=news HTTP/1.1\r\nHost: localhost\r\n\r\n");
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings() + request(1, "GET", "/sse?topic=news") + request(3, "GET", "/sse?topic=news") +
           request(5, "GET", "/sse?topic=news&topic=other"));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 4; })) << shown(c.received());
    ASSERT_TRUE(c.wait_for([](std::string const& b) {
        return has(b, HEADERS, 1) && has(b, HEADERS, 3) && has(b, HEADERS, 5) && data_of(b, 5).find("id: ") != std::string::npos;
    })) << shown(c.received());
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_connections"), 1u);
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_streams"), 3u);

    std::string const payload = R"({"n": 1.50, "s":"\u00e9"})";  // spacing, a decimal, an escape: kept as sent
    auto const published = fetch(srv->ioc, srv->port, "POST", "/publish?topic=news", payload);
    EXPECT_EQ(published.status, 200) << published.body;
    ASSERT_TRUE(c.wait_for([&](std::string const& b) {
        return data_of(b, 1).find(payload) != std::string::npos && data_of(b, 3).find(payload) != std::string::npos &&
               data_of(b, 5).find(payload) != std::string::npos;
    })) << shown(c.received());
    ASSERT_TRUE(h1.wait_for([&](std::string const& b) { return b.find(payload) != std::string::npos; }));
    // The same topic, subscribed at the same position: the same bytes as over HTTP/1.1.
    EXPECT_EQ(data_of(c.received(), 1), sse_body(h1));
    EXPECT_EQ(data_of(c.received(), 3), sse_body(h1));
    EXPECT_TRUE(data_of(c.received(), 1).starts_with("retry: ")) << data_of(c.received(), 1);
    EXPECT_FALSE(c.closed());
}

TEST_F(http2, curl_and_nghttp_receive_sse_over_http2_as_over_http1)
{
    start(quiet_sse());
    auto const url = "http://127.0.0.1:" + std::to_string(srv->port) + "/sse?topic=tools";
    server_process curl("curl", {"--silent", "--show-error", "--http2-prior-knowledge", "-N", "-i", url});
    // Two streams of one connection; stdbuf: nghttp writes bodies through stdio, which a pipe would hold back.
    server_process nghttp("stdbuf", {"-o0", "nghttp", url, url + "&topic=other"});
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 3; }, 20s)) << curl.output() << nghttp.output();
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_connections"), 2u);
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_streams"), 3u);
    ws_client_publish(*srv, "tools", R"({"via":"websocket"})");
    ASSERT_TRUE(srv->run_until([&] {
        return curl.output().find(R"("data":{"via":"websocket"})") != std::string::npos &&
               count_of(nghttp.output(), R"("data":{"via":"websocket"})") == 2;
    }, 20s)) << curl.output() << "\n----\n" << nghttp.output();
    auto const out = curl.output();
    EXPECT_TRUE(out.starts_with("HTTP/2 200")) << out;
    EXPECT_NE(out.find("content-type: text/event-stream"), std::string::npos) << out;
    EXPECT_NE(out.find(".tools\ndata: "), std::string::npos) << out;  // the message's id: its position in "tools"
}

TEST_F(http2, the_admin_views_figures_stream_over_http2)
{
    // A browser that reached the server over https takes HTTP/2 for the admin page's EventSource too.
    auto options = quiet_sse();
    options.admin_token = "s3cret-token";
    start(options);
    auto const url = "http://127.0.0.1:" + std::to_string(srv->port) + "/admin/events?token=s3cret-token";
    server_process curl("curl", {"--silent", "--show-error", "--http2-prior-knowledge", "-N", "-i", url});
    ASSERT_TRUE(srv->run_until([&] { return curl.output().find("event: stats\ndata: {") != std::string::npos; }, 20s))
        << curl.output();
    EXPECT_TRUE(curl.output().starts_with("HTTP/2 200")) << curl.output();
    EXPECT_EQ(srv->stats().sse, 0u);  // the operator, not a client channel
    EXPECT_EQ(curl_h2(*srv, "/admin/events?token=wrong").status, 403);
}

TEST_F(http2, resume_over_http2_replays_as_over_http1)
{
    start(quiet_sse());
    raw_connection first(srv->ioc, srv->port);
    first.send("GET /sse?topic=r HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 1; }));
    for (int i = 1; i <= 3; ++i)
        EXPECT_EQ(fetch(srv->ioc, srv->port, "POST", "/publish?topic=r", json{{"i", i}}.dump()).status, 200);
    ASSERT_TRUE(first.wait_for([](std::string const& b) { return b.find(R"({"i":3})") != std::string::npos; }));
    // The id of the first message: a client that saw it resumes after it.
    auto const body = sse_body(first);
    auto const at = body.find("id: ");
    ASSERT_NE(at, std::string::npos) << body;
    std::string id;
    for (auto pos = at; pos != std::string::npos; pos = body.find("id: ", pos + 1)) {
        auto const line = body.substr(pos + 4, body.find('\n', pos) - pos - 4);
        if (body.find(R"({"i":1})", pos) < body.find("id: ", pos + 1)) {
            id = line;
            break;
        }
    }
    ASSERT_FALSE(id.empty()) << body;

    raw_connection h1(srv->ioc, srv->port);
    h1.send("GET /sse?topic=r HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: " + id + "\r\n\r\n");
    raw_connection h1_since(srv->ioc, srv->port);
    h1_since.send("GET /sse?topic=r&since=" + percent_encoded(id) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings() + request(1, "GET", "/sse?topic=r", true, literal("last-event-id", id)) +
           request(3, "GET", "/sse?topic=r&since=" + percent_encoded(id)));
    auto const replayed = [](std::string const& b) { return b.find(R"({"i":3})") != std::string::npos; };
    ASSERT_TRUE(h1.wait_for(replayed)) << h1.received();
    ASSERT_TRUE(h1_since.wait_for(replayed)) << h1_since.received();
    ASSERT_TRUE(c.wait_for([&](std::string const& b) { return replayed(data_of(b, 1)) && replayed(data_of(b, 3)); }))
        << shown(c.received());
    EXPECT_EQ(data_of(c.received(), 1), sse_body(h1));
    EXPECT_EQ(data_of(c.received(), 3), sse_body(h1_since));
    EXPECT_EQ(data_of(c.received(), 1).find(R"({"i":1})"), std::string::npos);  // after the id: not again
    EXPECT_NE(data_of(c.received(), 1).find(R"({"i":2})"), std::string::npos);
}


// A long poll over HTTP/2 resumes from its cursor as over HTTP/1.1: the messages of its topic and pattern
// published since, in the same answer, byte for byte.
TEST_F(http2, a_long_poll_resumes_from_its_cursor_as_over_http1)
{
    start();
    std::optional<http_result> first;
    switchboard::test::request(srv->ioc, srv->port, "GET", "/poll?topic=r&pattern=p.*", {}, {},
                               [&](http_result r) { first = std::move(r); });
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().long_polling == 1; }));
    srv->publish("r", 1);
    ASSERT_TRUE(srv->run_until([&] { return first.has_value(); }));
    ASSERT_EQ(first->status, 200) << first->body;
    auto const cursor = first->json()["cursor"].get<std::string>();

    srv->publish("r", 2);
    srv->publish("p.a", 3);
    srv->publish("p.b", 4);  // a topic made after the cursor
    srv->publish("elsewhere", 5);
    auto const target = "/poll?topic=r&pattern=p.*&cursor=" + percent_encoded(cursor);
    auto const h1 = fetch(srv->ioc, srv->port, "GET", target);
    auto const h2 = curl_h2(*srv, target);
    ASSERT_EQ(h1.status, 200) << h1.body;
    EXPECT_EQ(h2.status, 200) << h2.output;
    EXPECT_EQ(h2.version, "2");
    EXPECT_EQ(h2.body, h1.body);
    auto const answer = h1.json();
    ASSERT_EQ(answer["messages"].size(), 3u) << h1.body;
    EXPECT_EQ(answer["messages"][0]["data"], 2);
    EXPECT_EQ(answer["messages"][2]["topic"], "p.b");
    EXPECT_NE(answer["cursor"], cursor);
}

// Every SSE parameter the route reads gives the same stream over HTTP/2 as over HTTP/1.1, byte for byte: delta
// updates, a pattern and its resume from Last-Event-ID, and a JWT from the query, from Authorization and from the
// token cookie. HTTP/2 clients (browsers among them) may split the cookie into several `cookie` fields (RFC 9113
// 8.2.3): the server joins them as one header.
TEST_F(http2, every_sse_parameter_gives_the_http1_bytes_over_a_stream)
{
    auto options = quiet_sse();
    std::string const secret = "a secret of at least thirty-two bytes!!";
    options.security.jwt_secret = secret;
    start(options);
    auto const token = make_hs256({{"sub", "ann"}, {"exp", unix_time(1h)}}, secret);
    struct variant {
        std::string target;
        std::string h1_fields;  // header lines over HTTP/1.1
        std::string h2_fields;  // the same as HPACK literals
    };
    std::vector<variant> const variants = {
        {"/sse?topic=doc&delta=1&token=" + token, "", ""},
        {"/sse?pattern=p.*&token=" + token, "", ""},
        {"/sse?topic=a", "Authorization: Bearer " + token + "\r\n", literal("authorization", "Bearer " + token)},
        {"/sse?topic=a", "Cookie: theme=dark; switchboard_token=" + token + "\r\n",
         literal("cookie", "theme=dark") + literal("cookie", "switchboard_token=" + token)},
    };
    std::vector<std::unique_ptr<raw_connection>> h1;
    std::string streams = preface + settings();
    for (std::size_t i = 0; i < variants.size(); ++i) {
        h1.push_back(std::make_unique<raw_connection>(srv->ioc, srv->port));
        h1.back()->send("GET " + variants[i].target + " HTTP/1.1\r\nHost: localhost\r\n" + variants[i].h1_fields + "\r\n");
        streams += request(std::uint32_t(2 * i + 1), "GET", variants[i].target, true, variants[i].h2_fields);
    }
    raw_connection c(srv->ioc, srv->port);
    c.send(streams);
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 2 * variants.size(); })) << shown(c.received());
    ASSERT_TRUE(srv->run_until([&] { return (*srv)->hub().pattern_subscription_count() == 2; }));

    // Versions of one document (deltas after the first), pattern topics (one made now), and a plain topic.
    auto const document = [](int v) {
        return json{{"title", "a long enough document for a delta to pay"}, {"body", std::string(300, 'x')}, {"v", v}};
    };
    for (int v = 1; v <= 3; ++v)
        srv->publish("doc", document(v));
    srv->publish("doc", json{{"end", true}});  // nothing in common: in full
    srv->publish("p.a", 1);
    srv->publish("p.b", 2);
    srv->publish("a", json{{"n", 1.50}});
    auto const done = [&](std::string const& body, std::size_t i) {
        static constexpr std::string_view last[] = {R"("end":true)", R"("topic":"p.b")", R"("n":1.5)", R"("n":1.5)"};
        return body.find(last[i]) != std::string::npos;
    };
    for (std::size_t i = 0; i < variants.size(); ++i) {
        ASSERT_TRUE(h1[i]->wait_for([&](std::string const&) { return done(sse_body(*h1[i]), i); }))
            << variants[i].target << "\n" << h1[i]->received();
        ASSERT_TRUE(c.wait_for([&](std::string const& b) { return done(data_of(b, std::uint32_t(2 * i + 1)), i); }))
            << variants[i].target << "\n" << shown(c.received());
        EXPECT_EQ(data_of(c.received(), std::uint32_t(2 * i + 1)), sse_body(*h1[i])) << variants[i].target;
    }
    EXPECT_NE(sse_body(*h1[0]).find(R"("encoding":"delta")"), std::string::npos) << sse_body(*h1[0]);

    // The pattern resumes from its last event id on both, with a topic made while away: the same replay.
    auto const pattern_body = sse_body(*h1[1]);
    auto const id_at = pattern_body.rfind("id: ");
    ASSERT_NE(id_at, std::string::npos) << pattern_body;
    auto const id = pattern_body.substr(id_at + 4, pattern_body.find('\n', id_at) - id_at - 4);
    h1[1].reset();
    c.send(frame(RST_STREAM, 0, 3, be32(0x8)));
    ASSERT_TRUE(srv->run_until([&] { return (*srv)->hub().pattern_subscription_count() == 0; }));
    srv->publish("p.a", 3);
    srv->publish("p.c", 4);
    raw_connection h1_back(srv->ioc, srv->port);
    h1_back.send("GET /sse?pattern=p.*&token=" + token + " HTTP/1.1\r\nHost: localhost\r\nLast-Event-ID: " + id + "\r\n\r\n");
    c.send(request(9, "GET", "/sse?pattern=p.*&token=" + token, true, literal("last-event-id", id)));
    auto const replayed = [](std::string const& b) {
        return b.find(R"("topic":"p.c")") != std::string::npos && b.find(R"("recovered":true)") != std::string::npos;
    };
    ASSERT_TRUE(h1_back.wait_for([&](std::string const&) { return replayed(sse_body(h1_back)); })) << h1_back.received();
    ASSERT_TRUE(c.wait_for([&](std::string const& b) { return replayed(data_of(b, 9)); })) << shown(c.received());
    EXPECT_EQ(data_of(c.received(), 9), sse_body(h1_back));
    EXPECT_EQ(data_of(c.received(), 9).find(R"("topic":"p.b")"), std::string::npos) << "seen before the id: not again";
}
// A stream whose client never opens its window: its events wait in its channel's queue (not the connection's),
// the queue's bound makes it a slow consumer, and the stream is reset after the close timeout; the other stream
// of the same connection receives throughout.
TEST_F(http2, an_sse_stream_whose_window_never_opens_is_a_slow_consumer_and_the_other_streams_go_on)
{
    auto options = quiet_sse();
    options.max_queue_bytes = 64 * 1024;
    options.close_timeout = 300ms;
    start(options);
    raw_connection c(srv->ioc, srv->port);
    // Every stream's window starts at 0; the connection's is opened wide, and stream 3's.
    c.send(preface + settings({{0x4 /*INITIAL_WINDOW_SIZE*/, 0}}) + frame(WINDOW_UPDATE, 0, 0, be32(1u << 30)) +
           request(1, "GET", "/sse?topic=flood") + request(3, "GET", "/sse?topic=calm") +
           frame(WINDOW_UPDATE, 0, 3, be32(1u << 30)));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 2; })) << shown(c.received());
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, HEADERS, 1) && has(b, HEADERS, 3); }))
        << shown(c.received());
    std::string const big(1000, 'x');
    for (int i = 0; i < 100; ++i) {  // 100 KB for a queue of 64 KiB
        srv->publish("flood", json{{"fill", big}, {"i", i}});
        srv->publish("calm", json{{"i", i}});
    }
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, RST_STREAM, 1); }, 10s)) << shown(c.received());
    EXPECT_TRUE(data_of(c.received(), 1).empty());
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_slow_consumers_total"), 1u);
    srv->publish("calm", json{{"after", true}});
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 3).find(R"({"after":true})") != std::string::npos; }))
        << shown(c.received());
    EXPECT_EQ(srv->stats().sse, 1u);
    EXPECT_FALSE(c.closed());
}

// The connection's window (65,535 bytes, never opened here) runs dry before the stream's: the events wait in the
// stream's queue, within its bound, and all of them leave, in order, once the client opens it.
TEST_F(http2, a_connection_window_that_runs_dry_loses_no_message)
{
    auto options = quiet_sse();
    options.max_queue_bytes = 1024 * 1024;
    start(options);
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings({{0x4 /*INITIAL_WINDOW_SIZE*/, 1u << 20}}) + request(1, "GET", "/sse?topic=dry"));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 1; })) << shown(c.received());
    std::string const big(1000, 'x');
    for (int i = 0; i < 100; ++i)  // ~100 KB
        srv->publish("dry", json{{"fill", big}, {"i", i}});
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 1).size() == 65535; }))
        << data_of(c.received(), 1).size();
    EXPECT_LT(count_of(data_of(c.received(), 1), R"(,"i":)"), 100u);
    c.send(frame(WINDOW_UPDATE, 0, 0, be32(1u << 20)));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return count_of(data_of(b, 1), R"(,"i":)") == 100; }))
        << data_of(c.received(), 1).size();
    auto const body = data_of(c.received(), 1);
    std::size_t at = 0;
    for (int i = 0; i < 100; ++i) {  // every one, in order
        at = body.find(R"(,"i":)" + std::to_string(i) + "}", at);
        ASSERT_NE(at, std::string::npos) << i;
    }
    EXPECT_EQ(srv->stats().sse, 1u);
}

TEST_F(http2, an_sse_stream_reset_by_its_client_frees_its_channel_at_once)
{
    start(quiet_sse());
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings() + request(1, "GET", "/sse?topic=a") + request(3, "GET", "/sse?topic=a"));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 2; })) << shown(c.received());
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, HEADERS, 1) && has(b, HEADERS, 3); }));
    c.send(frame(RST_STREAM, 0, 1, be32(0x8 /*CANCEL*/)));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 1; })) << shown(c.received());
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_streams"), 1u);
    srv->publish("a", json{{"still", "here"}});
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 3).find(R"("still")") != std::string::npos; }))
        << shown(c.received());
    c.close();
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 0; }));
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_connections"), 0u);
}

// Multiplexing multiplies no client's budget: each SSE stream counts as a connection of its address.
TEST_F(http2, sse_streams_count_against_the_connection_limits_of_their_address)
{
    auto options = quiet_sse();
    options.max_connections_per_address = 3;  // the HTTP/2 connection and two streams
    start(options);
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings() + request(1, "GET", "/sse?topic=a") + request(3, "GET", "/sse?topic=a") +
           request(5, "GET", "/sse?topic=a"));
    ASSERT_TRUE(c.wait_for([](std::string const& b) {
        return data_of(b, 5).find("too_many_connections") != std::string::npos;
    })) << shown(c.received());
    EXPECT_EQ(srv->stats().sse, 2u);
    c.send(frame(RST_STREAM, 0, 1, be32(0x8 /*CANCEL*/)));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 1; })) << shown(c.received());
    // The reset stream's place is free again (the channel and its stream are gone).
    c.send(request(7, "GET", "/sse?topic=a"));
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 2; })) << shown(c.received());
}

TEST_F(http2, an_sse_stream_from_an_allowed_origin_carries_the_cors_fields_and_presence_works)
{
    auto options = quiet_sse();
    options.security.allowed_origins = {"https://app.example"};
    start(options);
    auto const url = "http://127.0.0.1:" + std::to_string(srv->port) + "/sse?topic=room&presence=1";
    server_process curl("curl", {"--silent", "--show-error", "--http2-prior-knowledge", "-N", "-i", "-H",
                                 "Origin: https://app.example", url});
    ASSERT_TRUE(srv->run_until([&] { return curl.output().find("\nretry: ") != std::string::npos; }, 20s))
        << curl.output();
    auto const out = curl.output();
    EXPECT_TRUE(out.starts_with("HTTP/2 200")) << out;
    EXPECT_NE(out.find("access-control-allow-origin: https://app.example"), std::string::npos) << out;
    // presence=1: the subscribed event names the stream's member; a member joining over HTTP/1.1 is seen.
    ASSERT_TRUE(srv->run_until([&] { return curl.output().find(R"("presence":{"client")") != std::string::npos; }, 20s))
        << curl.output();
    raw_connection h1(srv->ioc, srv->port);
    h1.send("GET /sse?topic=room&presence=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ASSERT_TRUE(srv->run_until([&] { return curl.output().find("event: join") != std::string::npos; }, 20s))
        << curl.output();
    auto const refused = curl_h2(*srv, "/sse?topic=room", {"-H", "Origin: https://evil.example"});
    EXPECT_EQ(refused.status, 403) << refused.output;
}

TEST_F(http2, an_sse_refusal_over_http2_is_the_http1_error)
{
    start();
    auto const bad = curl_h2(*srv, "/sse?topic=bad%20topic");
    auto const h1 = fetch(srv->ioc, srv->port, "GET", "/sse?topic=bad%20topic");
    EXPECT_EQ(bad.status, h1.status) << bad.output;
    EXPECT_EQ(bad.body, h1.body);
    EXPECT_GE(bad.status, 400);
}

TEST_F(http2, a_header_list_past_the_limit_is_refused_with_431)
{
    server_options options;
    options.http2.max_header_list_size = 4096;
    start(options);
    auto const big = curl_h2(*srv, "/healthz", {"-H", "x-big: " + std::string(8000, 'b')});
    EXPECT_EQ(big.status, 431) << big.output;
    EXPECT_EQ(json::parse(big.body, nullptr, false)["error"]["code"], "headers_too_large") << big.output;
    EXPECT_EQ(curl_h2(*srv, "/healthz").status, 200);
}

TEST_F(http2, the_preface_is_refused_as_a_request_when_http2_is_off)
{
    server_options options;
    options.http2.enabled = false;
    start(options);
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings());
    ASSERT_TRUE(c.wait_for("\r\n\r\n"));
    EXPECT_TRUE(c.received().starts_with("HTTP/1.1 505")) << c.received();
}

// ---- h2 over TLS: ALPN -------------------------------------------------------------------------------------------

TEST_F(http2, a_tls_client_that_offers_h2_by_alpn_speaks_http2_and_one_that_does_not_http1)
{
    test_certificate cert;
    server_options options;
    options.tls_cert_file = cert.cert_file().string();
    options.tls_key_file = cert.key_file().string();
    start(options);
    auto const url = "https://127.0.0.1:" + std::to_string(srv->port);
    auto const h2 = curl(srv->ioc, url + "/healthz", {"--http2", "--cacert", cert.cert_file().string()});
    EXPECT_EQ(h2.status, 200) << h2.output;
    EXPECT_EQ(h2.version, "2") << h2.output;

    server_process poll("nghttp", {"--timeout=20", url + "/poll?topic=secure"});
    ASSERT_TRUE(srv->run_until([&] { return (*srv).stats().long_polling == 1; })) << poll.output();
    auto const published = curl(srv->ioc, url + "/publish?topic=secure",
                                {"--http2", "--cacert", cert.cert_file().string(), "-X", "POST", "-H",
                                 "Content-Type: application/json", "--data-binary", R"({"tls":true})"});
    EXPECT_EQ(published.status, 200) << published.output;
    EXPECT_EQ(published.version, "2");
    ASSERT_TRUE(srv->run_until([&] { return poll.exit_status().has_value(); }, 20s)) << poll.output();
    EXPECT_NE(poll.output().find(R"("data":{"tls":true})"), std::string::npos) << poll.output();

    auto const h1 = curl(srv->ioc, url + "/healthz", {"--http1.1", "--cacert", cert.cert_file().string()});
    EXPECT_EQ(h1.status, 200) << h1.output;
    EXPECT_EQ(h1.version, "1.1") << h1.output;
}

TEST_F(http2, sse_over_tls_by_alpn_h2_receives_a_published_message)
{
    test_certificate cert;
    auto options = quiet_sse();
    options.tls_cert_file = cert.cert_file().string();
    options.tls_key_file = cert.key_file().string();
    start(options);
    auto const url = "https://127.0.0.1:" + std::to_string(srv->port) + "/sse?topic=secure";
    server_process curl("curl", {"--silent", "--show-error", "--http2", "--cacert", cert.cert_file().string(), "-N",
                                 "-i", url});
    ASSERT_TRUE(srv->run_until([&] { return srv->stats().sse == 1; }, 20s)) << curl.output();
    EXPECT_EQ(metric(srv->ioc, srv->port, "switchboard_http2_streams"), 1u);
    srv->publish("secure", json{{"tls", true}});
    ASSERT_TRUE(srv->run_until([&] { return curl.output().find(R"("data":{"tls":true})") != std::string::npos; }, 20s))
        << curl.output();
    EXPECT_TRUE(curl.output().starts_with("HTTP/2 200")) << curl.output();
}

TEST_F(http2, with_http2_off_alpn_offers_only_http1)
{
    test_certificate cert;
    server_options options;
    options.tls_cert_file = cert.cert_file().string();
    options.tls_key_file = cert.key_file().string();
    options.http2.enabled = false;
    start(options);
    auto const a = curl(srv->ioc, "https://127.0.0.1:" + std::to_string(srv->port) + "/healthz",
                        {"--http2", "--cacert", cert.cert_file().string()});
    EXPECT_EQ(a.status, 200) << a.output;
    EXPECT_EQ(a.version, "1.1") << a.output;
}

// ---- attacks --------------------------------------------------------------------------------------------------

TEST_F(http2, streams_past_max_concurrent_streams_are_refused_and_the_others_served)
{
    server_options options;
    options.http2.max_concurrent_streams = 2;
    start(options);
    raw_connection c(srv->ioc, srv->port);
    // Three held polls at once, without waiting for the server's SETTINGS: the third is one too many.
    c.send(preface + settings() + request(1, "GET", "/poll?topic=held") + request(3, "GET", "/poll?topic=held") +
           request(5, "GET", "/poll?topic=held"));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, RST_STREAM, 5); })) << shown(c.received());
    for (auto const& f : frames_in(c.received())) {
        if (f.type == RST_STREAM && f.stream == 5) {
            EXPECT_EQ(code_of(f), 0x7u);  // REFUSED_STREAM
        }
    }
    ASSERT_TRUE(srv->run_until([&] { return (*srv).stats().long_polling == 2; }));
    srv->publish("held", json{{"x", 1}});
    ASSERT_TRUE(c.wait_for([](std::string const& b) {
        return data_of(b, 1).find(R"({"x":1})") != std::string::npos && data_of(b, 3).find(R"({"x":1})") != std::string::npos;
    })) << shown(c.received());
    EXPECT_FALSE(c.closed());
    EXPECT_EQ(curl_h2(*srv, "/healthz").status, 200);  // and other clients are served
}

TEST_F(http2, a_raw_header_list_past_the_limit_gets_431_and_the_connection_goes_on)
{
    server_options options;
    options.http2.max_header_list_size = 1024;
    start(options);
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings() + request(1, "GET", "/healthz", true, literal("x-big", std::string(2000, 'a'))));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 1).find("headers_too_large") != std::string::npos; }))
        << shown(c.received());
    c.send(request(3, "GET", "/healthz"));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 3).find("ok") != std::string::npos; }))
        << shown(c.received());
    EXPECT_FALSE(c.closed());
}

TEST_F(http2, a_body_that_never_ends_is_reset_at_the_request_deadline_and_the_connection_goes_on)
{
    server_options options;
    options.request_timeout = 300ms;
    start(options);
    raw_connection c(srv->ioc, srv->port);
    auto const started = std::chrono::steady_clock::now();
    c.send(preface + settings() + request(1, "POST", "/publish?topic=a", /*ends=*/false) + frame(DATA, 0, 1, R"({"a")"));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, RST_STREAM, 1); })) << shown(c.received());
    EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
    for (auto const& f : frames_in(c.received())) {
        if (f.type == RST_STREAM && f.stream == 1) {
            EXPECT_EQ(code_of(f), 0x8u);  // CANCEL
        }
    }
    EXPECT_FALSE(has(c.received(), HEADERS, 1));  // never published, never answered
    c.send(request(3, "GET", "/healthz"));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 3).find("ok") != std::string::npos; }))
        << shown(c.received());
}

TEST_F(http2, an_answer_whose_window_never_opens_is_reset_and_other_streams_still_receive)
{
    server_options options;
    options.request_timeout = 300ms;
    start(options);
    raw_connection c(srv->ioc, srv->port);
    // Every stream's window starts at 0: stream 1's body (the client script) cannot leave until the client
    // opens the window, which it never does for stream 1.
    c.send(preface + settings({{0x4 /*INITIAL_WINDOW_SIZE*/, 0}}) + request(1, "GET", "/switchboard.js"));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, HEADERS, 1); })) << shown(c.received());
    c.send(request(3, "GET", "/healthz") + frame(WINDOW_UPDATE, 0, 3, be32(65535)));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 3).find("ok") != std::string::npos; }))
        << shown(c.received());
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, RST_STREAM, 1); })) << shown(c.received());
    EXPECT_TRUE(data_of(c.received(), 1).empty());
    EXPECT_FALSE(c.closed());
}

TEST_F(http2, bytes_that_are_not_http2_after_the_preface_get_goaway_and_no_harm)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + "this is not a frame, nor a SETTINGS frame, at all.............");
    ASSERT_TRUE(c.wait_closed()) << shown(c.received());
    bool goaway = false;
    for (auto const& f : frames_in(c.received()))
        if (f.type == GOAWAY) {
            goaway = true;
            EXPECT_NE(code_of(f), 0u);  // an error code, not NO_ERROR
        }
    EXPECT_TRUE(goaway) << shown(c.received());
    EXPECT_EQ(curl_h2(*srv, "/healthz").status, 200);
}

// Many PINGs and SETTINGS in one burst: each wants an acknowledgement. nghttp2 bounds the acknowledgements it
// holds (1,000) and reports a flood past that; the connection is closed at once. The server stays up and serves
// others.
TEST_F(http2, a_flood_of_pings_and_settings_closes_that_connection_and_harms_no_one_else)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    std::string flood = preface + settings();
    for (int i = 0; i < 20'000; ++i)
        flood += i % 2 ? frame(0x6 /*PING*/, 0, 0, "12345678") : settings();
    c.send(flood);
    ASSERT_TRUE(c.wait_closed(10s)) << frames_in(c.received()).size() << " frames";
    EXPECT_LT(frames_in(c.received()).size(), 2'000u);
    EXPECT_EQ(curl_h2(*srv, "/healthz").status, 200);
}

// Streams opened and reset at once, over and over (CVE-2023-44487, "rapid reset"): each costs the server a route
// run at most; the connection ends or goes on, and other clients are served throughout.
// A long poll held on a stream the client resets: the poll lets go at once (its departure), not at its hold.
TEST_F(http2, a_long_poll_reset_by_its_client_lets_go_of_it_at_once)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings() + request(1, "GET", "/poll?topic=reset"));
    ASSERT_TRUE(srv->run_until([&] { return (*srv).stats().long_polling == 1; })) << frames_in(c.received()).size();
    c.send(frame(RST_STREAM, 0, 1, be32(0x8)));
    ASSERT_TRUE(srv->run_until([&] {
        return (*srv).stats().long_polling == 0 && (**srv).hub().subscriber_count("reset") == 0;
    }, 10s));
    EXPECT_FALSE(c.closed());
}

TEST_F(http2, streams_opened_and_reset_at_once_harm_no_one_else)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    std::string burst = preface + settings();
    for (std::uint32_t id = 1; id < 2 * 5'000; id += 2)
        burst += request(id, "GET", "/healthz") + frame(RST_STREAM, 0, id, be32(0x8));
    c.send(burst);
    ASSERT_TRUE(srv->run_until([&] { return c.closed() || has(c.received(), HEADERS, 2 * 5'000 - 1); }, 10s) ||
                !frames_in(c.received()).empty())
        << frames_in(c.received()).size() << " frames";
    EXPECT_EQ(curl_h2(*srv, "/healthz").status, 200);
}

// A client that sends PINGs in small bursts and never reads its socket: the acknowledgements fill the kernel's
// buffers, then wait in nghttp2, which holds at most 1,000 of them (its outbound flood limit) and then reports a
// flood: the connection is closed. The server does not buffer without bound, and serves others.
TEST_F(http2, pings_from_a_client_that_never_reads_are_not_buffered_without_bound)
{
    server_options options;
    options.request_timeout = 60s;  // the write deadline is not what ends it
    start(options);
    namespace asio = boost::asio;
    asio::ip::tcp::socket s(srv->ioc);
    s.open(asio::ip::tcp::v4());
    s.set_option(asio::socket_base::receive_buffer_size(4096));
    s.connect({asio::ip::address_v4::loopback(), srv->port});
    s.non_blocking(true);
    std::string burst;
    for (int i = 0; i < 100; ++i)  // 1,700 bytes: well under the 1,000 acknowledgements nghttp2 holds per read
        burst += frame(PING, 0, 0, "12345678");
    std::string pending = preface + settings() + burst;
    std::size_t written = 0;
    boost::system::error_code ec;
    auto const deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline && written < (256u << 20)) {
        auto const n = s.write_some(asio::buffer(pending), ec);
        if (ec && ec != asio::error::would_block)
            break;
        written += n;
        pending.erase(0, n);
        if (pending.empty())
            pending = burst;
        if (ec == asio::error::would_block || written % (64 * 1024) < burst.size())
            (void)srv->run_until([] { return false; }, 5ms);  // the server's turn
        ec = {};
    }
    EXPECT_TRUE(ec) << written << " bytes written and the connection still open";
    // What the kernel buffers on loopback (a few MB each way) and 1,000 acknowledgements: far below.
    EXPECT_LT(written, 64u << 20);
    std::cout << "[          ] closed after " << written / 17 << " PINGs (" << ec.message() << ")\n";
    EXPECT_EQ(curl_h2(*srv, "/healthz").status, 200);
}

// An HPACK bomb (RFC 7541 7.3): one field of 4,000 bytes put in the dynamic table, then named by its index, one
// byte each, 12,000 times: a block of 16 KB that decodes to 48 MB. The header list limit refuses the request (431)
// without keeping the fields, and the connection goes on.
TEST_F(http2, an_hpack_bomb_is_refused_with_431_and_the_connection_goes_on)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    std::string block = "\x82\x86" + literal(4, "/healthz") + literal(1, "localhost");
    block += '\x40' + hpack_int(7, 5) + "x-big" + hpack_int(7, 4000) + std::string(4000, 'b');  // indexed: 62
    block += std::string(12'000, '\xbe');
    auto const started = std::chrono::steady_clock::now();
    c.send(preface + settings() + frame(HEADERS, END_HEADERS | END_STREAM, 1, block));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 1).find("headers_too_large") != std::string::npos; }))
        << shown(c.received());
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
    c.send(request(3, "GET", "/healthz"));
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return data_of(b, 3).find("ok") != std::string::npos; }))
        << shown(c.received());
    EXPECT_FALSE(c.closed());
}

// The server ended the connection with a GOAWAY whose code names an error.
void expect_goaway_with_an_error(std::string const& received)
{
    bool goaway = false;
    for (auto const& f : frames_in(received))
        if (f.type == GOAWAY) {
            goaway = true;
            EXPECT_NE(code_of(f), 0u);
        }
    EXPECT_TRUE(goaway) << shown(received);
}

// A header block that never ends (CVE-2024-28182): HEADERS, then CONTINUATION after CONTINUATION, each with
// another field. nghttp2 accepts a few (8) and then ends the connection with GOAWAY; the server holds none of it.
TEST_F(http2, a_flood_of_continuation_frames_ends_that_connection_and_harms_no_one_else)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    std::string flood = preface + settings() + frame(HEADERS, END_STREAM, 1, "\x82\x86" + literal(4, "/healthz"));
    for (int i = 0; i < 10'000; ++i)
        flood += frame(CONTINUATION, 0, 1, literal("x-c" + std::to_string(i), std::string(100, 'c')));
    c.send(flood);
    ASSERT_TRUE(c.wait_closed(10s)) << shown(c.received());
    expect_goaway_with_an_error(c.received());
    EXPECT_FALSE(has(c.received(), HEADERS, 1));
    EXPECT_EQ(curl_h2(*srv, "/healthz").status, 200);
}

// SETTINGS frames each with many entries: nghttp2 refuses more than its limit of entries per frame (32) as a flood
// (ENHANCE_YOUR_CALM) rather than acting on each.
TEST_F(http2, a_settings_frame_of_thousands_of_entries_ends_that_connection)
{
    start();
    raw_connection c(srv->ioc, srv->port);
    std::vector<std::pair<std::uint16_t, std::uint32_t>> entries;
    for (int i = 0; i < 2'000; ++i)
        entries.push_back({0x3 /*MAX_CONCURRENT_STREAMS*/, std::uint32_t(i)});
    c.send(preface + settings(entries));
    ASSERT_TRUE(c.wait_closed(10s)) << shown(c.received());
    expect_goaway_with_an_error(c.received());
    EXPECT_EQ(curl_h2(*srv, "/healthz").status, 200);
}

TEST_F(http2, an_idle_connection_is_sent_away_after_the_request_timeout)
{
    server_options options;
    options.request_timeout = 300ms;
    start(options);
    raw_connection c(srv->ioc, srv->port);
    c.send(preface + settings());
    ASSERT_TRUE(c.wait_for([](std::string const& b) { return has(b, GOAWAY, 0); }, 5s)) << shown(c.received());
    for (auto const& f : frames_in(c.received())) {
        if (f.type == GOAWAY) {
            EXPECT_EQ(code_of(f), 0u);  // NO_ERROR
        }
    }
}

}  // namespace
}  // namespace switchboard::test
