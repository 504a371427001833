// The bundled server with --threads: several event loops on one port, joined as the nodes of one cluster.
// Clients land on the loops as the kernel spreads them; the test opens WebSocket, SSE and long-polling
// subscribers until /metrics says both loops hold channels, publishes over HTTP, and every subscriber gets every
// message once, in offset order, byte for byte; /metrics sums the loops; SIGHUP and SIGTERM reach every loop.

#include "support/http_client.hpp"
#include "support/offsets.hpp"
#include "support/poll_client.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <memory>
#include <regex>
#include <set>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The value of one series in a Prometheus text ("name" or "name{labels}"); -1 when absent.
double metric(std::string const& text, std::string const& series)
{
    std::size_t at = 0;
    while ((at = text.find(series + " ", at)) != std::string::npos) {
        if (at == 0 || text[at - 1] == '\n')
            return std::stod(text.substr(at + series.size() + 1));
        at += series.size();
    }
    return -1;
}

std::vector<std::string> const two_loops{"--listen", "127.0.0.1:0", "--threads", "2"};

// The port of `server` (started with two_loops) once both its loops listen; 0, with the failure recorded, if not.
std::uint16_t two_loops_port(server_process& server)
{
    auto const port = server.wait_for_port(20s).value_or(0);
    if (port == 0 || !server.wait_for_output("2 event loops on port", 20s)) {
        ADD_FAILURE() << "the server did not start its two loops:\n" << server.output();
        return 0;
    }
    return port;
}

// Whether a /metrics text shows open channels on both loops.
bool both_loops_hold_channels(std::string const& text)
{
    return metric(text, R"(switchboard_loop_channels{loop="0"})") > 0 &&
           metric(text, R"(switchboard_loop_channels{loop="1"})") > 0;
}

TEST(threads, subscribers_on_both_loops_get_every_message_once_in_order_and_metrics_sum_the_loops)
{
    boost::asio::io_context ioc;
    server_process server(SWITCHBOARD_SERVER_PATH, two_loops);
    auto const port = two_loops_port(server);
    ASSERT_NE(port, 0);

    // One subscriber of each transport per round, until both loops hold channels (each connection lands on
    // either loop by the kernel's hash: 8 rounds all on one loop is 1 in 2^23).
    std::vector<std::shared_ptr<ws_client>> ws;
    std::vector<std::shared_ptr<sse_client>> sse;
    std::vector<std::shared_ptr<poll_client>> poll;
    std::string text;
    for (int round = 0; round < 8; ++round) {
        auto& w = ws.emplace_back(ws_client::create(ioc));
        w->connect(port);
        w->send_json({{"type", "subscribe"}, {"topic", "room"}, {"id", "sub"}});
        ASSERT_TRUE(w->wait_reply(ioc, "sub"));
        auto& s = sse.emplace_back(sse_client::create(ioc));
        s->connect(port, "/sse?topic=room");
        ASSERT_TRUE(run_until(ioc, [&] { return s->find_event("subscribed").has_value(); }, 10s));
        auto& p = poll.emplace_back(poll_client::create(ioc));
        p->set_cursor("0..room");  // everything the topic holds: nothing slips past the first request
        p->start(port, {"room"});
        ASSERT_TRUE(p->wait_requests(ioc, 1));
        ASSERT_TRUE(run_until(ioc, [&] {
            text = fetch(ioc, port, "GET", "/metrics").body;
            return metric(text, R"(switchboard_connections{transport="long-polling"})") == double(poll.size());
        }, 10s)) << text;
        if (round >= 1 && both_loops_hold_channels(text))
            break;
    }
    EXPECT_EQ(metric(text, "switchboard_loops"), 2);
    EXPECT_TRUE(both_loops_hold_channels(text)) << text;
    // Summed: every subscriber counted once, whichever loop holds it.
    EXPECT_EQ(metric(text, R"(switchboard_connections{transport="websocket"})"), double(ws.size()));
    EXPECT_EQ(metric(text, R"(switchboard_connections{transport="sse"})"), double(sse.size()));
    EXPECT_EQ(metric(text, "switchboard_backplane_up{backplane=\"memory\"}"), 1);

    // Published over HTTP on whichever loop the request lands, each acknowledged before the next.
    constexpr std::size_t count = 30;
    for (std::size_t i = 0; i < count; ++i) {
        auto res = fetch(ioc, port, "POST", "/publish?topic=room", R"({"n": )" + std::to_string(i) + "}");
        ASSERT_EQ(res.status, 200) << res.body;
        EXPECT_EQ(res.json()["offset"], i + 1) << "offsets are given in one place, whichever loop published";
    }
    std::vector<std::uint64_t> expected;
    for (std::size_t i = 1; i <= count; ++i)
        expected.push_back(i);
    ASSERT_TRUE(run_until(ioc, [&] {
        for (auto const& w : ws)
            if (w->message_count() < count)
                return false;
        for (auto const& s : sse)
            if (s->message_count() < count)
                return false;
        for (auto const& p : poll)
            if (p->messages().size() < count)
                return false;
        return true;
    }, 20s));
    for (auto const& w : ws)
        ASSERT_TRUE(w->wait_settled(ioc));
    auto const reference = ws.front()->messages();
    EXPECT_EQ(offsets_of(reference), expected);
    for (std::size_t i = 0; i < count; ++i)
        EXPECT_EQ(reference[i]["data"]["n"], i);
    for (auto const& w : ws)
        EXPECT_EQ(w->messages(), reference);
    for (auto const& s : sse)
        EXPECT_EQ(s->messages(), reference);
    for (auto const& p : poll) {
        EXPECT_EQ(p->messages(), reference);
        p->stop();
    }

    text = fetch(ioc, port, "GET", "/metrics").body;
    EXPECT_EQ(metric(text, "switchboard_messages_published_total"), double(count));
    // Each loop hands a message to its own subscribers: summed, every streaming subscriber counted once.
    EXPECT_GE(metric(text, "switchboard_deliveries_total"), double(count * (ws.size() + sse.size())));

    // A reload reaches every loop (each logs it), and so does the stop: every WebSocket is closed with 1001.
    server.signal(SIGHUP);
    EXPECT_TRUE(server.wait_for_output(std::regex(R"(configuration reloaded[\s\S]*configuration reloaded)"), 10s))
        << server.output();
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(20s), 0) << server.output();
    ASSERT_TRUE(run_until(ioc, [&] {
        for (auto const& w : ws)
            if (w->close_code() == 0)
                return false;
        return true;
    }, 10s));
    for (auto const& w : ws)
        EXPECT_EQ(w->close_code(), 1001);
}

