// HTTP/1.1 pipelining of requests answered later: a publish runs while the requests before it on its connection
// wait for their answers, the answers go out in the order of the requests, and what one connection may hold this
// way is bounded by its budget. The decisions come from an authorize hook that holds them (held_decisions.hpp),
// as a remote authorization service or the broker's round trip would.

#include "support/count_of.hpp"
#include "support/held_decisions.hpp"
#include "support/live_server.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"
#include "support/test_certificate.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <sstream>

namespace switchboard::test {
namespace {

using nlohmann::json;

std::string pipelined_publish(std::string const& topic, std::string const& body = "1",
                              std::string const& fields = {})
{
    return "POST /publish?topic=" + topic + " HTTP/1.1\r\nHost: x\r\n" + fields +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// `count` publishes to `topic`, each body its index, in one write.
std::string pipelined_publishes(std::string const& topic, int count)
{
    std::string burst;
    for (int i = 0; i < count; ++i)
        burst += pipelined_publish(topic, std::to_string(i));
    return burst;
}

// The statuses of the complete responses in `bytes`, in order.
std::vector<unsigned> statuses_of(std::string_view bytes)
{
    std::vector<unsigned> statuses;
    for (auto const& res : take_responses(bytes))
        statuses.push_back(res.result_int());
    return statuses;
}

std::size_t answers_in(std::string const& in)
{
    return statuses_of(in).size();
}

TEST(pipelining, a_request_that_cannot_run_ahead_waits_for_the_answers_before_it)
{
    live_server srv;
    held_decisions decisions(srv);
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    c.send(pipelined_publish("waits") + pipelined_publish("waits") + pipelined_publish("waits") +
           "GET /poll?topic=waits&cursor=0..waits HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == 3; }));
    // The poll is read but not run: it would subscribe, and answer before the publishes.
    EXPECT_EQ((*srv).hub().subscriber_count("waits"), 0u);
    EXPECT_TRUE(c.received().empty());

    decisions.allow();
    ASSERT_TRUE(c.wait_for([](std::string const& in) { return answers_in(in) == 4; }, std::chrono::seconds(10)))
        << c.received();
    std::string_view in = c.received();
    for (std::uint64_t offset = 1; offset <= 3; ++offset) {
        auto const res = take_response(in);
        ASSERT_TRUE(res);
        EXPECT_EQ(json::parse(res->body())["offset"], offset);
    }
    auto const poll = take_response(in);
    ASSERT_TRUE(poll);
    EXPECT_EQ(poll->result_int(), 200u);
    EXPECT_EQ(json::parse(poll->body())["messages"].size(), 3u) << poll->body();
    EXPECT_FALSE(c.closed());
}

TEST(pipelining, refusals_take_their_place_among_the_answers)
{
    live_server srv;
    held_decisions decisions(srv);
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    c.send(pipelined_publish("first") + pipelined_publish("not%20a%20topic") + pipelined_publish("second", "{") +
           "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n" + pipelined_publish("third"));
    // The refusals are answered at once, but go out behind the first publish's answer.
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == 1; }));
    EXPECT_TRUE(c.received().empty());
    decisions.allow();
    // The 404 is the connection's own answer: the next request is read once every answer before it is out.
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == 1; }));
    decisions.allow();
    ASSERT_TRUE(c.wait_for([](std::string const& in) { return answers_in(in) == 5; }, std::chrono::seconds(10)))
        << c.received();
    EXPECT_EQ(statuses_of(c.received()), (std::vector<unsigned>{200, 400, 400, 404, 200}));
    EXPECT_EQ(decisions.asked, (std::vector<std::string>{"first", "third"}));
    EXPECT_FALSE(c.closed());
}

// A client that pipelines and never reads (or whose answers take long) has at most limits.max_pending_commands
// requests in flight: past that the connection reads nothing more until an answer goes out.
TEST(pipelining, a_connection_holds_at_most_its_pending_commands)
{
    server_options options;
    options.max_pending_commands = 4;
    live_server srv(options);
    held_decisions decisions(srv);
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    c.send(pipelined_publishes("budget", 16));
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == 4; }));
    // One answer makes room for exactly one more request.
    decisions.allow(1);
    ASSERT_TRUE(srv.run_until([&] { return decisions.asked.size() == 5; }));
    EXPECT_EQ(decisions.waiting(), 4u);
    while (decisions.asked.size() < 16 || decisions.waiting() > 0) {
        decisions.allow(1);
        auto const asked = decisions.asked.size();
        ASSERT_TRUE(srv.run_until([&] { return decisions.asked.size() > asked || asked == 16; }));
    }
    ASSERT_TRUE(c.wait_for([](std::string const& in) { return answers_in(in) == 16; }, std::chrono::seconds(10)));
    EXPECT_EQ(decisions.most_waiting, 4u);
    EXPECT_EQ(statuses_of(c.received()), std::vector<unsigned>(16, 200));
}

