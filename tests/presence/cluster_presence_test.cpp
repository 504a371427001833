// Presence across nodes on a real broker, redis-server and nats-server -js each (docs/scaling.md, "Presence across
// nodes"): WebSocket members on two nodes see each other join and leave, a snapshot on either node (the presence
// command and GET /presence) lists both nodes' members in client id order a page at a time, max_members counts
// every node's members, a live node's members outlast the expiry (its refreshes or heartbeats), and a node that
// dies (a switchboard-server process killed with SIGKILL: no leave, no goodbye) has its members' leave events
// emitted by the live node within the configured expiry, once each. Over NATS, where nodes tell each other over
// core NATS (at most once), a leave said while NATS was away still reaches the other node once it is back.

#include "support/http_client.hpp"
#include "support/live_server.hpp"
#include "support/nats_process.hpp"
#include "support/redis_process.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <switchboard/nats_backplane.hpp>
#include <switchboard/redis_backplane.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The brokers: how a node on the test's loop reaches it, and how a switchboard-server process does.
struct redis_broker {
    static constexpr char const* name = "redis";
    std::unique_ptr<backplane> make(boost::asio::io_context& ioc, std::chrono::milliseconds expiry) const
    {
        redis_options o;
        o.url = process.url();
        o.reconnect_min = 10ms;
        o.reconnect_max = 100ms;
        o.presence_expiry = expiry;
        return std::make_unique<redis_backplane>(ioc.get_executor(), o);
    }
    std::vector<std::string> server_flags() const { return {"--redis", process.url()}; }
    static std::vector<std::string> server_environment()
    {
        return {"SWITCHBOARD_REDIS_PRESENCE_EXPIRY=2s", "SWITCHBOARD_REDIS_RECONNECT_MIN=20",
                "SWITCHBOARD_REDIS_RECONNECT_MAX=200"};
    }
    /// Nothing of a dead node is left in the broker: `live` members are all it holds.
    void expect_holds_only(std::size_t live) const
    {
        auto const expiring = process.command({"ZCARD", "switchboard:presence.expiry"});
        ASSERT_TRUE(expiring);
        EXPECT_EQ(expiring->integer, static_cast<long long>(live));
    }
    redis_process process;
};

struct nats_broker {
    static constexpr char const* name = "nats";
    std::unique_ptr<backplane> make(boost::asio::io_context& ioc, std::chrono::milliseconds expiry) const
    {
        nats_options o;
        o.url = process.url();
        o.reconnect_wait = 20ms;
        o.presence_expiry = expiry;
        return std::make_unique<nats_backplane>(ioc.get_executor(), o);
    }
    std::vector<std::string> server_flags() const { return {"--nats", process.url()}; }
    static std::vector<std::string> server_environment()
    {
        return {"SWITCHBOARD_NATS_PRESENCE_EXPIRY=2s", "SWITCHBOARD_NATS_RECONNECT_WAIT=20ms"};
    }
    void expect_holds_only(std::size_t) const {}  // NATS holds no presence: every node's copy is in its memory
    nats_process process;
};

// One node: a server on the test's loop over its own backplane (two nodes share the loop and the clients).
struct node {
    node(boost::asio::io_context& ioc, std::unique_ptr<backplane> b, std::size_t max_members)
    {
        server_options o;
        o.address = "127.0.0.1";
        o.port = 0;
        o.security.allow_anonymous = true;
        o.presence.max_members = max_members;
        o.presence.grace = 0ms;  // a close is a leave at once
        bp = b.get();
        srv = std::make_unique<server>(ioc, o, std::move(b));
        srv->start();
        port = srv->local_endpoint().port();
        EXPECT_TRUE(run_until(ioc, [&] { return bp->connected(); }, 10s)) << "the node never reached its broker";
    }
    std::unique_ptr<server> srv;
    backplane* bp = nullptr;
    std::uint16_t port = 0;
};