// Presence with --threads: the loops keep one member map (the cluster's), so members on both loops see each
// other join and leave, and a snapshot or the counts on either loop list them all.
TEST(threads, presence_members_on_both_loops_see_each_other_and_every_loop_lists_them_all)
{
    boost::asio::io_context ioc;
    server_process server(SWITCHBOARD_SERVER_PATH, two_loops);
    auto const port = two_loops_port(server);
    ASSERT_NE(port, 0);

    std::vector<std::shared_ptr<ws_client>> members;
    std::vector<std::string> clients;
    std::string text;
    // Members until both loops hold some (16 all on one loop is 1 in 2^15).
    for (int i = 0; i < 16; ++i) {
        auto& m = members.emplace_back(ws_client::create(ioc));
        m->connect(port);
        auto const ack = m->ask(ioc, {{"type", "subscribe"}, {"topic", "room"}, {"presence", true}, {"id", 1}});
        ASSERT_TRUE(ack && (*ack)["type"] == "ack") << (ack ? ack->dump() : "no answer");
        clients.push_back((*ack)["presence"]["client"]);
        text = fetch(ioc, port, "GET", "/metrics").body;
        if (i >= 1 && both_loops_hold_channels(text))
            break;
    }
    ASSERT_TRUE(both_loops_hold_channels(text)) << text;

    // The first member hears every later one join, whichever loop each is on.
    auto const joined = [&](ws_client const& c) {
        std::set<std::string> out;
        for (auto const& j : c.received())
            if (j.value("type", "") == "join")
                out.insert(j["client"].get<std::string>());
        return out;
    };
    std::set<std::string> const later(clients.begin() + 1, clients.end());
    ASSERT_TRUE(run_until(ioc, [&] { return joined(*members[0]) == later; }, 10s));

    // Any loop answers the whole set: the HTTP snapshot (a new connection each, landing where the kernel puts it)
    // and each member's snapshot command.
    std::set<std::string> const all(clients.begin(), clients.end());
    for (int i = 0; i < 4; ++i) {
        auto const page = fetch(ioc, port, "GET", "/presence?topic=room");
        ASSERT_EQ(page.status, 200) << page.body;
        std::set<std::string> listed;
        auto const body = page.json();
        for (auto const& m : body["members"])
            listed.insert(m["client"].get<std::string>());
        EXPECT_EQ(listed, all);
    }
    for (auto const& m : members) {
        auto const stats = m->ask(ioc, {{"type", "presence_stats"}, {"topic", "room"}, {"id", 2}});
        ASSERT_TRUE(stats);
        EXPECT_EQ((*stats)["clients"], clients.size());
    }

    // The last member leaves: the first hears it, and the counts drop on every loop.
    members.back()->send_json({{"type", "unsubscribe"}, {"topic", "room"}, {"id", 3}});
    ASSERT_TRUE(run_until(ioc, [&] {
        for (auto const& j : members[0]->received())
            if (j.value("type", "") == "leave" && j["client"] == clients.back())
                return true;
        return false;
    }, 10s));
    auto const counts = fetch(ioc, port, "GET", "/presence?topic=room&stats=1");
    EXPECT_EQ(counts.json()["clients"], clients.size() - 1) << counts.body;
    // /metrics sums the loops: each counts the members that joined through it.
    ASSERT_TRUE(run_until(ioc, [&] {
        text = fetch(ioc, port, "GET", "/metrics").body;
        return metric(text, "switchboard_presence_members") == double(clients.size() - 1);
    }, 10s)) << text;
    // room, counted by each loop that still has a member in it.
    EXPECT_GE(metric(text, "switchboard_presence_topics"), 1);
    EXPECT_LE(metric(text, "switchboard_presence_topics"), 2);
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(20s), 0) << server.output();
}

}  // namespace
}  // namespace switchboard::test
