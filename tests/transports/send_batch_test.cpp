// The loop turn's sends in one io_uring submission (src/write_path/send_batch): each connection gets its own
// bytes, in order, and its own result; a full socket is told EAGAIN at once while the others' sends go on; a
// turn with more sends than the ring holds goes in several submissions. Then a whole server with the batch on
// and off: the same fan-out, byte for byte, to subscribers whose sockets fill and drain.

#include "support/live_server.hpp"
#include "support/poll_client.hpp"
#include "support/raw_connection.hpp"
#include "support/url.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"
#include "write_path/send_batch.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using detail::frame_queue;
using detail::send_batch;

// A connected pair of loopback sockets standing for one connection: `server` non-blocking, as the io's are.
struct socket_pair {
    int server = -1;
    int client = -1;
    socket_pair()
    {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0) << std::strerror(errno);
        server = fds[0];
        client = fds[1];
    }
    ~socket_pair()
    {
        ::close(server);
        ::close(client);
    }
    // What the client side can read within `deadline`, up to `expected` bytes.
    std::string read(std::size_t expected, std::chrono::milliseconds deadline = std::chrono::seconds(10)) const
    {
        std::string got;
        auto const until = std::chrono::steady_clock::now() + deadline;
        char buf[65536];
        while (got.size() < expected && std::chrono::steady_clock::now() < until) {
            pollfd p{client, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0)
                continue;
            auto const n = ::recv(client, buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0)
                break;
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got;
    }
};

// What a connection does with its result, as plain_io does: consume what was sent.
struct recorder final : detail::batched_sender {
    frame_queue* queue = nullptr;
    std::vector<ssize_t> results;
    void on_batch_sent(ssize_t result) override
    {
        results.push_back(result);
        if (result > 0)
            queue->consume(static_cast<std::size_t>(result));
    }
};

shared_bytes bytes(std::string text)
{
    return std::make_shared<std::string const>(std::move(text));
}

std::unique_ptr<send_batch> open_or_skip()
{
    auto batch = send_batch::open();
    if (!batch)
        ADD_FAILURE() << "io_uring is not usable on this machine (the server falls back to sendmsg; this test "
                         "cannot check the batch)";
    return batch;
}

TEST(send_batch, each_connection_gets_its_own_bytes_in_order_and_its_own_result)
{
    auto batch = open_or_skip();
    ASSERT_TRUE(batch);
    std::vector<socket_pair> pairs(3);
    std::vector<frame_queue> queues(3);
    std::vector<std::string> expected(3);
    std::vector<std::shared_ptr<recorder>> senders;
    for (std::size_t i = 0; i < 3; ++i) {
        for (int f = 0; f < 5; ++f) {
            auto frame = "conn" + std::to_string(i) + "-frame" + std::to_string(f) + std::string(i * 100, '.') + ";";
            expected[i] += frame;
            queues[i].force_push(bytes(frame));
        }
        senders.push_back(std::make_shared<recorder>());
        senders.back()->queue = &queues[i];
    }
    batch->begin();
    EXPECT_TRUE(batch->collecting());
    for (std::size_t i = 0; i < 3; ++i)
        batch->add(pairs[i].server, queues[i], senders[i]);
    EXPECT_TRUE(senders[0]->results.empty()) << "told before the submission";
    batch->submit();
    EXPECT_FALSE(batch->collecting());
    for (std::size_t i = 0; i < 3; ++i) {
        ASSERT_EQ(senders[i]->results.size(), 1u);
        EXPECT_EQ(senders[i]->results[0], static_cast<ssize_t>(expected[i].size()));
        EXPECT_TRUE(queues[i].empty());
        EXPECT_EQ(pairs[i].read(expected[i].size()), expected[i]);
    }
}

TEST(send_batch, a_full_socket_is_told_eagain_at_once_and_the_others_still_send)
{
    auto batch = open_or_skip();
    ASSERT_TRUE(batch);
    socket_pair full, fine;
    std::string const chunk(64 * 1024, 'x');
    frame_queue full_queue, fine_queue;
    auto full_sender = std::make_shared<recorder>();
    auto fine_sender = std::make_shared<recorder>();
    full_sender->queue = &full_queue;
    fine_sender->queue = &fine_queue;
    // The full one's reader never reads: within a bounded number of turns its socket fills.
    bool told_eagain = false;
    std::string sent_to_fine;
    for (int turn = 0; turn < 1000 && !told_eagain; ++turn) {
        full_queue.force_push(bytes(chunk));
        std::string const line = "turn " + std::to_string(turn) + "\n";
        fine_queue.force_push(bytes(line));
        batch->begin();
        batch->add(full.server, full_queue, full_sender);
        batch->add(fine.server, fine_queue, fine_sender);
        auto const started = std::chrono::steady_clock::now();
        batch->submit();
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << "the submission waited";
        told_eagain = full_sender->results.back() == -EAGAIN;
        ASSERT_EQ(fine_sender->results.back(), static_cast<ssize_t>(line.size()));
        sent_to_fine += line;
        EXPECT_EQ(fine.read(line.size()), line);
    }
    EXPECT_TRUE(told_eagain) << "the socket never filled";
    EXPECT_FALSE(full_queue.empty()) << "what the full socket did not take stays queued";
}