// The broker first (up before the nodes, stopped after them); the nodes stop and the loop runs dry before they go.
template <class Broker>
class cluster_presence : public ::testing::Test {
protected:
    void TearDown() override
    {
        for (auto& n : nodes_)
            n->srv->stop();
        ioc.run_for(10s);  // returns once nothing is left to run
        nodes_.clear();
    }
    node& add_node(std::size_t max_members = 1000, std::chrono::milliseconds expiry = 30s)
    {
        return *nodes_.emplace_back(std::make_unique<node>(ioc, broker.make(ioc, expiry), max_members));
    }

    Broker broker;
    boost::asio::io_context ioc{1};

private:
    std::vector<std::unique_ptr<node>> nodes_;
};

struct broker_names {
    template <class T>
    static std::string GetName(int)
    {
        return T::name;
    }
};
using brokers = ::testing::Types<redis_broker, nats_broker>;
TYPED_TEST_SUITE(cluster_presence, brokers, broker_names);

std::shared_ptr<ws_client> connect(boost::asio::io_context& ioc, std::uint16_t port)
{
    auto c = ws_client::create(ioc);
    c->connect(port, "/ws");
    EXPECT_TRUE(c->wait_open(ioc));
    return c;
}

json join(boost::asio::io_context& ioc, ws_client& c, std::string const& topic)
{
    static int id = 0;
    auto reply = c.ask(ioc, {{"type", "subscribe"}, {"topic", topic}, {"presence", true}, {"id", ++id}});
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(json());
}

std::string client_of(json const& ack)
{
    return ack["presence"]["client"].get<std::string>();
}

std::vector<json> events(ws_client const& c, std::string const& type = {})
{
    std::vector<json> out;
    for (auto const& j : c.received()) {
        auto const t = j.value("type", "");
        if ((t == "join" || t == "leave") && (type.empty() || t == type))
            out.push_back(j);
    }
    return out;
}

bool saw(ws_client const& c, std::string const& type, std::string const& client)
{
    for (auto const& e : events(c, type))
        if (e["client"] == client)
            return true;
    return false;
}

std::size_t count(ws_client const& c, std::string const& type, std::string const& client)
{
    std::size_t n = 0;
    for (auto const& e : events(c, type))
        n += e["client"] == client;
    return n;
}

// Every member's client id, read through `c`'s presence command `limit` at a time.
std::vector<std::string> snapshot(boost::asio::io_context& ioc, ws_client& c, std::string const& topic,
                                  std::size_t limit, std::size_t* pages = nullptr)
{
    std::vector<std::string> out;
    std::string cursor;
    static int id = 1'000;
    for (std::size_t page = 1; page < 1000; ++page) {
        json cmd = {{"type", "presence"}, {"topic", topic}, {"limit", limit}, {"id", ++id}};
        if (!cursor.empty())
            cmd["cursor"] = cursor;
        auto reply = c.ask(ioc, cmd);
        if (!reply || reply->value("type", "") != "presence") {
            ADD_FAILURE() << (reply ? reply->dump() : "no answer");
            return out;
        }
        EXPECT_LE((*reply)["members"].size(), limit);
        for (auto const& m : (*reply)["members"])
            out.push_back(m["client"]);
        if (pages)
            *pages = page;
        if (!reply->contains("next"))
            break;
        cursor = (*reply)["next"];
    }
    return out;
}

