// Pattern resume (docs/protocol.md, "Resuming a pattern") with real clients: a pattern subscriber that was away
// gets every message the pattern's topics got meanwhile, topics made meanwhile included, in the backplane's
// sequence order and once each, then the live ones; a WebSocket learns where the replay ended ("replayed"), an
// SSE stream and a poll carry the pattern's sequence in their cursor; recovered:false names the topics whose
// history no longer reaches back; more topics than max_resume_topics is refused with a clear error; a replay
// longer than the client's queue is paced, not held; a C++ listener resumes too.

#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;

json subscribe_pattern(std::string const& pattern, int id, std::optional<json> since = std::nullopt)
{
    json cmd = {{"type", "subscribe"}, {"pattern", pattern}, {"id", id}};
    if (since)
        cmd["since"] = *since;
    return cmd;
}

std::vector<std::string> names_of(std::vector<json> const& messages)
{
    std::vector<std::string> out;
    for (auto const& m : messages)
        out.push_back(m["topic"].get<std::string>() + "#" + std::to_string(m["offset"].get<std::uint64_t>()));
    return out;
}

std::optional<json> find_frame(ws_client const& ws, std::string const& type)
{
    for (auto const& f : ws.received())
        if (f.value("type", "") == type)
            return f;
    return std::nullopt;
}

TEST(pattern_resume, websocket_gets_what_its_topics_got_while_away_in_sequence_order_then_live)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    auto const first = ws->ask(srv.ioc, subscribe_pattern("r.*", 1));
    ASSERT_TRUE(first);
    ASSERT_EQ((*first)["type"], "ack") << *first;
    ASSERT_TRUE((*first)["sequence"].is_number_unsigned()) << *first;
    std::string const epoch = (*first)["epoch"];
    srv.publish("r.a", 1);
    srv.publish("r.b", 2);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    auto const live = ws->messages();
    EXPECT_GT(live[1]["sequence"].get<std::uint64_t>(), live[0]["sequence"].get<std::uint64_t>()) << live[1];
    auto const left_at = live[1]["sequence"].get<std::uint64_t>();
    ws->close();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().pattern_count() == 0; }));

    // While away: an old topic, a new one, one the pattern does not match, one of another name.
    srv.publish("r.a", 3);
    srv.publish("r.new", 4);
    srv.publish("r.x.y", 5);
    srv.publish("q.z", 6);
    // Over HTTP, as a backend would: its text kept byte for byte (a 64-bit integer, "1.50").
    auto const posted = fetch(srv.ioc, srv.port, "POST", "/publish?topic=r.b", R"({"big": 12345678901234567890, "f": 1.50})",
                              {{"Content-Type", "application/json"}});
    ASSERT_EQ(posted.status, 200) << posted.body;

    auto back = ws_client::create(srv.ioc);
    back->connect(srv.port);
    auto const ack = back->ask(srv.ioc, subscribe_pattern("r.*", 2, json{{"sequence", left_at}, {"epoch", epoch}}));
    ASSERT_TRUE(ack);
    ASSERT_EQ((*ack)["type"], "ack") << *ack;
    EXPECT_EQ((*ack)["recovered"], true) << *ack;
    EXPECT_FALSE(ack->contains("lost")) << *ack;
    EXPECT_EQ((*ack)["epoch"], epoch);
    ASSERT_TRUE(back->wait_messages(srv.ioc, 3));
    ASSERT_TRUE(back->wait_received(srv.ioc, 5));  // the ack, three messages, "replayed"
    auto const missed = back->messages();
    EXPECT_EQ(names_of(missed), (std::vector<std::string>{"r.a#2", "r.new#1", "r.b#2"}));
    EXPECT_EQ(missed[0]["data"], 3);
    std::uint64_t previous = left_at;
    for (auto const& m : missed) {
        EXPECT_GT(m["sequence"].get<std::uint64_t>(), previous) << m;
        previous = m["sequence"];
    }
    // The payload byte for byte: the raw frame holds the publisher's text (a 64-bit integer, "1.50").
    auto const& texts = back->texts();
    EXPECT_TRUE(std::any_of(texts.begin(), texts.end(), [](std::string const& t) {
        return t.find(R"("data":{"big": 12345678901234567890, "f": 1.50})") != std::string::npos;
    }));
    auto const replayed = find_frame(*back, "replayed");
    ASSERT_TRUE(replayed) << "the end of the replay is told";
    EXPECT_EQ((*replayed)["pattern"], "r.*");
    EXPECT_EQ((*replayed)["sequence"], (*ack)["sequence"]);
    EXPECT_EQ((*replayed)["epoch"], epoch);

    srv.publish("r.c", 8);
    ASSERT_TRUE(back->wait_messages(srv.ioc, 4));
    EXPECT_EQ(back->messages()[3]["topic"], "r.c");
    EXPECT_GT(back->messages()[3]["sequence"].get<std::uint64_t>(), (*ack)["sequence"].get<std::uint64_t>());
    back->close();
}

