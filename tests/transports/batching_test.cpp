// Batching, seen from the subscribers' sockets: what one loop turn reads is handled before the turn's flush, so
// the fan-out of many publishes that arrived together leaves in a few writes per subscriber, not one per publish.
// The kernel's count of data segments a subscriber received (tcp_segments.hpp) shows how many writes the server
// made to it: on loopback each write of a few KB is one segment, however late the client reads. No timing.

#include "support/count_of.hpp"
#include "support/held_decisions.hpp"
#include "support/live_server.hpp"
#include "support/raw_connection.hpp"
#include "support/redis_process.hpp"
#include "support/sse_client.hpp"
#include "support/tcp_segments.hpp"
#include "support/ws_client.hpp"

#include <switchboard/redis_backplane.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace switchboard::test {
namespace {

using nlohmann::json;

constexpr std::size_t publishes = 64;

// Up to this many writes per subscriber for `publishes` messages is batched; one write per publish is not.
constexpr std::uint32_t batched_writes = 8;

std::string publish_request(std::string const& topic, std::size_t i)
{
    auto const body = json{{"i", i}}.dump();
    return "POST /publish?topic=" + topic + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}

// `count` publishes to `topic` pipelined on `publisher`, in one write: the server reads them whole.
void send_pipelined(raw_connection& publisher, std::string const& topic, std::size_t count)
{
    std::string burst;
    for (std::size_t i = 0; i < count; ++i)
        burst += publish_request(topic, i);
    publisher.send(burst);
}

// Waits until `publisher` has `count` answers 200.
bool answered(raw_connection& publisher, std::size_t count)
{
    return publisher.wait_for([count](std::string const& in) { return count_of(in, "HTTP/1.1 200 ") == count; },
                              std::chrono::seconds(20));
}

struct subscribers {
    std::shared_ptr<ws_client> ws;
    std::shared_ptr<sse_client> sse;
    std::uint32_t ws_before = 0, sse_before = 0;

    subscribers(live_server& srv, std::string const& topic)
        : ws(ws_client::create(srv.ioc)), sse(sse_client::create(srv.ioc))
    {
        ws->connect(srv.port);
        EXPECT_TRUE(ws->subscribe(srv.ioc, topic, 1));
        sse->connect(srv.port, "/sse?topic=" + topic);
        EXPECT_TRUE(sse->wait_status(srv.ioc));
        auto const ws_segments = data_segments_received(ws->native_handle());
        auto const sse_segments = data_segments_received(sse->native_handle());
        EXPECT_TRUE(ws_segments && sse_segments) << "TCP_INFO has no tcpi_data_segs_in (Linux 4.6 and later)";
        ws_before = ws_segments.value_or(0);
        sse_before = sse_segments.value_or(0);
    }

    bool received(live_server& srv, std::size_t count)
    {
        return ws->wait_messages(srv.ioc, count) && sse->wait_messages(srv.ioc, count);
    }

    std::uint32_t ws_writes() { return data_segments_received(ws->native_handle()).value_or(0) - ws_before; }
    std::uint32_t sse_writes() { return data_segments_received(sse->native_handle()).value_or(0) - sse_before; }