TEST(send_batch, a_turn_with_more_sends_than_the_ring_holds_goes_in_several_submissions)
{
    auto batch = open_or_skip();
    ASSERT_TRUE(batch);
    constexpr std::size_t connections = 1500;  // the ring has 1024 slots
    std::vector<socket_pair> pairs(connections);
    std::vector<frame_queue> queues(connections);
    std::vector<std::shared_ptr<recorder>> senders;
    batch->begin();
    for (std::size_t i = 0; i < connections; ++i) {
        queues[i].force_push(bytes("message to " + std::to_string(i)));
        senders.push_back(std::make_shared<recorder>());
        senders.back()->queue = &queues[i];
        batch->add(pairs[i].server, queues[i], senders[i]);
    }
    batch->submit();
    for (std::size_t i = 0; i < connections; ++i) {
        auto const text = "message to " + std::to_string(i);
        ASSERT_EQ(senders[i]->results, std::vector<ssize_t>{static_cast<ssize_t>(text.size())}) << i;
        ASSERT_EQ(pairs[i].read(text.size()), text) << i;
    }
}

// The whole server, batch on and off: 200 messages to WebSocket and SSE subscribers, byte for byte and in order,
// with one subscriber pausing its reads so its socket fills and its queue waits (EAGAIN, then the writable wait).
class send_batch_server : public ::testing::TestWithParam<bool> {};

TEST_P(send_batch_server, a_fan_out_reaches_every_subscriber_whole_and_in_order)
{
    server_options options;
    options.io_uring = GetParam();
    options.socket_send_buffer = 16 * 1024;
    live_server srv(options);
    srv.start();
    std::vector<std::shared_ptr<ws_client>> ws;
    std::vector<std::shared_ptr<sse_client>> sse;
    for (int i = 0; i < 5; ++i) {
        ws.push_back(ws_client::create(srv.ioc));
        ws.back()->connect(srv.port);
        ASSERT_TRUE(ws.back()->subscribe(srv.ioc, "fan", 1));
        sse.push_back(sse_client::create(srv.ioc));
        sse.back()->connect(srv.port, "/sse?topic=fan");
        ASSERT_TRUE(sse.back()->wait_status(srv.ioc));
    }
    ws[0]->pause_reading();
    constexpr int count = 200;
    std::string const padding(2000, 'p');  // 200 x 2 KB: more than the paused socket's buffers hold
    for (int i = 0; i < count; ++i)
        srv.publish("fan", nlohmann::json{{"i", i}, {"pad", padding}});
    for (std::size_t c = 1; c < ws.size(); ++c)
        ASSERT_TRUE(ws[c]->wait_messages(srv.ioc, count));
    ws[0]->resume_reading();
    ASSERT_TRUE(ws[0]->wait_messages(srv.ioc, count));
    for (auto const& s : sse)
        ASSERT_TRUE(s->wait_messages(srv.ioc, count));
    for (auto const& c : ws) {
        auto const got = c->messages();
        ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            EXPECT_EQ(got[i]["data"]["i"], i);
            EXPECT_EQ(got[i]["data"]["pad"], padding);
        }
    }
    for (auto const& s : sse) {
        auto const got = s->messages();
        ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i)
            EXPECT_EQ(got[i]["data"]["i"], i);
    }
}

// Long polls are answered in the turn's flush, so their answers join the batch: each poll gets every message,
// whole and in order, whether its answer left in one send, in part (a 16 KB socket buffer under 2 KB messages:
// the rest is written after), or on a connection kept alive for the next poll.
TEST_P(send_batch_server, long_polls_answered_in_the_flush_get_every_message_and_keep_their_connection)
{
    server_options options;
    options.io_uring = GetParam();
    options.socket_send_buffer = 16 * 1024;
    live_server srv(options);
    srv.start();
    std::vector<std::shared_ptr<poll_client>> polls;
    for (int i = 0; i < 5; ++i) {
        polls.push_back(poll_client::create(srv.ioc));
        polls.back()->start(srv.port, {"polled"});
    }
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("polled") == polls.size(); }));

    // One more poll on a connection of its own, kept alive: its second poll goes out on the same connection.
    raw_connection kept(srv.ioc, srv.port);
    kept.send("GET /poll?topic=polled HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("polled") == polls.size() + 1; }));

    constexpr int count = 100;
    std::string const padding(2000, 'p');
    for (int i = 0; i < count; ++i)
        srv.publish("polled", nlohmann::json{{"i", i}, {"pad", padding}});
    for (auto const& p : polls)
        ASSERT_TRUE(p->wait_messages(srv.ioc, count));
    for (auto const& p : polls) {
        auto const& got = p->messages();
        ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            EXPECT_EQ(got[i]["data"]["i"], i);
            EXPECT_EQ(got[i]["data"]["pad"], padding);
        }
        EXPECT_TRUE(p->errors().empty());
    }

    std::optional<raw_response> first;
    ASSERT_TRUE(kept.wait_for(
        [&](std::string const& in) {
            std::string_view bytes = in;
            first = take_response(bytes);
            return first.has_value();
        },
        std::chrono::seconds(10)));
    ASSERT_EQ(first->result_int(), 200u);
    auto const answer = nlohmann::json::parse(first->body());
    ASSERT_FALSE(answer["messages"].empty());
    EXPECT_EQ(answer["messages"][0]["data"]["i"], 0);
    EXPECT_FALSE(kept.closed());
    auto const cursor = answer["cursor"].get<std::string>();
    srv.publish("polled", nlohmann::json{{"i", "after"}});
    auto const received = kept.received().size();
    kept.send("GET /poll?topic=polled&cursor=" + percent_encode(cursor) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(kept.wait_for(
        [&](std::string const& in) {
            std::string_view bytes = std::string_view(in).substr(received);
            return take_response(bytes).has_value();
        },
        std::chrono::seconds(10)));
    EXPECT_NE(kept.received().find(R"("i":"after")", received), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(io_uring, send_batch_server, ::testing::Bool(),
                         [](auto const& info) { return info.param ? "batched" : "one_sendmsg_each"; });

}  // namespace
}  // namespace switchboard::test
