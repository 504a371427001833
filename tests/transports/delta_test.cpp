// Delta updates (docs/protocol.md, "Delta updates") from the wire: a subscription with delta gets its first
// message in full and then deltas that rebuild every payload byte for byte; a subscriber without it gets
// full envelopes from the same fan-out; a resume, a subscribe again and a message the client did not get
// start again from a full message; binary payloads and patterns never go as deltas; bad requests are refused
// with the reason. WebSocket and SSE; long polling refuses delta. The npm fossil-delta decoder and Chromium
// apply the same deltas in tests/browser/delta.test.mjs.

#include "core/fossil_delta.hpp"

#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;

// A document of ~600 bytes whose `version`-th edition differs from the one before in one figure.
std::string document(int version)
{
    std::string rows;
    for (int i = 0; i < 10; ++i)
        rows += std::string(i ? "," : "") + R"({"sensor":"température-)" + std::to_string(i) + R"(","value":)" +
                std::to_string(i == version % 10 ? 1000 + version : 500 + i) + R"(.25,"unit":"kWh"})";
    return R"({"version":)" + std::to_string(version) + R"(,"rows":[)" + rows + "]}";
}

void publish_text(live_server& srv, std::string const& topic, std::string text)
{
    std::optional<boost::system::error_code> done;
    (*srv).publish_text(topic, std::move(text), [&](boost::system::error_code ec, position) { done = ec; });
    ASSERT_TRUE(srv.run_until([&] { return done.has_value(); }));
    ASSERT_FALSE(*done);
}

// The "data" member's text: the envelope's last member.
std::string raw_data(std::string const& envelope)
{
    auto const at = envelope.find(R"(,"data":)");
    return envelope.substr(at + 8, envelope.size() - at - 9);
}

// Rebuilds payloads from envelopes as a client does: full ones as they come, deltas against the previous text.
struct rebuilt {
    std::map<std::string, std::string> last;  // by topic
    std::vector<std::string> texts;
    std::vector<bool> was_delta;

    void take(std::string const& envelope)
    {
        auto const msg = json::parse(envelope);
        auto const topic = msg["topic"].get<std::string>();
        if (msg.value("encoding", "") == "delta") {
            auto const it = last.find(topic);
            ASSERT_NE(it, last.end()) << "a delta before any full message: " << envelope;
            auto next = detail::apply_delta(it->second, msg["data"].get<std::string>());
            ASSERT_TRUE(next) << envelope;
            it->second = *next;
            was_delta.push_back(true);
        } else {
            last[topic] = raw_data(envelope);
            was_delta.push_back(false);
        }
        texts.push_back(last[topic]);
    }
};

std::vector<std::string> message_texts(ws_client const& ws)
{
    std::vector<std::string> out;
    for (auto const& t : ws.texts())
        if (t.starts_with(R"({"type":"message")"))
            out.push_back(t);
    return out;
}