    // The counts, in the test's XML report (--gtest_output=xml), for a reader comparing runs.
    void record()
    {
        ::testing::Test::RecordProperty("ws_writes", static_cast<int>(ws_writes()));
        ::testing::Test::RecordProperty("sse_writes", static_cast<int>(sse_writes()));
    }
};

// A backend publishing over one keep-alive connection pipelines its requests: they arrive in one read, and their
// deliveries share the turn's flush as WebSocket publishes do.
TEST(batching, publishes_pipelined_on_one_http_connection_share_a_flush)
{
    live_server srv;
    srv.start();
    subscribers subs(srv, "piped");

    raw_connection publisher(srv.ioc, srv.port);
    send_pipelined(publisher, "piped", publishes);
    ASSERT_TRUE(answered(publisher, publishes));
    ASSERT_TRUE(subs.received(srv, publishes));

    // In order, and each exactly once.
    for (std::size_t i = 0; i < publishes; ++i) {
        EXPECT_EQ(subs.ws->messages()[i]["data"]["i"], i);
        EXPECT_EQ(subs.sse->messages()[i]["data"]["i"], i);
    }
    subs.record();
    EXPECT_LE(subs.ws_writes(), batched_writes);
    EXPECT_LE(subs.sse_writes(), batched_writes);
    EXPECT_FALSE(publisher.closed());
}

// The answers' offsets, in the order the answers came.
std::vector<std::uint64_t> answered_offsets(std::string_view bytes)
{
    std::vector<std::uint64_t> offsets;
    for (auto const& res : take_responses(bytes))
        offsets.push_back(json::parse(res.body()).value("offset", std::uint64_t{0}));
    return offsets;
}

// The same publisher when each publish is answered later (a remote authorization service here; Redis or NATS in
// production): the connection does not wait for one answer before it runs the next request, so all 64 are in
// flight at once, their fan-out shares a flush when they are allowed together, and the answers still come in the
// order of the requests however the decisions come.
TEST(batching, pipelined_publishes_answered_later_are_all_in_flight_and_share_a_flush)
{
    live_server srv;
    held_decisions decisions(srv);
    srv.start();
    subscribers subs(srv, "later");

    raw_connection publisher(srv.ioc, srv.port);
    send_pipelined(publisher, "later", publishes);
    ASSERT_TRUE(srv.run_until([&] { return decisions.waiting() == publishes; }))
        << decisions.waiting() << " of " << publishes << " publishes reached the hook before any was answered";
    decisions.allow(publishes, true);  // the last request's decision first: the publishes happen in reverse
    ASSERT_TRUE(answered(publisher, publishes));
    ASSERT_TRUE(subs.received(srv, publishes));

    // Answer i is request i's: published last-first, so its offset counts down.
    auto const offsets = answered_offsets(publisher.received());
    ASSERT_EQ(offsets.size(), publishes);
    for (std::size_t i = 0; i < publishes; ++i)
        EXPECT_EQ(offsets[i], publishes - i) << "answer " << i;
    for (std::size_t i = 0; i < publishes; ++i)
        EXPECT_EQ(subs.ws->messages()[i]["data"]["i"], publishes - 1 - i);
    subs.record();
    EXPECT_LE(subs.ws_writes(), batched_writes);
    EXPECT_LE(subs.sse_writes(), batched_writes);
    EXPECT_FALSE(publisher.closed());
}

// Over Redis, where every publish is answered by its script's reply: the pipelined requests go to Redis together,
// and the deliveries that come back together share a flush.
TEST(batching, pipelined_publishes_over_redis_share_a_flush)
{
    redis_process redis;
    live_server srv({}, [&](boost::asio::any_io_executor ex) {
        redis_options o;
        o.url = redis.url();
        return std::make_unique<redis_backplane>(ex, o);
    });
    srv.start();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).backplane().connected(); }));
    subscribers subs(srv, "redis-piped");

    raw_connection publisher(srv.ioc, srv.port);
    send_pipelined(publisher, "redis-piped", publishes);
    ASSERT_TRUE(answered(publisher, publishes));
    ASSERT_TRUE(subs.received(srv, publishes));
    auto const offsets = answered_offsets(publisher.received());
    ASSERT_EQ(offsets.size(), publishes);
    for (std::size_t i = 0; i < publishes; ++i) {
        EXPECT_EQ(offsets[i], i + 1);
        EXPECT_EQ(subs.ws->messages()[i]["data"]["i"], i);
        EXPECT_EQ(subs.sse->messages()[i]["data"]["i"], i);
    }
    subs.record();
    EXPECT_LE(subs.ws_writes(), batched_writes);
    EXPECT_LE(subs.sse_writes(), batched_writes);
}