TEST(pattern_resume, overlapping_patterns_and_a_topic_held_exactly_resume_each_message_once)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    auto const topic_ack = ws->subscribe(srv.ioc, "o.b", 1);
    ASSERT_TRUE(topic_ack);
    auto const ack = ws->ask(srv.ioc, subscribe_pattern("o.*", 2));
    ASSERT_TRUE(ack);
    ws->close();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().pattern_count() == 0; }));
    for (auto const* topic : {"o.b", "o.c", "o.d.e", "o.c", "o.b"})
        srv.publish(topic, topic);

    auto back = ws_client::create(srv.ioc);
    back->connect(srv.port);
    json const since = {{"sequence", (*ack)["sequence"]}, {"epoch", (*ack)["epoch"]}};
    // The topic first, then both patterns: o.b is resumed by its own position, o.c by whichever pattern gets
    // there first, o.d.e by o.>.
    back->send_json({{"type", "subscribe"},
                     {"topic", "o.b"},
                     {"since", {{"offset", (*topic_ack)["offset"]}, {"epoch", (*topic_ack)["epoch"]}}},
                     {"id", 3}});
    back->send_json(subscribe_pattern("o.*", 4, since));
    back->send_json(subscribe_pattern("o.>", 5, since));
    ASSERT_TRUE(back->wait_messages(srv.ioc, 5));
    ASSERT_TRUE(back->wait_reply(srv.ioc, 5));
    back->send_json({{"type", "ping"}, {"id", 6}});
    ASSERT_TRUE(back->wait_reply(srv.ioc, 6));
    std::map<std::string, int> seen;
    for (auto const& name : names_of(back->messages()))
        ++seen[name];
    EXPECT_EQ(seen, (std::map<std::string, int>{{"o.b#1", 1}, {"o.b#2", 1}, {"o.c#1", 1}, {"o.c#2", 1}, {"o.d.e#1", 1}}));
    back->close();
}