TEST(deltas, websocket_a_delta_subscription_rebuilds_every_version_and_a_plain_one_gets_them_whole)
{
    live_server srv;
    srv.start();
    auto with = ws_client::create(srv.ioc);
    auto without = ws_client::create(srv.ioc);
    with->connect(srv.port);
    without->connect(srv.port);
    with->send_json({{"type", "subscribe"}, {"topic", "board"}, {"delta", true}, {"id", 1}});
    auto ack = with->wait_reply(srv.ioc, 1);
    ASSERT_TRUE(ack);
    EXPECT_EQ((*ack)["type"], "ack") << *ack;
    EXPECT_EQ((*ack)["delta"], true);
    ASSERT_TRUE(without->subscribe(srv.ioc, "board", 1));
    EXPECT_FALSE(without->find_reply(1)->contains("delta"));

    int const count = 50;
    for (int v = 1; v <= count; ++v)
        publish_text(srv, "board", document(v));
    ASSERT_TRUE(with->wait_messages(srv.ioc, count));
    ASSERT_TRUE(without->wait_messages(srv.ioc, count));

    rebuilt r;
    auto const texts = message_texts(*with);
    for (auto const& t : texts)
        r.take(t);
    ASSERT_EQ(r.texts.size(), std::size_t(count));
    for (int v = 1; v <= count; ++v)
        EXPECT_EQ(r.texts[v - 1], document(v)) << v;
    EXPECT_FALSE(r.was_delta.front()) << "the first message goes in full";
    EXPECT_TRUE(std::all_of(r.was_delta.begin() + 1, r.was_delta.end(), [](bool d) { return d; }));
    std::size_t delta_bytes = 0;
    for (auto const& t : texts)
        delta_bytes += t.size();
    auto const plain = message_texts(*without);
    std::size_t plain_bytes = 0;
    for (int v = 1; v <= count; ++v) {
        EXPECT_EQ(raw_data(plain[v - 1]), document(v));
        EXPECT_EQ(json::parse(plain[v - 1]).count("encoding"), 0u);
        plain_bytes += plain[v - 1].size();
    }
    EXPECT_LT(delta_bytes * 4, plain_bytes);
    EXPECT_EQ(metric(srv.ioc, srv.port, "switchboard_delta_deliveries_total"), std::uint64_t(count - 1));
    EXPECT_GT(metric(srv.ioc, srv.port, "switchboard_delta_bytes_saved_total").value_or(0), plain_bytes / 2);
}

TEST(deltas, websocket_a_resume_a_subscribe_again_and_a_binary_payload_go_in_full)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    auto subscribe = [&](int id, std::optional<json> since = std::nullopt, bool delta = true) {
        json cmd = {{"type", "subscribe"}, {"topic", "board"}, {"id", id}};
        if (delta)
            cmd["delta"] = true;
        if (since)
            cmd["since"] = *since;
        ws->send_json(cmd);
        auto ack = ws->wait_reply(srv.ioc, id);
        EXPECT_TRUE(ack && (*ack)["type"] == "ack") << (ack ? ack->dump() : "no answer");
        return ack.value_or(json{});
    };
    auto const first = subscribe(1);
    for (int v = 1; v <= 3; ++v)
        publish_text(srv, "board", document(v));
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 3));
    // Subscribed again with delta: the next message goes in full, then deltas again.
    subscribe(2);
    publish_text(srv, "board", document(4));
    publish_text(srv, "board", document(5));
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 5));
    // A resume from offset 2: the replay starts in full (3), then deltas (4, 5).
    subscribe(3, json{{"offset", 2}, {"epoch", first["epoch"]}});
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 8));
    // A binary payload, and the message after it: both in full (no delta from or to bytes).
    std::optional<boost::system::error_code> done;
    (*srv).publish_binary("board", std::string("\x00\x01\x02", 3), [&](boost::system::error_code ec, position) { done = ec; });
    ASSERT_TRUE(srv.run_until([&] { return done.has_value(); }));
    publish_text(srv, "board", document(7));
    publish_text(srv, "board", document(8));
    // Without delta from now on: whole envelopes.
    subscribe(4, std::nullopt, false);
    publish_text(srv, "board", document(9));
    ASSERT_TRUE(srv.run_until([&] { return ws->message_count() == 11 && ws->binary_frames() == 1; }));

    rebuilt r;
    for (auto const& t : message_texts(*ws))
        r.take(t);
    std::vector<bool> const expected = {false, true, true,          // 1-3
                                        false, true,                // 4-5 after the subscribe again
                                        false, true, true,          // 3-5 replayed
                                        false, true,                // 7 after the binary 6, then 8
                                        false};                     // 9 without delta
    EXPECT_EQ(r.was_delta, expected);
    std::vector<int> const versions = {1, 2, 3, 4, 5, 3, 4, 5, 7, 8, 9};
    ASSERT_EQ(r.texts.size(), versions.size());
    for (std::size_t i = 0; i < versions.size(); ++i)
        EXPECT_EQ(r.texts[i], document(versions[i])) << i;
}