// ... and the bytes of those requests within limits.max_pending_bytes (one request always fits).
TEST(pipelining, a_connection_holds_at_most_its_pending_bytes)
{
    server_options options;
    options.max_pending_bytes = 1024;
    live_server srv(options);
    held_decisions decisions(srv);
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    std::string const body = "\"" + std::string(600, 'x') + "\"";
    c.send(pipelined_publish("bytes", body) + pipelined_publish("bytes", body) + pipelined_publish("bytes", body));
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == 2; }));
    decisions.allow(1);
    ASSERT_TRUE(srv.run_until([&] { return decisions.asked.size() == 3; }));
    decisions.allow();
    ASSERT_TRUE(c.wait_for([](std::string const& in) { return answers_in(in) == 3; }, std::chrono::seconds(10)));
    EXPECT_EQ(decisions.most_waiting, 2u);
}

// A client may send its requests and half-close: every answer still comes, then the server closes.
TEST(pipelining, a_client_that_half_closes_gets_every_answer)
{
    live_server srv;
    held_decisions decisions(srv);
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    c.send(pipelined_publishes("half", 8));
    c.shutdown_send();
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == 8; }));
    decisions.allow();
    ASSERT_TRUE(c.wait_closed(std::chrono::seconds(10)));
    EXPECT_EQ(statuses_of(c.received()), std::vector<unsigned>(8, 200)) << c.received();
}

// Connection: close on a request ends the line there: the requests behind it are not run.
TEST(pipelining, connection_close_ends_the_line)
{
    live_server srv;
    held_decisions decisions(srv);
    srv.start();
    raw_connection c(srv.ioc, srv.port);
    c.send(pipelined_publish("closing") + pipelined_publish("closing", "2", "Connection: close\r\n") +
           pipelined_publish("closing", "3"));
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == 2; }));
    decisions.allow();
    ASSERT_TRUE(c.wait_closed(std::chrono::seconds(10)));
    EXPECT_EQ(statuses_of(c.received()), (std::vector<unsigned>{200, 200}));
    EXPECT_EQ(decisions.asked.size(), 2u);
    EXPECT_EQ(count_of(c.received(), "Connection: close"), 1u);
}

// A client that leaves with answers owed: the publishes it sent still happen (they were accepted), their answers
// go nowhere, and the connection is freed (the sanitizer build finds what is not).
TEST(pipelining, a_client_gone_with_answers_owed_leaves_nothing_behind)
{
    live_server srv;
    held_decisions decisions(srv);
    srv.start();
    {
        raw_connection c(srv.ioc, srv.port);
        c.send(pipelined_publish("gone") + pipelined_publish("gone"));
        ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == 2; }));
        c.close();
    }
    decisions.allow();
    std::optional<position> next;
    (*srv).publish("gone", json(3), [&](boost::system::error_code ec, position where) {
        EXPECT_FALSE(ec) << ec.message();
        next = where;
    });
    ASSERT_TRUE(srv.run_until([&] { return next.has_value(); }));
    EXPECT_EQ(next->offset, 3u);
}

// The same over TLS, with Python's ssl module as the client: the answers, written while the next request is read
// (one read and one write in flight on the TLS stream), come whole and in order.
constexpr char const* tls_pipelining_client = R"(
import socket, ssl, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=20), server_hostname='localhost')
s.sendall(b''.join(b'POST /publish?topic=tls HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n1' for _ in range(count)))
data = b''
answers = []
while len(answers) < count:
    head_end = data.find(b'\r\n\r\n')
    if head_end >= 0:
        head = data[:head_end].decode()
        length = int(next(l.split(':')[1] for l in head.split('\r\n') if l.lower().startswith('content-length')))
        if len(data) >= head_end + 4 + length:
            body = data[head_end + 4:head_end + 4 + length].decode()
            answers.append(head.split(' ')[1] + ' ' + body)
            data = data[head_end + 4 + length:]
            continue
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print('\n'.join(answers), flush=True)
)";

TEST(pipelining, over_tls_the_answers_come_whole_and_in_order)
{
    test_certificate cert;
    server_options options;
    options.tls_cert_file = cert.cert_file().string();
    options.tls_key_file = cert.key_file().string();
    live_server srv(options);
    held_decisions decisions(srv);
    srv.start();
    constexpr int count = 16;
    // Debian's python3 and its ssl module, not another python3 earlier on the PATH.
    server_process client("/usr/bin/python3", {"-c", tls_pipelining_client, std::to_string(srv.port),
                                               std::to_string(count)});
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == count; }, std::chrono::seconds(30)))
        << decisions.waiting() << " waiting; " << client.output();
    decisions.allow(count, true);
    ASSERT_TRUE(srv.run_until([&] { return client.exit_status().has_value(); }, std::chrono::seconds(30)))
        << client.output();
    EXPECT_EQ(*client.exit_status(), 0) << client.output();
    std::istringstream lines(client.output());
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
        auto const space = line.find(' ');
        ASSERT_NE(space, std::string::npos) << line;
        EXPECT_EQ(line.substr(0, space), "200") << line;
        EXPECT_EQ(json::parse(line.substr(space + 1))["offset"], count - n) << line;  // published last-first
        ++n;
    }
    EXPECT_EQ(n, count) << client.output();
}

}  // namespace
}  // namespace switchboard::test