TEST(pattern_resume, lost_history_is_named_and_too_many_topics_is_refused)
{
    server_options o;
    o.history.limits.max_messages = 2;
    o.history.overrides.push_back({"k.live", {0, std::chrono::seconds(300)}});
    o.max_resume_topics = 3;
    live_server srv(o);
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    auto const ack = ws->ask(srv.ioc, subscribe_pattern("k.*", 1));
    ASSERT_TRUE(ack);
    json const since = {{"sequence", (*ack)["sequence"]}, {"epoch", (*ack)["epoch"]}};
    ASSERT_TRUE(ws->ask(srv.ioc, {{"type", "unsubscribe"}, {"pattern", "k.*"}, {"id", 2}}));
    for (int i = 0; i < 4; ++i)
        srv.publish("k.trimmed", i);
    srv.publish("k.live", 9);

    auto const resumed = ws->ask(srv.ioc, subscribe_pattern("k.*", 3, since));
    ASSERT_TRUE(resumed);
    EXPECT_EQ((*resumed)["recovered"], false) << *resumed;
    auto lost = (*resumed)["lost"].get<std::vector<std::string>>();
    std::sort(lost.begin(), lost.end());
    EXPECT_EQ(lost, (std::vector<std::string>{"k.live", "k.trimmed"})) << *resumed;
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    EXPECT_EQ(names_of(ws->messages()), (std::vector<std::string>{"k.trimmed#3", "k.trimmed#4"}));
    ASSERT_TRUE(ws->ask(srv.ioc, {{"type", "unsubscribe"}, {"pattern", "k.*"}, {"id", 4}}));

    // Four topics now have messages after `since`: more than a resume may replay.
    srv.publish("k.x", 1);
    srv.publish("k.y", 1);
    auto const refused = ws->ask(srv.ioc, subscribe_pattern("k.*", 5, since));
    ASSERT_TRUE(refused);
    EXPECT_EQ((*refused)["type"], "error") << *refused;
    EXPECT_EQ((*refused)["code"], "too_many_topics") << *refused;
    EXPECT_EQ((*srv).hub().pattern_count(), 0u) << "a refused resume leaves no subscription";
    auto const from_now = ws->ask(srv.ioc, subscribe_pattern("k.*", 6));
    ASSERT_TRUE(from_now);
    EXPECT_EQ((*from_now)["type"], "ack") << "without its cursor the pattern starts from now";
    // A cursor from another epoch: nothing to replay, and it says so.
    auto other = ws_client::create(srv.ioc);
    other->connect(srv.port);
    auto const stale = other->ask(srv.ioc, subscribe_pattern("k.*", 7, json{{"sequence", 1}, {"epoch", "gone"}}));
    ASSERT_TRUE(stale);
    EXPECT_EQ((*stale)["recovered"], false) << *stale;
    auto const bad = other->ask(srv.ioc, subscribe_pattern("k.*", 8, json{{"offset", 1}, {"epoch", "e"}}));
    ASSERT_TRUE(bad);
    EXPECT_EQ((*bad)["code"], "invalid_cursor") << *bad;
    EXPECT_NE((*bad)["message"].get<std::string>().find("sequence"), std::string::npos) << *bad;
    other->close();
    ws->close();
}

TEST(pattern_resume, a_replay_longer_than_the_queue_is_paced_by_the_reader)
{
    server_options o;
    o.max_queue_bytes = 32 * 1024;  // the replay below is about 20 times that
    live_server srv(o);
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    auto const ack = ws->ask(srv.ioc, subscribe_pattern("p.*", 1));
    ASSERT_TRUE(ack);
    ASSERT_TRUE(ws->ask(srv.ioc, {{"type", "unsubscribe"}, {"pattern", "p.*"}, {"id", 2}}));
    std::string const filler(300, 'x');
    constexpr int count = 2000;
    for (int i = 0; i < count; ++i)
        srv.publish("p." + std::to_string(i % 20), json{{"i", i}, {"f", filler}});
    ws->pause_reading();
    ws->send_json(subscribe_pattern("p.*", 3, json{{"sequence", (*ack)["sequence"]}, {"epoch", (*ack)["epoch"]}}));
    // A client that does not read holds the server to its queue: the replay waits for it (not a slow
    // consumer: the replay fills no more than half the queue).
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().pattern_subscription_count() == 1; }));
    ws->resume_reading();
    ASSERT_TRUE(ws->wait_messages(srv.ioc, count, std::chrono::seconds(30)));
    auto const got = ws->messages();
    for (int i = 0; i < count; ++i)
        ASSERT_EQ(got[static_cast<std::size_t>(i)]["data"]["i"], i) << "in publish order, once each";
    ws->close();
}

