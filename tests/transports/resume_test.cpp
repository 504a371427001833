// Resume on every transport: a client cut off while 10,000 messages are published gets exactly those, in
// order, when it comes back with its position, then the live ones; and the switch from replay to live has
// no gap and no duplicate even while messages keep coming.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace switchboard::test {
namespace {

using nlohmann::json;
constexpr std::size_t missed = 10'000;

void publish_many(live_server& srv, std::string const& topic, std::size_t first, std::size_t count)
{
    std::size_t done = 0;
    for (std::size_t i = 0; i < count; ++i)
        (*srv).publish(topic, {{"n", first + i}}, [&](boost::system::error_code ec, position) {
            EXPECT_FALSE(ec);
            ++done;
        });
    ASSERT_TRUE(srv.run_until([&] { return done == count; }, std::chrono::seconds(60)));
}

// Offsets first+1 .. first+count, each once, in order.
void expect_contiguous(std::vector<json> const& got, std::uint64_t first, std::size_t count)
{
    ASSERT_EQ(got.size(), count);
    for (std::size_t i = 0; i < count; ++i)
        ASSERT_EQ(got[i]["offset"].get<std::uint64_t>(), first + 1 + i) << "at " << i;
}

TEST(resume, websocket_gets_exactly_what_it_missed_then_live)
{
    live_server srv;  // the default configuration keeps 10,000 messages per topic
    srv.start();
    publish_many(srv, "feed", 0, 5);
    auto first = ws_client::create(srv.ioc);
    first->connect(srv.port);
    auto ack = first->subscribe(srv.ioc, "feed", 1);
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["offset"], 5);
    position const at{(*ack)["offset"].get<std::uint64_t>(), (*ack)["epoch"].get<std::string>()};
    first->drop();

    publish_many(srv, "feed", 5, missed);

    auto again = ws_client::create(srv.ioc);
    again->connect(srv.port);
    again->send_json({{"type", "subscribe"}, {"topic", "feed"}, {"id", 2},
                      {"since", {{"offset", at.offset}, {"epoch", at.epoch}}}});
    auto resumed = again->wait_reply(srv.ioc, 2);
    ASSERT_TRUE(resumed);
    EXPECT_EQ((*resumed)["recovered"], true);
    EXPECT_EQ((*resumed)["offset"], 5 + missed);
    ASSERT_TRUE(again->wait_messages(srv.ioc, missed, std::chrono::seconds(60)));
    publish_many(srv, "feed", 5 + missed, 1);
    ASSERT_TRUE(again->wait_messages(srv.ioc, missed + 1));
    expect_contiguous(again->messages(), 5, missed + 1);
    again->close();
}

