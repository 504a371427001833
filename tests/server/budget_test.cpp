// What one client can make the server hold, path by path, whatever it sends, each bound checked by its effect on
// the wire: commands waiting for an answer (bounded per WebSocket), replays (one per topic, paced from history),
// poll answers (bounded in bytes), topics (bounded per client, idle ones giving their room) and history (bounded
// in bytes across topics, losses reported).

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/jwt_maker.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>
#include <switchboard/memory_backplane.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// ---- commands waiting for an answer ----

TEST(budget, commands_waiting_for_an_answer_are_bounded_per_websocket)
{
    live_server srv;  // 1,024 commands, 1 MiB of them
    srv.start();
    // A hook that answers only when told: every publish waits.
    std::vector<decision_handler> waiting;
    (*srv).hooks().authorize = [&](authorize_request const&, decision_handler done) { waiting.push_back(std::move(done)); };

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    constexpr int sent = 1'100;
    for (int i = 0; i < sent; ++i)
        ws->send_json({{"type", "publish"}, {"topic", "t"}, {"data", i}, {"id", i}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, sent - 1));
    EXPECT_EQ(waiting.size(), 1'024u);
    for (int i = 1'024; i < sent; ++i)
        EXPECT_EQ(ws->find_reply(i).value()["code"], "too_many_pending") << i;
    EXPECT_FALSE(ws->find_reply(0).has_value());

    // Answered, they go ahead, and room is made for more.
    for (auto& done : waiting)
        done({});
    waiting.clear();
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 1'023));
    EXPECT_EQ(ws->find_reply(0).value()["type"], "ack");
    ws->send_json({{"type", "publish"}, {"topic", "t"}, {"data", "more"}, {"id", "more"}});
    ASSERT_TRUE(srv.run_until([&] { return waiting.size() == 1; }));

    // Large commands fill the byte bound sooner: 60 KB each, about 17 in 1 MiB.
    std::string const big(60'000, 'b');
    for (int i = 0; i < 40; ++i)
        ws->send_json({{"type", "publish"}, {"topic", "t"}, {"data", big}, {"id", 2'000 + i}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 2'039));
    EXPECT_GE(waiting.size(), 10u);
    EXPECT_LE(waiting.size(), 20u);
    EXPECT_EQ(ws->find_reply(2'039).value()["code"], "too_many_pending");
    for (auto& done : waiting)
        done({});
    ws->close();
}

// ---- replays and poll answers ----

void publish_many(live_server& srv, std::string const& topic, std::size_t count, std::size_t pad)
{
    std::size_t done = 0;
    std::string const padding(pad, 'p');
    for (std::size_t i = 0; i < count; ++i)
        (*srv).publish(topic, {{"i", i}, {"pad", padding}}, [&](boost::system::error_code ec, position) {
            EXPECT_FALSE(ec) << ec.message();
            ++done;
        });
    ASSERT_TRUE(srv.run_until([&] { return done == count; }, 60s));
}

json since_start()
{
    return {{"offset", 0}, {"epoch", ""}};
}

// The envelopes received after the frame answering `id`.
std::vector<json> messages_after_reply(ws_client const& ws, json const& id)
{
    std::vector<json> out;
    bool seen = false;
    for (auto const& frame : ws.received()) {
        if (seen && frame.value("type", "") == "message")
            out.push_back(frame);
        if (frame.contains("id") && frame["id"] == id)
            seen = true;
    }
    return out;
}

TEST(budget, a_subscribe_asked_again_during_its_replay_replaces_it)
{
    server_options options;
    options.max_queue_bytes = 256 * 1024;
    options.socket_send_buffer = 16 * 1024;
    live_server srv(options);
    srv.start();
    constexpr std::size_t kept = 2'000;  // 2 MB of history: eight times the queue bound
    publish_many(srv, "big", kept, 1'000);

    auto ws = ws_client::create(srv.ioc);
    ws->set_receive_buffer_size(16 * 1024);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    ws->pause_reading();
    // The same resume, again and again, without reading: each would have queued the whole history once more.
    constexpr int asks = 100;
    for (int i = 1; i <= asks; ++i)
        ws->send_json({{"type", "subscribe"}, {"topic", "big"}, {"id", i}, {"since", since_start()}});
    ASSERT_TRUE(srv.run_until([&] { return ws->pending_writes() == 0; }));
    ws->resume_reading();
    ASSERT_TRUE(ws->wait_reply(srv.ioc, asks, 30s));
    // After the last ack: the history once, in order, and nothing more.
    ASSERT_TRUE(srv.run_until([&] { return messages_after_reply(*ws, asks).size() >= kept; }, 30s))
        << ws->message_count() << " messages";
    run_for(srv.ioc, 200ms);
    auto const after = messages_after_reply(*ws, asks);
    ASSERT_EQ(after.size(), kept);
    for (std::size_t i = 0; i < kept; ++i)
        ASSERT_EQ(after[i]["offset"], i + 1) << "at " << i;
    EXPECT_LE(ws->message_count(), 3 * kept) << "a replay per ask was queued";
    EXPECT_TRUE(ws->is_open());
    ws->close();
}

TEST(budget, a_replay_that_history_lost_meanwhile_is_closed_as_a_gap_and_resumes_unrecovered)
{
    server_options options;
    options.max_queue_bytes = 64 * 1024;
    options.socket_send_buffer = 16 * 1024;
    options.history.limits.max_messages = 500;
    live_server srv(options);
    srv.start();
    publish_many(srv, "short", 500, 1'000);

    auto ws = ws_client::create(srv.ioc);
    ws->set_receive_buffer_size(16 * 1024);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    ws->pause_reading();
    ws->send_json({{"type", "subscribe"}, {"topic", "short"}, {"id", "sub"}, {"since", since_start()}});
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("short") == 1; }));
    // History moves past the part of the replay still to send.
    publish_many(srv, "short", 1'000, 1'000);
    ws->resume_reading();
    ASSERT_TRUE(ws->wait_closed(srv.ioc, 30s));
    EXPECT_EQ(ws->close_code(), 4010);
    auto const got = ws->messages();
    ASSERT_FALSE(got.empty());
    for (std::size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i]["offset"], i + 1) << "a hole at " << i;
    ASSERT_LT(got.size(), 1'500u);

    auto again = ws_client::create(srv.ioc);
    again->connect(srv.port);
    auto const epoch = ws->find_reply("sub").value()["epoch"];
    again->send_json({{"type", "subscribe"}, {"topic", "short"}, {"id", 1},
                      {"since", {{"offset", got.size()}, {"epoch", epoch}}}});
    auto ack = again->wait_reply(srv.ioc, 1);
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["recovered"], false);
    again->close();
}

TEST(budget, a_poll_answer_is_bounded_in_bytes_and_the_cursor_brings_the_rest)
{
    live_server srv;  // max_poll_bytes: 1 MiB
    srv.start();
    constexpr std::size_t count = 300;  // 3 MB: three answers' worth
    publish_many(srv, "big", count, 10'000);

    std::string cursor = "0..big";
    std::vector<json> got;
    for (int polls = 0; polls < 10 && got.size() < count; ++polls) {
        auto const r = fetch(srv.ioc, srv.port, "GET", "/poll?topic=big&cursor=" + cursor);
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_LE(r.body.size(), 1024u * 1024u + 11'000u);
        auto const body = r.json();
        ASSERT_FALSE(body["messages"].empty());
        for (auto const& m : body["messages"])
            got.push_back(m);
        cursor = body["cursor"].get<std::string>();
    }
    ASSERT_EQ(got.size(), count);
    for (std::size_t i = 0; i < count; ++i)
        ASSERT_EQ(got[i]["offset"], i + 1);
}

// ---- topics and history ----

std::string const budget_secret = "budget-test-secret-0123456789abcd";

header_list as_user(std::string const& user)
{
    return {{"Authorization", "Bearer " + make_hs256({{"sub", user}, {"exp", unix_time(600s)}}, budget_secret)}};
}

server_options users_and_anonymous()
{
    server_options options;
    options.security.jwt_secret = budget_secret;
    options.security.allow_anonymous = true;
    return options;
}

TEST(budget, one_client_cannot_take_every_topic)
{
    auto options = users_and_anonymous();
    options.history.max_topics = 2'000;  // twice the default per client (1,000)
    live_server srv(options);
    srv.start();

    // An anonymous client publishes to new topics as fast as it can: it is stopped at its own bound.
    auto greedy = ws_client::create(srv.ioc);
    greedy->connect(srv.port);
    constexpr int tries = 2'000;
    for (int i = 0; i < tries; ++i)
        greedy->send_json({{"type", "publish"}, {"topic", "mine." + std::to_string(i)}, {"data", i}, {"id", i}});
    ASSERT_TRUE(greedy->wait_reply(srv.ioc, tries - 1, 30s));
    int refused = 0;
    for (int i = 0; i < tries; ++i)
        if (greedy->find_reply(i).value()["type"] == "error") {
            EXPECT_EQ(greedy->find_reply(i).value()["code"], "too_many_topics");
            ++refused;
        }
    EXPECT_EQ(refused, tries - 1'000);

    // Everyone else still makes new topics, by publishing and by subscribing.
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=other.news", "1", as_user("bob")).status, 200);
    auto carol = ws_client::create(srv.ioc);
    carol->connect(srv.port, "/ws", as_user("carol"));
    EXPECT_EQ(carol->subscribe(srv.ioc, "other.chat", 1).value()["type"], "ack");
    greedy->close();
    carol->close();
}

TEST(budget, idle_topics_give_their_room_to_new_ones)
{
    server_options options;
    options.history.max_topics = 50;
    options.history.sweep_interval = std::chrono::hours(1);  // no sweep comes to the rescue
    live_server srv(options);
    srv.start();
    auto& memory = dynamic_cast<memory_backplane&>((*srv).backplane());

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    for (int i = 0; i < 50; ++i)
        ws->send_json({{"type", "subscribe"}, {"topic", "room." + std::to_string(i)}, {"id", i}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 49));
    EXPECT_EQ(memory.topic_count(), 50u);
    EXPECT_EQ(ws->subscribe(srv.ioc, "one.too.many", "full").value()["code"], "too_many_topics");
    for (int i = 0; i < 50; ++i)
        ws->send_json({{"type", "unsubscribe"}, {"topic", "room." + std::to_string(i)}, {"id", 100 + i}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 149));

    // 50 idle topics, none with history or subscribers: a new topic takes the oldest one's room at once.
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=fresh", "1").status, 200);
    EXPECT_EQ(ws->subscribe(srv.ioc, "another", "again").value()["type"], "ack");
    EXPECT_EQ(memory.topic_count(), 50u);
    ws->close();
}

TEST(budget, history_is_bounded_in_bytes_across_topics_and_a_resume_past_it_is_told)
{
    server_options options;
    options.history.max_bytes = 1024 * 1024;
    live_server srv(options);
    srv.start();
    auto& memory = dynamic_cast<memory_backplane&>((*srv).backplane());
    publish_many(srv, "early", 20, 10'000);
    auto const early = (*srv).hub().subscriber_count("early");  // 0: history alone holds it
    EXPECT_EQ(early, 0u);
    // 4 MB more over 40 topics: history keeps the newest megabyte.
    for (int t = 0; t < 40; ++t)
        publish_many(srv, "later." + std::to_string(t), 10, 10'000);
    EXPECT_LE(memory.history_bytes(), options.history.max_bytes);
    EXPECT_GE(memory.history_bytes(), options.history.max_bytes - 11'000);

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "early"}, {"id", 1}, {"since", since_start()}});
    auto ack = ws->wait_reply(srv.ioc, 1);
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["recovered"], false);  // the oldest went first
    EXPECT_EQ((*ack)["offset"], 20);
    ws->send_json({{"type", "subscribe"}, {"topic", "later.39"}, {"id", 2}, {"since", since_start()}});
    ack = ws->wait_reply(srv.ioc, 2);
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["recovered"], true);  // the newest stayed
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 10));
    ws->close();
}

}  // namespace
}  // namespace switchboard::test