TEST(pattern_resume, sse_carries_the_pattern_sequence_in_its_event_ids_and_resumes_from_last_event_id)
{
    live_server srv;
    srv.start();
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?pattern=s.*");
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().pattern_subscription_count() == 1; }));
    srv.publish("s.a", 1);
    srv.publish("s.b", 2);
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 2));
    auto const id = sse->last_event_id();
    EXPECT_NE(id.find(".s.*"), std::string::npos) << "the pattern's entry: " << id;
    sse->close();
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().pattern_count() == 0; }));
    srv.publish("s.a", 3);
    srv.publish("s.c", 4);  // a topic made while away

    auto back = sse_client::create(srv.ioc);
    back->connect(srv.port, "/sse?pattern=s.*", {{"Last-Event-ID", id}});
    ASSERT_TRUE(back->wait_messages(srv.ioc, 2));
    EXPECT_EQ(names_of(back->messages()), (std::vector<std::string>{"s.a#2", "s.c#1"}));
    auto const subscribed = back->find_event("subscribed");
    ASSERT_TRUE(subscribed);
    auto const info = json::parse(subscribed->data);
    EXPECT_EQ(info["pattern"], "s.*");
    EXPECT_EQ(info["recovered"], true) << info;
    // Once the replay is done the cursor stands at the sequence it ran to; live messages move it on.
    auto const end = std::to_string(info["sequence"].get<std::uint64_t>()) + "." + info["epoch"].get<std::string>() + ".s.*";
    ASSERT_TRUE(srv.run_until([&] { return back->last_event_id() == end; })) << back->last_event_id();
    srv.publish("s.d", 5);
    ASSERT_TRUE(back->wait_messages(srv.ioc, 3));
    EXPECT_NE(back->last_event_id(), end);
    back->close();
}

TEST(pattern_resume, long_polling_takes_patterns_and_carries_their_sequence_in_the_cursor)
{
    server_options o;
    o.poll_hold = std::chrono::milliseconds(100);
    live_server srv(o);
    srv.start();
    // The first poll has nothing: its cursor holds the pattern's sequence now.
    auto first = fetch(srv.ioc, srv.port, "GET", "/poll?pattern=l.*");
    ASSERT_EQ(first.status, 200) << first.body;
    std::string cursor = first.json()["cursor"];
    EXPECT_NE(cursor.find(".l.*"), std::string::npos) << cursor;
    // Between polls nothing is subscribed; the next poll reads what the pattern's topics got meanwhile.
    srv.publish("l.a", 1);
    srv.publish("l.b", 2);
    srv.publish("m.x", 3);
    srv.publish("l.a", 4);
    auto next = fetch(srv.ioc, srv.port, "GET", "/poll?pattern=l.*&cursor=" + cursor);
    ASSERT_EQ(next.status, 200) << next.body;
    std::vector<json> messages = next.json()["messages"];
    EXPECT_EQ(names_of(messages), (std::vector<std::string>{"l.a#1", "l.b#1", "l.a#2"}));
    cursor = next.json()["cursor"];
    // Nothing again from there: the poll waits, and answers empty with the same cursor.
    auto idle = fetch(srv.ioc, srv.port, "GET", "/poll?pattern=l.*&cursor=" + cursor);
    EXPECT_TRUE(idle.json()["messages"].empty()) << idle.body;
    EXPECT_EQ(idle.json()["cursor"], cursor);
    srv.publish("l.c", 5);
    auto last = fetch(srv.ioc, srv.port, "GET", "/poll?pattern=l.*&cursor=" + cursor);
    EXPECT_EQ(names_of(last.json()["messages"]), (std::vector<std::string>{"l.c#1"}));
}

TEST(pattern_resume, a_cpp_listener_resumes_a_pattern)
{
    live_server srv;
    srv.start();
    std::optional<subscribe_result> made;
    subscribe_options options;
    options.on_subscribed = [&](boost::system::error_code ec, subscribe_result const& r) {
        EXPECT_FALSE(ec) << ec.message();
        made = r;
    };
    std::vector<std::string> got;
    auto sub = (*srv).subscribe("c.*", [&](message_ptr const& m) { got.push_back(m->topic()); }, options);
    ASSERT_TRUE(srv.run_until([&] { return made.has_value(); }));
    auto const start = made->latest;
    sub.unsubscribe();
    srv.publish("c.a", 1);
    srv.publish("c.b", 2);

    made.reset();
    subscribe_options resume = options;
    resume.since = start;
    auto again = (*srv).subscribe("c.*", [&](message_ptr const& m) { got.push_back(m->topic()); }, resume);
    ASSERT_TRUE(srv.run_until([&] { return made.has_value(); }));
    EXPECT_TRUE(made->recovered);
    EXPECT_EQ(got, (std::vector<std::string>{"c.a", "c.b"}));
    srv.publish("c.c", 3);
    EXPECT_EQ(got, (std::vector<std::string>{"c.a", "c.b", "c.c"}));
}

}  // namespace
}  // namespace switchboard::test
