// Between requests, a kept-alive plain HTTP/1.1 connection waits on its socket alone (http_connection::
// await_request): Beast's stream state, the read's pending operation, the read buffer and the parser are made
// again when the next request's first bytes come (Beast's stream state only if the request does not come whole,
// begin_request). The connection must behave as before: its next request is
// served, a quiet one closes at request_timeout, a stop closes it; and a long poll's client, answered and about
// to poll again, must not cost the server more memory than it did waiting.

#include "support/build_speed.hpp"
#include "support/count_of.hpp"
#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "support/process_memory.hpp"
#include "support/raw_connection.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;

server_options timing_out_after(std::chrono::milliseconds request_timeout)
{
    server_options options;
    options.request_timeout = request_timeout;
    return options;
}

std::size_t answers_in(std::string const& received) { return count_of(received, "HTTP/1.1 "); }

// Sends `request` and waits for its answer, the connection's `nth`: the connection then waits for its next request.
void ask(raw_connection& c, std::string const& request, std::size_t nth)
{
    c.send(request);
    ASSERT_TRUE(c.wait_for([nth](std::string const& r) { return answers_in(r) == nth; })) << c.received();
}

TEST(keep_alive, a_connection_serves_requests_that_come_after_quiet_gaps_and_closes_when_quiet_past_request_timeout)
{
    live_server srv(timing_out_after(800ms));
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    // Each request comes once the connection waits for it (its answer is read): the wait hands over to the
    // request's read.
    ask(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    ask(c,
        "POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
        "{\"n\":1}",
        2);
    ask(c, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 3);
    EXPECT_EQ(count_of(c.received(), "HTTP/1.1 200 "), 3u) << c.received();

    // Then nothing: the connection closes once request_timeout has passed since the last answer.
    auto const quiet_since = std::chrono::steady_clock::now();
    ASSERT_TRUE(c.wait_closed(10s));
    EXPECT_GE(std::chrono::steady_clock::now() - quiet_since, 400ms);  // not at once
}

TEST(keep_alive, a_request_dribbled_into_a_waiting_connection_is_cut_off_at_the_same_deadline)
{
    live_server srv(timing_out_after(500ms));
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    ask(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    // A head that never ends (slowloris) after the first answer: cut off, not held by the wait it woke.
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    ASSERT_TRUE(c.wait_closed(10s));
    EXPECT_EQ(answers_in(c.received()), 1u) << c.received();
}

// A request that comes to a waiting connection all at once is read and handled on the socket alone; one that
// comes in pieces wakes Beast's stream for the rest, under the deadline the wait started.
TEST(keep_alive, a_request_that_comes_in_pieces_after_a_quiet_gap_is_served_and_one_whose_body_stops_is_cut_off)
{
    live_server srv(timing_out_after(800ms));
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    ask(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    auto const handle_what_came = [&] {
        for (int i = 0; i < 10; ++i)
            srv.ioc.poll();  // loopback: the bytes are in the server's socket once send() returns
    };

    // The head in two pieces.
    c.send("GET /healthz HTTP/1.1\r\nHo");
    handle_what_came();
    ask(c, "st: x\r\n\r\n", 2);
    // A whole head, its body later.
    c.send("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n");
    handle_what_came();
    ask(c, "{\"n\":1}", 3);
    EXPECT_EQ(count_of(c.received(), "HTTP/1.1 200 "), 3u) << c.received();

    // A whole head whose body never comes: cut off at the deadline, not held. On a connection of its own, whose
    // first request is not a publish: a publisher's connection waits on its socket alone too, but its answers go
    // out in line.
    raw_connection slow(srv.ioc, srv.port);
    ask(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    slow.send("POST /publish?topic=t HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n"
              "{");
    ASSERT_TRUE(slow.wait_closed(10s));
    EXPECT_EQ(answers_in(slow.received()), 1u) << slow.received();
}

// Every kind of request, whole, to a connection waiting for it on the socket alone: a new one (its stream rests from
// the start) and one whose first answer is out. Each is read and handled there, Beast's stream resting, and what
// it does next (an interim answer, a body to wait for, a stream, an upgrade, a held poll, HTTP/2) must wake the
// stream or leave it: a 100 Continue written on a resting stream once ended the server.
TEST(keep_alive, every_kind_of_request_is_served_on_a_connection_waiting_for_it_on_the_socket_alone)
{
    server_options options = timing_out_after(2s);
    options.poll_hold = 200ms;
    live_server srv(options);
    srv.start();
    struct kind {
        std::string name;
        std::string request;
        std::string answer;  // how the first answer starts
        std::string then;    // sent once it has come, if not empty
        std::string final_answer;
    };
    std::string const json_body = R"({"n":123456789012345678901234567890})";
    std::string const length = std::to_string(json_body.size());
    std::vector<kind> const kinds = {
        {"GET", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", "", ""},
        {"HEAD", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", "", ""},
        {"HTTP/1.0", "GET /healthz HTTP/1.0\r\n\r\n", "HTTP/1.0 200 ", "", ""},
        {"publish", "POST /publish?topic=k HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n" + json_body,
         "HTTP/1.1 200 ", "", ""},
        {"chunked publish",
         "POST /publish?topic=k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1,2]\r\n0\r\n\r\n",
         "HTTP/1.1 200 ", "", ""},
        {"100-continue",
         "POST /publish?topic=k HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " + length + "\r\n\r\n",
         "HTTP/1.1 100 Continue\r\n\r\n", json_body, "HTTP/1.1 200 "},
        {"body later", "POST /publish?topic=k HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n", "",
         json_body, "HTTP/1.1 200 "},
        {"SSE", "GET /sse?topic=k HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", "", ""},
        {"WebSocket",
         "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
         "HTTP/1.1 101 ", "", ""},
        {"poll", "GET /poll?topic=quiet HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 ", "", ""},
        {"not found", "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 ", "", ""},
        {"bad head", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "HTTP/1.1 400 ", "", ""},
        {"HTTP/3", "GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505 ", "", ""},
    };
    for (auto const& k : kinds) {
        for (bool const after_an_answer : {false, true}) {
            SCOPED_TRACE(k.name + (after_an_answer ? ", after an answer" : ", first"));
            raw_connection c(srv.ioc, srv.port);
            std::size_t before = 0;
            if (after_an_answer) {
                ask(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
                before = c.received().size();
            }
            c.send(k.request);
            auto const answer_after = [&](std::string const& start, std::size_t from) {
                return c.wait_for([&](std::string const& r) { return r.size() >= from + start.size(); }, 10s) &&
                       c.received().compare(from, start.size(), start) == 0;
            };
            if (!k.answer.empty()) {
                ASSERT_TRUE(answer_after(k.answer, before)) << c.received();
            }
            if (!k.then.empty()) {
                auto const at = c.received().size();
                c.send(k.then);
                ASSERT_TRUE(answer_after(k.final_answer, at)) << c.received();
            }
        }
    }
    // And the server still serves.
    raw_connection last(srv.ioc, srv.port);
    ask(last, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    // The h2c preface on a new connection starts HTTP/2 (the server's SETTINGS); after an HTTP/1.1 answer it is
    // an HTTP/2.0 request line, refused.
    raw_connection h2(srv.ioc, srv.port);
    h2.send(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24));
    ASSERT_TRUE(h2.wait_for([](std::string const& r) { return r.size() >= 9; })) << h2.received();
    EXPECT_EQ(h2.received()[3], '\x04') << "not a SETTINGS frame";
    ask(last, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 2);
    EXPECT_NE(last.received().find("HTTP/1.1 505 "), std::string::npos) << last.received();
}

TEST(keep_alive, a_stop_closes_connections_waiting_for_their_next_request)
{
    live_server srv;
    srv.start();
    std::vector<std::unique_ptr<raw_connection>> waiting;
    for (int i = 0; i < 20; ++i) {
        waiting.push_back(std::make_unique<raw_connection>(srv.ioc, srv.port));
        ask(*waiting.back(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1);
    }
    (*srv).stop();
    for (auto& c : waiting)
        ASSERT_TRUE(c->wait_closed(10s));
    // And live_server's end checks that the loop runs dry: no wait and no deadline is left behind.
}

// A waiting poll keeps of its request only its version, method and keep-alive, and of its Origin a pointer: its
// answer, a message later, must still be in the request's HTTP version, close when the request asked for it, and
// carry the allowed Origin's CORS fields.
TEST(keep_alive, a_waiting_poll_is_answered_in_its_request_version_and_keep_alive_with_its_origin)
{
    server_options options;
    options.security.allowed_origins = {"https://app.example"};
    live_server srv(options, 1);
    srv.start();
    raw_connection old(srv.ioc, srv.port), closing(srv.ioc, srv.port), kept(srv.ioc, srv.port);
    old.send("GET /poll?topic=t HTTP/1.0\r\nHost: x\r\n\r\n");
    closing.send("GET /poll?topic=t HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: https://app.example\r\n\r\n");
    kept.send("GET /poll?topic=t HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 3; }, 10s));
    srv.publish("t", nlohmann::json{{"n", 1}});
    for (auto* c : {&old, &closing})
        ASSERT_TRUE(c->wait_closed(10s)) << c->received();
    ASSERT_TRUE(kept.wait_for(R"({"n":1})", 10s)) << kept.received();

    EXPECT_EQ(old.received().rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << old.received();
    EXPECT_NE(old.received().find(R"({"n":1})"), std::string::npos) << old.received();
    EXPECT_EQ(closing.received().rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << closing.received();
    EXPECT_NE(closing.received().find("Connection: close\r\n"), std::string::npos) << closing.received();
    EXPECT_NE(closing.received().find("Access-Control-Allow-Origin: https://app.example\r\n"), std::string::npos)
        << closing.received();
    EXPECT_EQ(kept.received().find("Access-Control-Allow-Origin"), std::string::npos) << kept.received();
    // The kept-alive one serves its next request.
    ask(kept, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2);
}

// A waiting poll's departure watch hands its socket wait on to the connection's wait for its next request once
// the poll is answered. That wait must serve as its own would: the next poll, the client's end, or nothing until
// request_timeout.
TEST(keep_alive, an_answered_poll_waits_for_its_next_request_on_the_wait_that_watched_for_its_departure)
{
    live_server srv(timing_out_after(800ms));
    srv.start();
    std::string const poll = "GET /poll?topic=t HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_connection next(srv.ioc, srv.port), leaving(srv.ioc, srv.port), quiet(srv.ioc, srv.port);
    for (auto* c : {&next, &leaving, &quiet})
        c->send(poll);
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 3; }, 10s));
    srv.publish("t", nlohmann::json{{"n", 1}});
    for (auto* c : {&next, &leaving, &quiet})
        ASSERT_TRUE(c->wait_for(R"({"n":1})", 10s)) << c->received();
    auto const answered_at = std::chrono::steady_clock::now();

    // The next poll is read and waits; a message answers it.
    next.send(poll);
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 1; }, 10s));
    srv.publish("t", nlohmann::json{{"n", 2}});
    ASSERT_TRUE(next.wait_for(R"({"n":2})", 10s)) << next.received();
    // The client's end closes the connection.
    leaving.shutdown_send();
    ASSERT_TRUE(leaving.wait_closed(10s));
    EXPECT_EQ(answers_in(leaving.received()), 1u) << leaving.received();
    // Nothing: closed at request_timeout.
    ASSERT_TRUE(quiet.wait_closed(10s));
    EXPECT_GE(std::chrono::steady_clock::now() - answered_at, 400ms);
    EXPECT_EQ(answers_in(quiet.received()), 1u) << quiet.received();
}

#ifdef SWITCHBOARD_SERVER_PATH
TEST(keep_alive, a_message_to_many_waiting_polls_leaves_the_server_memory_where_it_was)
{
    // The bundled server as a process, so that its resident memory is its own. A message to every waiting poll
    // answers them all in one loop turn; each client then polls again on its connection. Each connection used to
    // make Beast's stream state for its answer and hold it, with a pending read, a read buffer and a parser,
    // until its next poll came: ~2 KB per poll here, all at once, left in the heap after them (docs/benchmarks.md,
    // "Waiting long polls").
    if (build_slowdown > 1)
        GTEST_SKIP() << "resident memory is measured in the optimized build only";
    server_process server(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0", "--poll-hold", "5m"});
    auto const port = server.wait_for_port(20s);
    ASSERT_TRUE(port) << server.output();
    boost::asio::io_context ioc;
    auto waiting_polls = [&] {
        return metric(ioc, *port, "switchboard_connections{transport=\"long-polling\"}").value_or(0);
    };
    constexpr std::size_t polls = 400;
    std::string const poll = "GET /poll?topic=fan HTTP/1.1\r\nHost: x\r\n\r\n";
    std::vector<std::unique_ptr<raw_connection>> clients;
    // 20 at a time: what connecting leaves free in the heap is then too little to hide the fan-out's cost.
    while (clients.size() < polls) {
        for (int i = 0; i < 20; ++i) {
            clients.push_back(std::make_unique<raw_connection>(ioc, *port));
            clients.back()->send(poll);
        }
        ASSERT_TRUE(run_until(ioc, [&] { return waiting_polls() == clients.size(); }, 30s)) << server.output();
    }
    auto const before = memory_of(server.pid());
    ASSERT_TRUE(before);

    ASSERT_EQ(fetch(ioc, *port, "POST", "/publish?topic=fan", R"({"n":1})").status, 200);
    for (auto& c : clients) {
        ASSERT_TRUE(c->wait_for([](std::string const& r) { return r.find("\"cursor\":\"") != std::string::npos; },
                                30s));
        auto const& r = c->received();
        auto const at = r.find("\"cursor\":\"") + 10;
        c->send("GET /poll?topic=fan&cursor=" + r.substr(at, r.find('"', at) - at) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    ASSERT_TRUE(run_until(ioc, [&] {
        return metric(ioc, *port, "switchboard_connections_opened_total{transport=\"long-polling\"}") == 2 * polls &&
               waiting_polls() == polls;
    }, 30s)) << server.output();
    auto const after = memory_of(server.pid());
    ASSERT_TRUE(after);
    for (auto const& c : clients)
        EXPECT_NE(c->received().find(R"({"n":1})"), std::string::npos);
    auto const per_poll = (after->resident - std::min(after->resident, before->resident)) / polls;
    std::printf("[          ] %zu bytes per poll more after the message (resident %zu KiB before)\n", per_poll,
                before->resident / 1024);
    EXPECT_LT(per_poll, 1200u) << per_poll << " bytes per poll more after the message";
}
#endif

}  // namespace
}  // namespace switchboard::test
