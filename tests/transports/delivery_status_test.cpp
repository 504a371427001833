// channel::deliver has one meaning on every channel, told by its status: queued (the client gets the message,
// in order), slow_consumer or stream_gap (the channel closed itself, and its client learns why), closing
// (nothing done). Each case on the channel that has it, with real clients; the messages are handed to the
// channel a subscribed client has, as the hub does.

#include "support/live_server.hpp"
#include "support/slow_history_backplane.hpp"
#include "support/poll_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <string>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The one channel subscribed to `topic`.
channel_ptr subscriber_of(live_server& srv, std::string const& topic)
{
    auto const all = (*srv).hub().subscribers(topic);
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? nullptr : all.front();
}

// The topic's position now, from history.
position latest(live_server& srv, std::string const& topic)
{
    std::optional<position> at;
    (*srv).backplane().history(topic, std::nullopt, 0, [&](boost::system::error_code, history_result r) { at = r.latest; });
    EXPECT_TRUE(srv.run_until([&] { return at.has_value(); }));
    return at.value_or(position{});
}

message_ptr make(std::string const& topic, position where, std::size_t pad = 10)
{
    return std::make_shared<message const>(topic, std::move(where), "\"" + std::string(pad, 'x') + "\"");
}

// Fills a channel past its queue bound within one loop turn: queued until it is full, then slow_consumer once,
// then closing. Returns how many were queued.
std::size_t fill(channel& ch, std::string const& topic, position const& from)
{
    std::size_t queued = 0;
    auto status = delivery_status::queued;
    for (std::uint64_t i = 1; i <= 1'000 && status == delivery_status::queued; ++i) {
        status = ch.deliver(make(topic, {from.offset + i, from.epoch}, 2'000));
        queued += status == delivery_status::queued;
    }
    EXPECT_EQ(status, delivery_status::slow_consumer);
    EXPECT_TRUE(ch.closing());
    EXPECT_EQ(ch.deliver(make(topic, {from.offset + 1'001, from.epoch})), delivery_status::closing);
    return queued;
}

server_options small_queues()
{
    server_options o;
    o.max_queue_bytes = 16 * 1024;
    return o;
}

TEST(delivery_status, a_websocket_past_its_queue_bound_closes_as_a_slow_consumer)
{
    live_server srv(small_queues());
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "t"}, {"id", "sub"}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, "sub"));
    auto ch = subscriber_of(srv, "t");
    ASSERT_TRUE(ch);
    EXPECT_GT(fill(*ch, "t", latest(srv, "t")), 0u);
    ASSERT_TRUE(ws->wait_closed(srv.ioc, 20s));
    EXPECT_EQ(ws->close_code(), disconnect::slow_consumer().code);
}

TEST(delivery_status, an_sse_stream_past_its_queue_bound_closes_as_a_slow_consumer)
{
    live_server srv(small_queues());
    srv.start();
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=t");
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 1; }));
    auto ch = subscriber_of(srv, "t");
    ASSERT_TRUE(ch);
    EXPECT_GT(fill(*ch, "t", latest(srv, "t")), 0u);
    ASSERT_TRUE(sse->wait_ended(srv.ioc, 20s));
    auto const farewell = sse->find_event("close");
    ASSERT_TRUE(farewell);
    EXPECT_EQ(json::parse(farewell->data)["code"], disconnect::slow_consumer().code);
}