TEST(deltas, sse_streams_deltas_for_every_topic_and_starts_again_in_full_on_reconnect)
{
    live_server srv;
    srv.start();
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=a&topic=b&delta=1");
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    ASSERT_EQ(sse->status(), 200);
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().topic_count() == 2; }));
    for (int v = 1; v <= 6; ++v)
        publish_text(srv, v % 2 ? "a" : "b", document(v / 2 * 10 + v % 2));
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 6));
    rebuilt r;
    std::vector<std::string> envelopes;
    for (auto const& e : sse->events())
        if (e.type == "message") {
            r.take(e.data);
            envelopes.push_back(e.data);
        }
    ASSERT_EQ(r.texts.size(), 6u);
    for (int v = 1; v <= 6; ++v)
        EXPECT_EQ(r.texts[v - 1], document(v / 2 * 10 + v % 2)) << v;
    EXPECT_EQ(r.was_delta, (std::vector<bool>{false, false, true, true, true, true}));
    // Reconnecting from its cursor: the next message of each topic comes in full again.
    auto const cursor = sse->last_event_id();
    sse->close();
    auto again = sse_client::create(srv.ioc);
    again->connect(srv.port, "/sse?topic=a&topic=b&delta=true", {{"Last-Event-ID", cursor}});
    ASSERT_TRUE(again->wait_status(srv.ioc));
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("a") == 1; }));
    publish_text(srv, "a", document(71));
    publish_text(srv, "a", document(81));
    ASSERT_TRUE(again->wait_messages(srv.ioc, 2));
    auto const got = again->messages();
    EXPECT_EQ(got[0].count("encoding"), 0u) << got[0];
    EXPECT_EQ(got[1]["encoding"], "delta") << got[1];
}

TEST(deltas, bad_requests_are_refused_with_the_reason)
{
    server_options o;
    o.poll_hold = std::chrono::milliseconds(10);
    live_server srv(o);
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "board"}, {"delta", "yes"}, {"id", 1}});
    ws->send_json({{"type", "subscribe"}, {"pattern", "board.*"}, {"delta", true}, {"id", 2}});
    ws->send_json({{"type", "subscribe"}, {"pattern", "board.*"}, {"delta", false}, {"id", 3}});
    auto const bad_value = ws->wait_reply(srv.ioc, 1);
    auto const on_pattern = ws->wait_reply(srv.ioc, 2);
    auto const pattern_without = ws->wait_reply(srv.ioc, 3);
    ASSERT_TRUE(bad_value && on_pattern && pattern_without);
    EXPECT_EQ((*bad_value)["code"], "invalid_json") << *bad_value;
    EXPECT_NE((*bad_value)["message"].get<std::string>().find("true or false"), std::string::npos);
    EXPECT_EQ((*on_pattern)["code"], "invalid_pattern") << *on_pattern;
    EXPECT_NE((*on_pattern)["message"].get<std::string>().find("not to a pattern"), std::string::npos);
    EXPECT_EQ((*pattern_without)["type"], "ack") << *pattern_without;

    for (auto const& [target, says] : {std::pair{"/poll?topic=board&delta=1", "long polling"},
                                       {"/sse?topic=board&delta=yes", "delta is 1"},
                                       {"/poll?topic=board&delta=2", "delta is 1"}}) {
        auto res = fetch(srv.ioc, srv.port, "GET", target);
        EXPECT_EQ(res.status, 400) << target << ": " << res.body;
        EXPECT_EQ(res.json()["error"].value("code", ""), "bad_request") << target << ": " << res.body;
        EXPECT_NE(res.body.find(says), std::string::npos) << target << ": " << res.body;
    }
    // A poll with delta=0 is a poll.
    auto res = fetch(srv.ioc, srv.port, "GET", "/poll?topic=board&delta=0");
    EXPECT_EQ(res.status, 200) << res.body;
}

}  // namespace
}  // namespace switchboard::test