// Fairness: one connection's flood is handled in turns of a bounded number of requests, each ending with the
// flush (and the other connections' handlers), not all at once; the deliveries still arrive whole and in order.
TEST(batching, a_long_pipelined_run_is_handled_in_bounded_turns)
{
    live_server srv;
    srv.start();
    subscribers subs(srv, "flood");

    constexpr std::size_t count = 640;  // ten turns' worth (64 per turn)
    raw_connection publisher(srv.ioc, srv.port);
    send_pipelined(publisher, "flood", count);
    ASSERT_TRUE(answered(publisher, count));
    ASSERT_TRUE(subs.received(srv, count));
    for (std::size_t i = 0; i < count; ++i)
        ASSERT_EQ(subs.sse->messages()[i]["data"]["i"], i);
    subs.record();
    // At least half the turns show as writes of their own (the kernel may merge a write into one still queued).
    EXPECT_GE(subs.ws_writes(), count / 65 / 2);
    EXPECT_GE(subs.sse_writes(), count / 65 / 2);
    EXPECT_LE(subs.ws_writes(), count / 8);  // still batched
}

// A waiting poll is answered at the turn's flush: pipelined publishes handled in one turn reach it in one answer,
// not one poll cycle per publish.
TEST(batching, a_waiting_poll_gets_the_publishes_of_one_turn_in_one_answer)
{
    live_server srv;
    srv.start();
    raw_connection poll(srv.ioc, srv.port);
    poll.send("GET /poll?topic=polled&cursor=0..polled HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("polled") == 1; }));

    raw_connection publisher(srv.ioc, srv.port);
    send_pipelined(publisher, "polled", publishes);
    ASSERT_TRUE(poll.wait_for(
        [](std::string const& in) {
            std::string_view bytes = in;
            return take_response(bytes).has_value();
        },
        std::chrono::seconds(20)));
    std::string_view in = poll.received();
    auto const answer = take_response(in);
    ASSERT_TRUE(answer);
    auto const messages = json::parse(answer->body())["messages"];
    ASSERT_EQ(messages.size(), publishes) << answer->body().substr(0, 300);
    for (std::size_t i = 0; i < publishes; ++i)
        EXPECT_EQ(messages[i]["data"]["i"], i);
}

// Publishes handed to the loop from another thread before it runs share one flush as well.
TEST(batching, publishes_from_another_thread_share_a_flush)
{
    live_server srv;
    srv.start();
    subscribers subs(srv, "threaded");
    std::atomic<std::size_t> done = 0;
    std::thread producer([&] {
        for (std::size_t i = 0; i < publishes; ++i)
            (*srv).publish("threaded", json{{"i", i}}, [&](boost::system::error_code, position) { ++done; });
    });
    producer.join();  // all handed over before the loop runs again
    ASSERT_TRUE(srv.run_until([&] { return done == publishes; }));
    ASSERT_TRUE(subs.received(srv, publishes));
    subs.record();
    EXPECT_LE(subs.ws_writes(), batched_writes);
    EXPECT_LE(subs.sse_writes(), batched_writes);
}

// The same from a WebSocket publisher: the behaviour the HTTP path is held to.
TEST(batching, publishes_pipelined_on_one_websocket_share_a_flush)
{
    live_server srv;
    srv.start();
    subscribers subs(srv, "framed");

    raw_connection publisher(srv.ioc, srv.port);
    publisher.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    ASSERT_TRUE(publisher.wait_for("\r\n\r\n"));
    std::string burst;
    for (std::size_t i = 0; i < publishes; ++i) {
        auto const text = json{{"type", "publish"}, {"topic", "framed"}, {"data", {{"i", i}}}, {"id", i}}.dump();
        ASSERT_LT(text.size(), 126u);
        // A masked text frame whose mask is zero: the payload goes as it is.
        burst += {'\x81', static_cast<char>(0x80 | text.size()), 0, 0, 0, 0};
        burst += text;
    }
    publisher.send(burst);
    ASSERT_TRUE(publisher.wait_for([](std::string const& in) { return count_of(in, "\"ack\"") == publishes; },
                                   std::chrono::seconds(20)));
    ASSERT_TRUE(subs.received(srv, publishes));
    subs.record();
    EXPECT_LE(subs.ws_writes(), batched_writes);
    EXPECT_LE(subs.sse_writes(), batched_writes);
}

}  // namespace
}  // namespace switchboard::test