// A replay still going promised its client a range of offsets: a message that skips past it is a gap.
TEST(delivery_status, a_message_that_skips_past_a_replay_closes_the_channel_as_a_stream_gap)
{
    server_options o;
    o.max_queue_bytes = 64 * 1024;
    o.socket_send_buffer = 16 * 1024;
    live_server srv(o);
    srv.start();
    std::string const padding(1'000, 'p');
    std::size_t published = 0;
    for (int i = 0; i < 300; ++i)
        (*srv).publish("t", {{"i", i}, {"pad", padding}}, [&](boost::system::error_code, position) { ++published; });
    ASSERT_TRUE(srv.run_until([&] { return published == 300; }));
    auto const now = latest(srv, "t");

    auto ws = ws_client::create(srv.ioc);
    ws->set_receive_buffer_size(16 * 1024);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    ws->pause_reading();  // the replay of 300 KB waits on the client
    ws->send_json({{"type", "subscribe"}, {"topic", "t"}, {"id", "sub"}, {"since", {{"offset", 0}, {"epoch", ""}}}});
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 1; }));
    auto ch = subscriber_of(srv, "t");
    ASSERT_TRUE(ch);
    // The next message is queued (history has it for the replay); one after a hole is a gap.
    EXPECT_EQ(ch->deliver(make("t", {now.offset + 1, now.epoch})), delivery_status::queued);
    EXPECT_EQ(ch->deliver(make("t", {now.offset + 3, now.epoch})), delivery_status::stream_gap);
    EXPECT_EQ(ch->deliver(make("t", {now.offset + 4, now.epoch})), delivery_status::closing);
    ws->resume_reading();
    ASSERT_TRUE(ws->wait_closed(srv.ioc, 30s));
    EXPECT_EQ(ws->close_code(), disconnect::stream_gap().code);
}

// A long poll takes what its answer holds; the rest stays in history for the next poll (queued: the answer's
// cursor stays before it). Once answered, the channel is done.
TEST(delivery_status, a_long_poll_queues_up_to_its_answer_and_leaves_the_rest_in_history)
{
    server_options o;
    o.max_poll_messages = 2;
    live_server srv(o);
    srv.start();
    auto const now = latest(srv, "t");
    auto poll = poll_client::create(srv.ioc);
    poll->start(srv.port, {"t"});
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 1; }));
    auto ch = subscriber_of(srv, "t");
    ASSERT_TRUE(ch);
    for (std::uint64_t i = 1; i <= 3; ++i)
        EXPECT_EQ(ch->deliver(make("t", {now.offset + i, now.epoch})), delivery_status::queued) << i;
    poll->stop();
    ASSERT_TRUE(poll->wait_stopped(srv.ioc));
    ASSERT_EQ(poll->messages().size(), 2u);
    EXPECT_EQ(poll->messages()[1]["offset"], now.offset + 2);
    EXPECT_EQ(ch->deliver(make("t", {now.offset + 4, now.epoch})), delivery_status::closing);
}

// A subscription being made holds messages for its channel, bounded like the channel's queue: past it the
// channel is closed as a slow consumer.
TEST(delivery_status, a_subscription_being_made_past_its_bound_closes_its_channel_as_a_slow_consumer)
{
    server_options o;
    o.max_queue_messages = 5;
    slow_history_backplane* slow = nullptr;
    live_server srv(o, [&](boost::asio::any_io_executor ex) {
        auto bp = std::make_unique<slow_history_backplane>(ex);
        slow = bp.get();
        return bp;
    });
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "t"}, {"id", "sub"}});
    ASSERT_TRUE(srv.run_until([&] { return slow->waiting() == 1; }));
    auto join = subscriber_of(srv, "t");  // the stand-in, until history answers
    ASSERT_TRUE(join);
    EXPECT_EQ(join->transport(), "join");
    for (std::uint64_t i = 1; i <= 5; ++i)
        EXPECT_EQ(join->deliver(make("t", {i, "e"})), delivery_status::queued) << i;
    EXPECT_EQ(join->deliver(make("t", {6, "e"})), delivery_status::slow_consumer);
    EXPECT_EQ(join->deliver(make("t", {7, "e"})), delivery_status::closing);
    ASSERT_TRUE(ws->wait_closed(srv.ioc, 20s));
    EXPECT_EQ(ws->close_code(), disconnect::slow_consumer().code);
    slow->answer_all();
}

}  // namespace
}  // namespace switchboard::test