TEST(resume, sse_resumes_from_last_event_id)
{
    live_server srv;
    srv.start();
    auto first = sse_client::create(srv.ioc);
    first->connect(srv.port, "/sse?topic=feed");
    ASSERT_TRUE(first->wait_status(srv.ioc));
    publish_many(srv, "feed", 0, 3);
    ASSERT_TRUE(first->wait_messages(srv.ioc, 3));
    std::string const last_id = first->last_event_id();
    first->close();

    publish_many(srv, "feed", 3, missed);

    auto again = sse_client::create(srv.ioc);
    again->connect(srv.port, "/sse?topic=feed", {{"Last-Event-ID", last_id}});
    ASSERT_TRUE(again->wait_messages(srv.ioc, missed, std::chrono::seconds(60)));
    auto const subscribed = again->find_event("subscribed");
    ASSERT_TRUE(subscribed);
    EXPECT_EQ(json::parse(subscribed->data)["recovered"], true);
    publish_many(srv, "feed", 3 + missed, 1);
    ASSERT_TRUE(again->wait_messages(srv.ioc, missed + 1));
    expect_contiguous(again->messages(), 3, missed + 1);

    // ?since= does the same for a first connection: the id of the 9,000th message resumes after it.
    auto const& events = again->events();
    auto const at = std::find_if(events.begin(), events.end(), [](sse_event const& e) {
        return e.type == "message" && json::parse(e.data)["offset"] == 9'003;
    });
    ASSERT_NE(at, events.end());
    auto from_cursor = sse_client::create(srv.ioc);
    from_cursor->connect(srv.port, "/sse?topic=feed&since=" + at->id);
    ASSERT_TRUE(from_cursor->wait_messages(srv.ioc, 1'001, std::chrono::seconds(60)));
    expect_contiguous(from_cursor->messages(), 9'003, 1'001);
    again->close();
    from_cursor->close();
}

TEST(resume, long_polling_cursor_covers_everything_missed)
{
    live_server srv;
    srv.start();
    // A first poll waits; the first message answers it.
    std::optional<http_result> first;
    request(srv.ioc, srv.port, "GET", "/poll?topic=feed", "", {}, [&](http_result r) { first = std::move(r); });
    ASSERT_TRUE(srv.run_until([&] { return srv.stats().long_polling == 1; }));
    publish_many(srv, "feed", 0, 1);
    ASSERT_TRUE(srv.run_until([&] { return first.has_value(); }));
    ASSERT_EQ(first->status, 200) << first->body;
    ASSERT_EQ(first->json()["messages"].size(), 1u);
    std::string cursor = first->json()["cursor"];

    publish_many(srv, "feed", 1, missed);

    std::vector<json> got;
    int polls = 0;
    while (got.size() < missed && polls < 100) {
        auto res = fetch(srv.ioc, srv.port, "GET", "/poll?topic=feed&cursor=" + cursor);
        ASSERT_EQ(res.status, 200) << res.body;
        auto body = res.json();
        EXPECT_FALSE(body.contains("recovered"));
        for (auto& m : body["messages"])
            got.push_back(m);
        cursor = body["cursor"];
        ++polls;
    }
    EXPECT_GE(polls, 10);  // at most max_poll_messages (1,000) per answer
    expect_contiguous(got, 1, missed);
}

TEST(resume, replay_switches_to_live_without_gap_or_duplicate)
{
    server_options options;
    options.history.limits.max_messages = 100'000;  // every join point stays in history
    live_server srv(options);
    srv.start();
    publish_many(srv, "race", 0, 100);
    std::atomic<bool> go{true};
    std::atomic<std::size_t> published{0};
    std::atomic<std::size_t> in_flight{0};
    // Another thread publishes as fast as the loop takes it (a bounded number in flight), so the clients'
    // replays below really run while live messages arrive.
    std::thread publisher([&] {
        for (std::size_t i = 0; go && i < 30'000; ++i) {
            while (in_flight > 32 && go)
                std::this_thread::yield();
            ++in_flight;
            (*srv).publish("race", {{"n", i}}, [&](boost::system::error_code, position) {
                --in_flight;
                ++published;
            });
        }
    });

    std::string epoch;
    {
        auto probe = ws_client::create(srv.ioc);
        probe->connect(srv.port);
        auto ack = probe->subscribe(srv.ioc, "race", 0);
        ASSERT_TRUE(ack);
        epoch = (*ack)["epoch"];
        probe->close();
    }
    std::vector<std::shared_ptr<ws_client>> ws;
    std::vector<std::shared_ptr<sse_client>> sse;
    std::vector<std::uint64_t> since;
    for (std::uint64_t i = 0; i < 8; ++i) {
        since.push_back(i * 12);
        ws.push_back(ws_client::create(srv.ioc));
        ws.back()->connect(srv.port);
        ws.back()->send_json(
            {{"type", "subscribe"}, {"topic", "race"}, {"since", {{"offset", since.back()}, {"epoch", epoch}}}});
        sse.push_back(sse_client::create(srv.ioc));
        sse.back()->connect(srv.port, "/sse?topic=race&since=" + std::to_string(since.back()) + "." + epoch + ".race");
        // Let some messages through between joins, so each joins at a different point of the stream.
        srv.run_until([&, target = published.load() + 200] { return published >= target || !go; },
                      std::chrono::seconds(5));
    }
    srv.run_until([&] { return published >= 30'000; }, std::chrono::seconds(120));
    go = false;
    publisher.join();
    ASSERT_TRUE(srv.run_until([&] { return in_flight == 0; }));
    std::uint64_t const last = 100 + published;
    ASSERT_TRUE(srv.run_until(
        [&] {
            for (auto const& c : ws)
                if (c->message_count() < last - since[&c - &ws[0]])
                    return false;
            for (auto const& c : sse)
                if (c->message_count() < last - since[&c - &sse[0]])
                    return false;
            return true;
        },
        std::chrono::seconds(120))) << [&] {
        std::string why;
        for (std::size_t i = 0; i < ws.size(); ++i)
            why += "ws " + std::to_string(i) + ": " + std::to_string(ws[i]->message_count()) + " of " +
                   std::to_string(last - since[i]) + ", close " + std::to_string(ws[i]->close_code()) + "; sse " +
                   std::to_string(sse[i]->message_count()) + "\n";
        return why;
    }();
    for (std::size_t i = 0; i < ws.size(); ++i) {
        expect_contiguous(ws[i]->messages(), since[i], last - since[i]);
        expect_contiguous(sse[i]->messages(), since[i], last - since[i]);
        ws[i]->close();
        sse[i]->close();
    }
}

TEST(resume, a_replay_larger_than_the_queue_is_paced_not_refused)
{
    server_options options;
    options.max_queue_bytes = 64 * 1024;  // the replay below is 30 times that
    live_server srv(options);
    srv.start();
    std::string const pad(1'000, 'p');
    std::size_t done = 0;
    for (int i = 0; i < 2'000; ++i)
        (*srv).publish("big", {{"i", i}, {"pad", pad}}, [&](boost::system::error_code, position) { ++done; });
    ASSERT_TRUE(srv.run_until([&] { return done == 2'000; }));

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "big"}, {"id", 1}, {"since", {{"offset", 0}, {"epoch", ""}}}});
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=big&since=0..big");
    // Live messages published during the replay queue up behind it.
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 1));
    (*srv).publish("big", "live");
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2'001, std::chrono::seconds(60)));
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 2'001, std::chrono::seconds(60)));
    expect_contiguous(ws->messages(), 0, 2'001);
    expect_contiguous(sse->messages(), 0, 2'001);
    EXPECT_TRUE(ws->is_open());
    EXPECT_FALSE(sse->ended());
    ws->close();
    sse->close();
}

TEST(resume, an_unknown_epoch_is_not_recovered)
{
    live_server srv;
    srv.start();
    publish_many(srv, "feed", 0, 3);
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "feed"}, {"id", 1}, {"since", {{"offset", 2}, {"epoch", "other"}}}});
    auto ack = ws->wait_reply(srv.ioc, 1);
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["recovered"], false);
    EXPECT_EQ((*ack)["offset"], 3);
    auto poll = fetch(srv.ioc, srv.port, "GET", "/poll?topic=feed&cursor=2.other.feed");
    ASSERT_EQ(poll.status, 200);
    EXPECT_EQ(poll.json()["recovered"], false);
    EXPECT_TRUE(poll.json()["messages"].empty());
    ws->close();
}

}  // namespace
}  // namespace switchboard::test