// The client ids of GET /presence's first page on `port`; nullopt unless it answered 200.
std::optional<std::vector<std::string>> listed(boost::asio::io_context& ioc, std::uint16_t port,
                                               std::string const& topic)
{
    auto const r = fetch(ioc, port, "GET", "/presence?topic=" + topic);
    if (r.status != 200)
        return std::nullopt;
    std::vector<std::string> out;
    auto const body = r.json();  // held: a range over a temporary's member would dangle
    for (auto const& m : body["members"])
        out.push_back(m["client"]);
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

TYPED_TEST(cluster_presence, members_on_two_nodes_see_each_other_and_either_snapshot_lists_both)
{
    auto& ioc = this->ioc;
    auto& na = this->add_node();
    auto& nb = this->add_node();
    auto a = connect(ioc, na.port);
    auto b = connect(ioc, nb.port);
    auto c = connect(ioc, na.port);
    auto const ja = join(ioc, *a, "room");
    ASSERT_EQ(ja["type"], "ack") << ja.dump();
    auto const jb = join(ioc, *b, "room");
    ASSERT_EQ(jb["type"], "ack") << jb.dump();
    // B's member joined on B: A's member hears of it through the broker.
    ASSERT_TRUE(run_until(ioc, [&] { return saw(*a, "join", client_of(jb)); }, 10s));
    auto const jc = join(ioc, *c, "room");
    ASSERT_EQ(jc["type"], "ack") << jc.dump();
    // And the other way: a join on A reaches B's member.
    ASSERT_TRUE(run_until(ioc, [&] { return saw(*b, "join", client_of(jc)); }, 10s));
    // (Over NATS, B may also tell b of a's join: B can hear of it after b joined, and b's snapshot then lacks it.)
    auto const e = events(*b, "join").back();
    EXPECT_EQ(e, (json{{"type", "join"}, {"topic", "room"}, {"client", client_of(jc)}, {"user", ""}, {"info", nullptr}}));

    // A snapshot on either node lists every node's members; GET /presence on B answers the same.
    std::vector<std::string> const all = sorted({client_of(ja), client_of(jb), client_of(jc)});
    EXPECT_EQ(snapshot(ioc, *a, "room", 100), all);
    EXPECT_EQ(snapshot(ioc, *b, "room", 100), all);
    auto const on_b = listed(ioc, nb.port, "room");
    ASSERT_TRUE(on_b) << "GET /presence did not answer 200";
    EXPECT_EQ(*on_b, all);
    auto const stats = fetch(ioc, na.port, "GET", "/presence?topic=room&stats=1");
    ASSERT_EQ(stats.status, 200) << stats.body;
    EXPECT_EQ(stats.json()["clients"], 3);
    EXPECT_EQ(stats.json()["users"], 3);  // anonymous members count one user each

    // B's member closes: A's members see it leave, once.
    b->close();
    ASSERT_TRUE(run_until(ioc, [&] { return saw(*a, "leave", client_of(jb)) && saw(*c, "leave", client_of(jb)); }, 10s));
    ASSERT_TRUE(a->ask(ioc, {{"type", "ping"}, {"id", 99}}));
    EXPECT_EQ(count(*a, "leave", client_of(jb)), 1u);
    EXPECT_EQ(count(*a, "join", client_of(jb)), 1u);
    // Nobody hears its own join, on either node.
    EXPECT_FALSE(saw(*a, "join", client_of(ja)));
    EXPECT_FALSE(saw(*c, "join", client_of(jc)));
    EXPECT_EQ(snapshot(ioc, *c, "room", 100), sorted({client_of(ja), client_of(jc)}));
    EXPECT_EQ(na.bp->presence_size()->members, 2u);  // this node's own members
    EXPECT_EQ(nb.bp->presence_size()->members, 0u);
}

TYPED_TEST(cluster_presence, pages_and_max_members_span_nodes)
{
    auto& ioc = this->ioc;
    auto& na = this->add_node(5);
    auto& nb = this->add_node(5);
    std::vector<std::shared_ptr<ws_client>> clients;
    std::vector<std::string> present;
    for (int i = 0; i < 5; ++i) {
        auto c = connect(ioc, i % 2 ? nb.port : na.port);
        auto const ack = join(ioc, *c, "room");
        ASSERT_EQ(ack["type"], "ack") << ack.dump();
        present.push_back(client_of(ack));
        clients.push_back(c);
    }
    // Five members on two nodes, once both know of all five (over NATS each node checks its own copy): a sixth
    // is refused on either.
    auto clients_on = [&](std::uint16_t port) {
        auto const r = fetch(ioc, port, "GET", "/presence?topic=room&stats=1");
        return r.status == 200 ? r.json().value("clients", 0) : -1;
    };
    ASSERT_TRUE(run_until(ioc, [&] { return clients_on(na.port) == 5 && clients_on(nb.port) == 5; }, 10s));
    for (auto port : {na.port, nb.port}) {
        auto extra = connect(ioc, port);
        auto const refused = join(ioc, *extra, "room");
        EXPECT_EQ(refused["type"], "error") << refused.dump();
        EXPECT_EQ(refused["code"], "too_many_members");
    }
    // Pages of two, in client id order, across both nodes' members.
    std::size_t pages = 0;
    EXPECT_EQ(snapshot(ioc, *clients[1], "room", 2, &pages), sorted(present));
    EXPECT_EQ(pages, 3u);
    // One leaves on A: room for one more, on B.
    clients[0]->close();
    ASSERT_TRUE(run_until(ioc, [&] { return saw(*clients[1], "leave", present[0]); }, 10s));
    auto late = connect(ioc, nb.port);
    EXPECT_EQ(join(ioc, *late, "room")["type"], "ack");
}

// A node that stops cleanly says its members' leaves as it closes them: they go at once, not at the expiry.
TYPED_TEST(cluster_presence, a_node_that_stops_cleanly_has_its_members_leave_at_once)
{
    auto& ioc = this->ioc;
    auto& na = this->add_node();  // the expiry is 30 s: a leave within 10 s is not the expiry's
    auto& nb = this->add_node();
    auto watcher = connect(ioc, na.port);
    auto const jw = join(ioc, *watcher, "room");
    ASSERT_EQ(jw["type"], "ack") << jw.dump();
    auto member = connect(ioc, nb.port);
    auto const jm = join(ioc, *member, "room");
    ASSERT_EQ(jm["type"], "ack") << jm.dump();
    ASSERT_TRUE(run_until(ioc, [&] { return saw(*watcher, "join", client_of(jm)); }, 10s));
    nb.srv->stop();
    EXPECT_TRUE(run_until(ioc, [&] { return saw(*watcher, "leave", client_of(jm)); }, 10s));
    EXPECT_EQ(snapshot(ioc, *watcher, "room", 100), std::vector<std::string>{client_of(jw)});
}

// Node B is a switchboard-server process: SIGKILL gives it no chance to leave.
TYPED_TEST(cluster_presence, a_dead_nodes_members_leave_within_the_expiry_and_live_ones_stay)
{
    constexpr auto expiry = 2s;
    auto& ioc = this->ioc;
    auto& na = this->add_node(1000, expiry);
    auto flags = this->broker.server_flags();
    flags.insert(flags.begin(), {"--listen", "127.0.0.1:0"});
    auto environment = TypeParam::server_environment();
    environment.push_back("SWITCHBOARD_AUTH_ALLOW_ANONYMOUS=true");
    server_process dead(SWITCHBOARD_SERVER_PATH, flags, environment);
    auto const port = dead.wait_for_port(20s);
    ASSERT_TRUE(port) << dead.output();
    ASSERT_TRUE(run_until(ioc, [&] { return fetch(ioc, *port, "GET", "/readyz").status == 200; }, 20s));

    auto watcher = connect(ioc, na.port);
    auto const jw = join(ioc, *watcher, "room");
    ASSERT_EQ(jw["type"], "ack") << jw.dump();
    std::vector<std::shared_ptr<ws_client>> doomed;
    std::vector<std::string> doomed_ids;
    for (int i = 0; i < 3; ++i) {
        auto c = connect(ioc, *port);
        auto const ack = join(ioc, *c, i == 2 ? "lobby" : "room");
        ASSERT_EQ(ack["type"], "ack") << ack.dump();
        doomed_ids.push_back(client_of(ack));
        doomed.push_back(c);
    }
    ASSERT_TRUE(run_until(ioc, [&] { return saw(*watcher, "join", doomed_ids[0]) && saw(*watcher, "join", doomed_ids[1]); }, 10s));

    // Longer than the expiry with both nodes alive: refreshes keep every member (no leave anywhere).
    auto const alive_until = std::chrono::steady_clock::now() + 2 * expiry;
    run_until(ioc, [&] { return std::chrono::steady_clock::now() >= alive_until; }, 3 * expiry);
    EXPECT_TRUE(events(*watcher, "leave").empty());
    EXPECT_FALSE(saw(*doomed[0], "leave", client_of(jw)));

    auto lobby = connect(ioc, na.port);
    ASSERT_EQ(join(ioc, *lobby, "lobby")["type"], "ack");
    dead.signal(SIGKILL);
    ASSERT_TRUE(dead.wait_exit(10s));
    auto const killed = std::chrono::steady_clock::now();
    // The expiry, then a sweep or heartbeat check (every third of it), and slack for a busy machine.
    ASSERT_TRUE(run_until(ioc, [&] {
        return saw(*watcher, "leave", doomed_ids[0]) && saw(*watcher, "leave", doomed_ids[1]) &&
               saw(*lobby, "leave", doomed_ids[2]);
    }, expiry * 3));
    auto const took = std::chrono::steady_clock::now() - killed;
    EXPECT_LE(took, expiry + expiry / 3 + 1s);
    ASSERT_TRUE(watcher->ask(ioc, {{"type", "ping"}, {"id", 77}}));
    EXPECT_EQ(count(*watcher, "leave", doomed_ids[0]), 1u);
    EXPECT_EQ(count(*watcher, "leave", doomed_ids[1]), 1u);
    EXPECT_FALSE(saw(*watcher, "leave", client_of(jw)));
    // No ghost: the snapshot holds the live node's member only, and the broker nothing of the dead node.
    EXPECT_EQ(snapshot(ioc, *watcher, "room", 100), std::vector<std::string>{client_of(jw)});
    this->broker.expect_holds_only(2);  // the watcher in room, lobby's member
}

// Over NATS the nodes tell each other over core NATS, which delivers at most once: what is said while NATS is away
// is lost. The heartbeats find it out (a count and digest that differ) and the node asks for the other's members.
using nats_cluster_presence = cluster_presence<nats_broker>;

TEST_F(nats_cluster_presence, a_leave_said_while_nats_was_away_reaches_the_other_node_once_it_is_back)
{
    constexpr auto expiry = 1500ms;
    auto& na = add_node(1000, expiry);
    auto& nb = add_node(1000, expiry);
    auto watcher = connect(ioc, na.port);
    auto const jw = join(ioc, *watcher, "room");
    ASSERT_EQ(jw["type"], "ack") << jw.dump();
    auto stays = connect(ioc, nb.port);
    auto const js = join(ioc, *stays, "room");
    ASSERT_EQ(js["type"], "ack") << js.dump();
    auto goes = connect(ioc, nb.port);
    auto const jg = join(ioc, *goes, "room");
    ASSERT_EQ(jg["type"], "ack") << jg.dump();
    ASSERT_TRUE(run_until(ioc, [&] { return saw(*watcher, "join", client_of(js)) && saw(*watcher, "join", client_of(jg)); }, 10s));

    broker.process.stop();
    ASSERT_TRUE(run_until(ioc, [&] { return !na.bp->connected() && !nb.bp->connected(); }, 10s));
    goes->close();  // its leave goes nowhere
    auto const away_until = std::chrono::steady_clock::now() + expiry + expiry / 2;
    run_until(ioc, [&] { return std::chrono::steady_clock::now() >= away_until; }, 2 * expiry);
    // Away for longer than the expiry: nobody is taken for dead while its own node cannot hear.
    EXPECT_TRUE(events(*watcher, "leave").empty());
    EXPECT_FALSE(saw(*stays, "leave", client_of(jw)));

    broker.process.start();
    ASSERT_TRUE(run_until(ioc, [&] { return saw(*watcher, "leave", client_of(jg)); }, 10s))
        << "the lost leave never came";
    ASSERT_TRUE(watcher->ask(ioc, {{"type", "ping"}, {"id", 5}}));
    EXPECT_EQ(count(*watcher, "leave", client_of(jg)), 1u);
    EXPECT_FALSE(saw(*watcher, "leave", client_of(js)));
    EXPECT_FALSE(saw(*stays, "leave", client_of(jw)));
    EXPECT_EQ(snapshot(ioc, *watcher, "room", 100), sorted({client_of(jw), client_of(js)}));

    // A node started now learns every member already there from the others.
    auto& nc = add_node(1000, expiry);
    auto const present = sorted({client_of(jw), client_of(js)});
    EXPECT_TRUE(run_until(ioc, [&] { return listed(ioc, nc.port, "room") == present; }, 10s));
}

}  // namespace
}  // namespace switchboard::test
