// Presence over real WebSocket clients on a real socket (docs/protocol.md, "Presence"): members see each other
// join and leave in order, a snapshot is the set of present clients, a member leaves on unsubscribe and on close,
// a client that comes back within the grace with its resume key makes no leave and join (and a forged or stolen
// key does not take a member over), the authorize hook that refuses a topic refuses its presence and snapshot,
// a large topic's snapshot comes in bounded pages, and bad input gets a clear error. GET /presence (curl and a
// Beast client, HTTP/1.1 and HTTP/2) answers what the WebSocket commands answer, under the same security.

#include "support/curl.hpp"
#include "support/jwt_maker.hpp"
#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/slow_history_backplane.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>
#include <switchboard/hooks.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string const secret = "a-test-secret-of-32-characters!!";

server_options presence_server(std::chrono::milliseconds grace = 0ms)
{
    server_options o;
    o.security.jwt_secret = secret;
    o.security.jwt_leeway = 0s;
    o.security.allow_anonymous = true;
    o.presence.grace = grace;
    return o;
}

std::string token_for(std::string const& user, json info = nullptr)
{
    json claims = {{"sub", user}, {"exp", unix_time(3600s)}};
    if (!info.is_null())
        claims["presence"] = std::move(info);
    return make_hs256(claims, secret);
}

std::shared_ptr<ws_client> connect(live_server& srv, std::string const& token = {})
{
    auto c = ws_client::create(srv.ioc);
    c->connect(srv.port, "/ws", token.empty() ? header_list{} : header_list{{"Authorization", "Bearer " + token}});
    EXPECT_TRUE(c->wait_open(srv.ioc));
    return c;
}

// Subscribes with presence and returns the ack (or the error).
json join(live_server& srv, ws_client& c, std::string const& topic, int id, std::string const& resume = {})
{
    json cmd = {{"type", "subscribe"}, {"topic", topic}, {"presence", true}, {"id", id}};
    if (!resume.empty())
        cmd["resume"] = resume;
    auto reply = c.ask(srv.ioc, cmd);
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(json());
}

// The presence events `c` received, in order.
std::vector<json> events(ws_client const& c)
{
    std::vector<json> out;
    for (auto const& j : c.received())
        if (j.value("type", "") == "join" || j.value("type", "") == "leave")
            out.push_back(j);
    return out;
}

bool wait_events(live_server& srv, ws_client const& c, std::size_t n, std::chrono::milliseconds deadline = 10s)
{
    return run_until(srv.ioc, [&] { return events(c).size() >= n; }, deadline);
}

// Every member of `topic`, read a page of `limit` at a time through `c`.
std::vector<json> snapshot(live_server& srv, ws_client& c, std::string const& topic, std::size_t limit,
                           std::size_t* pages = nullptr)
{
    std::vector<json> members;
    std::string cursor;
    static int id = 100'000;
    for (std::size_t page = 1;; ++page) {
        json cmd = {{"type", "presence"}, {"topic", topic}, {"limit", limit}, {"id", ++id}};
        if (!cursor.empty())
            cmd["cursor"] = cursor;
        auto reply = c.ask(srv.ioc, cmd);
        if (!reply || reply->value("type", "") != "presence") {
            ADD_FAILURE() << (reply ? reply->dump() : "no answer");
            return members;
        }
        EXPECT_LE((*reply)["members"].size(), limit);
        for (auto const& m : (*reply)["members"])
            members.push_back(m);
        if (pages)
            *pages = page;
        if (!reply->contains("next"))
            return members;
        cursor = (*reply)["next"];
    }
}

TEST(presence, members_see_joins_and_leaves_in_order)
{
    live_server srv(presence_server());
    srv.start();
    auto watcher = connect(srv, token_for("watcher"));
    auto a = connect(srv, token_for("alice", {{"name", "Alice"}}));
    auto b = connect(srv, token_for("bob"));
    auto const w = join(srv, *watcher, "room", 1);
    ASSERT_EQ(w["type"], "ack") << w.dump();
    ASSERT_TRUE(w["presence"]["client"].is_string());
    ASSERT_TRUE(w["presence"]["resume"].is_string());
    auto const ja = join(srv, *a, "room", 1);
    auto const jb = join(srv, *b, "room", 1);
    ASSERT_EQ(ja["type"], "ack");
    ASSERT_EQ(jb["type"], "ack");
    std::string const ca = ja["presence"]["client"], cb = jb["presence"]["client"];
    EXPECT_NE(ca, cb);
    // Client ids are not the token nor the resume key.
    EXPECT_NE(ca, ja["presence"]["resume"]);

    b->send_json({{"type", "unsubscribe"}, {"topic", "room"}, {"id", 2}});
    a->close();
    ASSERT_TRUE(wait_events(srv, *watcher, 4));
    auto const seen = events(*watcher);
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[0], (json{{"type", "join"}, {"topic", "room"}, {"client", ca}, {"user", "alice"}, {"info", {{"name", "Alice"}}}}));
    EXPECT_EQ(seen[1], (json{{"type", "join"}, {"topic", "room"}, {"client", cb}, {"user", "bob"}, {"info", nullptr}}));
    EXPECT_EQ(seen[2], (json{{"type", "leave"}, {"topic", "room"}, {"client", cb}, {"user", "bob"}, {"info", nullptr}}));
    EXPECT_EQ(seen[3]["type"], "leave");
    EXPECT_EQ(seen[3]["client"], ca);
    // Alice saw Bob come and go before she left; nobody sees its own join.
    EXPECT_TRUE(run_until(srv.ioc, [&] { return a->closed(); }, 10s));
    auto const alice_saw = events(*a);
    ASSERT_GE(alice_saw.size(), 1u);
    EXPECT_EQ(alice_saw[0]["client"], cb);
    for (auto const& e : events(*watcher))
        EXPECT_NE(e["client"], w["presence"]["client"]);
}

TEST(presence, subscribers_without_presence_get_no_events)
{
    live_server srv(presence_server());
    srv.start();
    auto plain = connect(srv);
    auto member = connect(srv);
    auto const ack = plain->subscribe(srv.ioc, "room", 1);
    ASSERT_EQ((*ack)["type"], "ack");
    EXPECT_FALSE(ack->contains("presence"));
    ASSERT_EQ(join(srv, *member, "room", 1)["type"], "ack");
    // A ping after the join: its pong proves the join event, had there been one, came first.
    auto const pong = plain->ask(srv.ioc, {{"type", "ping"}, {"id", 2}});
    ASSERT_TRUE(pong);
    EXPECT_TRUE(events(*plain).empty());
}

TEST(presence, snapshot_is_the_set_of_present_clients_and_stats_count_users)
{
    live_server srv(presence_server());
    srv.start();
    std::vector<std::shared_ptr<ws_client>> members;
    std::set<std::string> present;
    for (auto const* user : {"u1", "u2", "u2", "u3"}) {
        auto c = connect(srv, token_for(user));
        auto const ack = join(srv, *c, "room", 1);
        ASSERT_EQ(ack["type"], "ack") << ack.dump();
        present.insert(ack["presence"]["client"].get<std::string>());
        members.push_back(c);
    }
    auto anonymous = connect(srv);
    auto const anon = join(srv, *anonymous, "room", 1);
    present.insert(anon["presence"]["client"].get<std::string>());
    // One leaves: the snapshot follows.
    auto const gone = join(srv, *members[0], "room", 7);  // present already: the same member
    members[0]->send_json({{"type", "unsubscribe"}, {"topic", "room"}});
    ASSERT_TRUE(members[0]->ask(srv.ioc, {{"type", "ping"}, {"id", 8}}));
    present.erase(gone["presence"]["client"].get<std::string>());

    auto outsider = connect(srv);
    auto const all = snapshot(srv, *outsider, "room", 1000);
    std::set<std::string> listed;
    for (auto const& m : all) {
        listed.insert(m["client"].get<std::string>());
        EXPECT_TRUE(m.contains("user") && m.contains("info"));
    }
    EXPECT_EQ(listed, present);
    EXPECT_EQ(all.size(), present.size());

    auto const stats = outsider->ask(srv.ioc, {{"type", "presence_stats"}, {"topic", "room"}, {"id", 3}});
    ASSERT_TRUE(stats);
    EXPECT_EQ(*stats, (json{{"type", "presence_stats"}, {"id", 3}, {"topic", "room"}, {"clients", 4}, {"users", 3}}))
        << "u2 twice, u3 and one anonymous client";
    // A topic nobody is in: no members, not an error.
    EXPECT_TRUE(snapshot(srv, *outsider, "empty.room", 10).empty());
}

TEST(presence, a_reconnect_within_the_grace_makes_no_events_and_after_it_a_leave)
{
    live_server srv(presence_server(1500ms));
    srv.start();
    auto watcher = connect(srv, token_for("watcher"));
    ASSERT_EQ(join(srv, *watcher, "room", 1)["type"], "ack");
    auto first = connect(srv, token_for("carol"));
    auto const ack = join(srv, *first, "room", 1);
    std::string const client = ack["presence"]["client"], key = ack["presence"]["resume"];
    ASSERT_TRUE(wait_events(srv, *watcher, 1));

    first->drop();  // the network goes: no close frame
    // Once the server has seen it go (a key names a member that left; see docs/protocol.md).
    ASSERT_TRUE(run_until(srv.ioc, [&] { return srv.stats().websocket == 1; }, 10s));
    auto again = connect(srv, token_for("carol"));
    auto const back = join(srv, *again, "room", 1, key);
    ASSERT_EQ(back["type"], "ack") << back.dump();
    EXPECT_EQ(back["presence"]["client"], client);
    EXPECT_EQ(back["presence"]["resume"], key);
    // Well past the grace: still one join and nothing else.
    auto const pong = watcher->ask(srv.ioc, {{"type", "ping"}, {"id", 9}});
    ASSERT_TRUE(pong);
    EXPECT_FALSE(run_until(srv.ioc, [&] { return events(*watcher).size() > 1; }, 2500ms));
    EXPECT_EQ(events(*watcher).size(), 1u);

    // Gone for good: one leave once the grace is over, not before.
    auto const closed_at = std::chrono::steady_clock::now();
    again->close();
    ASSERT_TRUE(wait_events(srv, *watcher, 2));
    EXPECT_GE(std::chrono::steady_clock::now() - closed_at, 1400ms);
    EXPECT_EQ(events(*watcher)[1]["type"], "leave");
    EXPECT_EQ(events(*watcher)[1]["client"], client);
}

TEST(presence, members_kept_for_the_grace_are_bounded_per_address_as_its_connections_are)
{
    // A client that joins and closes in a loop keeps each member for the grace: no more of them per address
    // than it may hold connections (here 3), past which a closing member leaves at once.
    auto options = presence_server(60s);
    options.max_connections_per_address = 3;
    live_server srv(options);
    srv.start();
    auto watcher = connect(srv, token_for("watcher"));
    ASSERT_EQ(join(srv, *watcher, "room", 1)["type"], "ack");
    std::vector<std::string> clients;
    for (int i = 0; i < 4; ++i) {
        auto member = connect(srv);
        auto const ack = join(srv, *member, "room", 1);
        ASSERT_EQ(ack["type"], "ack") << ack.dump();
        clients.push_back(ack["presence"]["client"]);
        ASSERT_TRUE(wait_events(srv, *watcher, clients.size()));
        member->close();
        ASSERT_TRUE(run_until(srv.ioc, [&] { return srv.stats().websocket == 1; }, 10s));
    }
    // The fourth is over the address's bound: it left at once; the first three are still members.
    ASSERT_TRUE(wait_events(srv, *watcher, 5));
    EXPECT_EQ(events(*watcher)[4]["type"], "leave");
    EXPECT_EQ(events(*watcher)[4]["client"], clients[3]);
    EXPECT_EQ(snapshot(srv, *watcher, "room", 10).size(), 4u);  // the watcher and three lingering
}

TEST(presence, a_forged_or_stolen_resume_key_takes_no_member_over)
{
    live_server srv(presence_server(5s));
    srv.start();
    auto watcher = connect(srv, token_for("watcher"));
    ASSERT_EQ(join(srv, *watcher, "room", 1)["type"], "ack");
    auto dave = connect(srv, token_for("dave"));
    auto const ack = join(srv, *dave, "room", 1);
    std::string const client = ack["presence"]["client"], key = ack["presence"]["resume"];
    dave->drop();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return srv.stats().websocket == 1; }, 10s));

    // Another user with Dave's key: a new member of its own.
    auto mallory = connect(srv, token_for("mallory"));
    auto const stolen = join(srv, *mallory, "room", 1, key);
    ASSERT_EQ(stolen["type"], "ack");
    EXPECT_NE(stolen["presence"]["client"], client);
    EXPECT_NE(stolen["presence"]["resume"], key);
    // A made-up key: a new member too.
    auto eve = connect(srv, token_for("dave"));
    auto const forged = join(srv, *eve, "room", 1, std::string(32, 'a'));
    ASSERT_EQ(forged["type"], "ack");
    EXPECT_NE(forged["presence"]["client"], client);
    // A client id is not a key.
    auto const by_id = join(srv, *connect(srv, token_for("dave")), "room", 1, client);
    ASSERT_EQ(by_id["type"], "ack");
    EXPECT_NE(by_id["presence"]["client"], client);
    ASSERT_TRUE(wait_events(srv, *watcher, 4));  // dave, mallory, eve, and the last one joined
    for (std::size_t i = 1; i < 4; ++i)
        EXPECT_NE(events(*watcher)[i]["client"], client);
}

TEST(presence, the_authorize_hook_refuses_presence_and_snapshot)
{
    live_server srv(presence_server());
    srv->hooks().authorize = [](authorize_request const& r, decision_handler done) {
        done(r.topic.starts_with("secret") ? make_error_code(error::forbidden) : boost::system::error_code{});
    };
    srv.start();
    auto c = connect(srv, token_for("frank"));
    auto const refused = join(srv, *c, "secret.room", 1);
    EXPECT_EQ(refused["type"], "error");
    EXPECT_EQ(refused["code"], "forbidden");
    for (auto const* type : {"presence", "presence_stats"}) {
        auto const r = c->ask(srv.ioc, {{"type", type}, {"topic", "secret.room"}, {"id", 2}});
        ASSERT_TRUE(r);
        EXPECT_EQ((*r)["code"], "forbidden") << type;
    }
    auto const allowed = c->ask(srv.ioc, {{"type", "presence"}, {"topic", "open.room"}, {"id", 3}});
    EXPECT_EQ((*allowed)["type"], "presence");
}

// A member that reads everything and parses only its first frame (the ack of its subscribe, with its client id):
// 2,000 members get 2,000,000 join events between them, which a parsing client would spend the test on.
class drain_member : public std::enable_shared_from_this<drain_member> {
public:
    static std::shared_ptr<drain_member> join(boost::asio::io_context& ioc, std::uint16_t port, std::string const& topic)
    {
        auto m = std::shared_ptr<drain_member>(new drain_member(ioc));
        std::string out =
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        out += masked_text(json{{"type", "subscribe"}, {"topic", topic}, {"presence", true}, {"id", 1}}.dump());
        m->out_ = std::move(out);
        m->socket_.async_connect({boost::asio::ip::make_address_v4("127.0.0.1"), port},
                                 [m](boost::system::error_code ec) {
                                     if (ec)
                                         return;
                                     boost::asio::async_write(m->socket_, boost::asio::buffer(m->out_),
                                                              [](boost::system::error_code, std::size_t) {});
                                     m->read();
                                 });
        return m;
    }
    /// The ack's client id, once it came.
    std::string const& client() const { return client_; }

private:
    explicit drain_member(boost::asio::io_context& ioc) : socket_(ioc) {}

    static std::string masked_text(std::string const& payload)
    {
        std::string frame(1, '\x81');
        frame += static_cast<char>(0x80 | payload.size());  // commands here are under 126 bytes
        char const key[4] = {'\x12', '\x34', '\x56', '\x78'};
        frame.append(key, 4);
        for (std::size_t i = 0; i < payload.size(); ++i)
            frame += static_cast<char>(payload[i] ^ key[i % 4]);
        return frame;
    }

    void read()
    {
        socket_.async_read_some(boost::asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec,
                                                                                           std::size_t n) {
            if (ec)
                return;
            if (self->client_.empty()) {
                self->head_.append(self->buffer_.data(), n);
                self->find_ack();
            }
            self->read();
        });
    }

    void find_ack()
    {
        auto const end = head_.find("\r\n\r\n");
        if (end == std::string::npos || head_.size() < end + 6)
            return;
        std::size_t at = end + 4;
        std::size_t len = static_cast<unsigned char>(head_[at + 1]) & 0x7f;
        at += 2;
        if (len == 126) {
            len = (static_cast<std::size_t>(static_cast<unsigned char>(head_[at])) << 8) |
                  static_cast<unsigned char>(head_[at + 1]);
            at += 2;
        }
        if (head_.size() < at + len)
            return;
        auto const ack = json::parse(head_.substr(at, len), nullptr, false);
        client_ = ack.is_discarded() ? "?" : ack.value("/presence/client"_json_pointer, std::string("?"));
        head_.clear();
    }

    boost::asio::ip::tcp::socket socket_;
    std::string out_;
    std::array<char, 65536> buffer_{};
    std::string head_;
    std::string client_;
};

TEST(presence, a_large_topic_is_paged_and_its_pages_are_bounded)
{
    auto o = presence_server();
    o.presence.max_page = 500;
    // These members never answer a ping: the join storm takes ~45 s under ASan on a busy machine, past ping and
    // pong timeout (35 s), and the first members were closed as dead before the snapshot.
    o.ws_ping_interval = 10min;
    live_server srv(o);
    srv.start();
    constexpr std::size_t members = 2000;
    std::vector<std::shared_ptr<drain_member>> clients;
    for (std::size_t i = 0; i < members; ++i)
        clients.push_back(drain_member::join(srv.ioc, srv.port, "big"));
    ASSERT_TRUE(run_until(srv.ioc, [&] {
        return std::all_of(clients.begin(), clients.end(), [](auto const& c) { return !c->client().empty(); });
    }, 60s));
    std::set<std::string> present;
    for (auto const& c : clients)
        present.insert(c->client());
    ASSERT_EQ(present.size(), members);
    ASSERT_FALSE(present.contains("?"));

    auto reader = connect(srv);
    std::size_t pages = 0;
    auto const all = snapshot(srv, *reader, "big", 300, &pages);
    EXPECT_EQ(pages, 7u);  // 2000 / 300, rounded up
    std::set<std::string> listed;
    for (auto const& m : all)
        listed.insert(m["client"].get<std::string>());
    EXPECT_EQ(all.size(), members) << "no member twice";
    EXPECT_EQ(listed, present);
    // A limit of 10^9 is lowered to max_page.
    auto const huge = reader->ask(srv.ioc, {{"type", "presence"}, {"topic", "big"}, {"limit", 1'000'000'000}, {"id", 5}});
    ASSERT_TRUE(huge);
    EXPECT_EQ((*huge)["members"].size(), 500u);
    EXPECT_TRUE(huge->contains("next"));
}

TEST(presence, the_cpp_api_reads_members_and_counts)
{
    live_server srv(presence_server());
    srv.start();
    auto a = connect(srv, token_for("ann")), b = connect(srv, token_for("ann"));
    std::set<std::string> present;
    for (auto* c : {a.get(), b.get()})
        present.insert(join(srv, *c, "room", 1)["presence"]["client"].get<std::string>());
    std::optional<presence_page> first, second;
    srv->presence("room", "", 1, [&](boost::system::error_code ec, presence_page p) {
        EXPECT_FALSE(ec);
        first = std::move(p);
    });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return first.has_value(); }, 10s));
    ASSERT_EQ(first->members.size(), 1u);
    ASSERT_FALSE(first->next.empty());
    srv->presence("room", first->next, 10, [&](boost::system::error_code ec, presence_page p) {
        EXPECT_FALSE(ec);
        second = std::move(p);
    });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return second.has_value(); }, 10s));
    ASSERT_EQ(second->members.size(), 1u);
    EXPECT_TRUE(second->next.empty());
    EXPECT_EQ((std::set<std::string>{first->members[0].client, second->members[0].client}), present);
    EXPECT_EQ(second->members[0].user, "ann");
    std::optional<presence_counts> counts;
    srv->presence_stats("room", [&](boost::system::error_code ec, presence_counts n) {
        EXPECT_FALSE(ec);
        counts = n;
    });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return counts.has_value(); }, 10s));
    EXPECT_EQ(counts->clients, 2u);
    EXPECT_EQ(counts->users, 1u);
    std::optional<boost::system::error_code> bad;
    srv->presence("bad topic", "", 10, [&](boost::system::error_code ec, presence_page) { bad = ec; });
    ASSERT_TRUE(run_until(srv.ioc, [&] { return bad.has_value(); }, 10s));
    EXPECT_EQ(*bad, error::invalid_topic);
}

TEST(presence, a_topic_at_max_members_refuses_the_next)
{
    auto o = presence_server();
    o.presence.max_members = 2;
    live_server srv(o);
    srv.start();
    auto a = connect(srv), b = connect(srv), c = connect(srv);
    ASSERT_EQ(join(srv, *a, "room", 1)["type"], "ack");
    ASSERT_EQ(join(srv, *b, "room", 1)["type"], "ack");
    auto const refused = join(srv, *c, "room", 1);
    EXPECT_EQ(refused["type"], "error");
    EXPECT_EQ(refused["code"], "too_many_members");
    // Not subscribed either; room again once one leaves.
    a->close();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return a->closed(); }, 10s));
    ASSERT_TRUE(run_until(srv.ioc, [&] { return srv.stats().websocket == 2; }, 10s));
    auto const stats = c->ask(srv.ioc, {{"type", "presence_stats"}, {"topic", "room"}, {"id", 9}});
    ASSERT_TRUE(stats);
    EXPECT_EQ((*stats)["clients"], 1);
    EXPECT_EQ(join(srv, *c, "room", 2)["type"], "ack");
}

TEST(presence, bad_input_gets_a_clear_error)
{
    live_server srv(presence_server());
    srv.start();
    auto c = connect(srv);
    struct bad_case {
        json command;
        char const* code;
    };
    std::vector<bad_case> const cases = {
        {{{"type", "subscribe"}, {"pattern", "room.*"}, {"presence", true}}, "invalid_pattern"},
        {{{"type", "presence"}, {"pattern", "room.*"}}, "invalid_pattern"},
        {{{"type", "presence"}}, "missing_field"},
        {{{"type", "presence"}, {"topic", "bad topic"}}, "invalid_topic"},
        {{{"type", "presence"}, {"topic", "room"}, {"limit", 0}}, "invalid_json"},
        {{{"type", "presence"}, {"topic", "room"}, {"limit", -3}}, "invalid_json"},
        {{{"type", "presence"}, {"topic", "room"}, {"cursor", "../../etc"}}, "invalid_cursor"},
        {{{"type", "subscribe"}, {"topic", "room"}, {"presence", "yes"}}, "invalid_json"},
        {{{"type", "subscribe"}, {"topic", "room"}, {"resume", std::string(32, 'a')}}, "invalid_json"},
        {{{"type", "subscribe"}, {"topic", "room"}, {"presence", true}, {"resume", "not-a-key"}}, "invalid_cursor"},
    };
    int id = 0;
    for (auto const& bad : cases) {
        auto cmd = bad.command;
        cmd["id"] = ++id;
        auto const reply = c->ask(srv.ioc, cmd);
        ASSERT_TRUE(reply) << cmd.dump();
        EXPECT_EQ((*reply)["type"], "error") << cmd.dump();
        EXPECT_EQ((*reply)["code"], bad.code) << cmd.dump() << " -> " << reply->dump();
    }
    EXPECT_TRUE(c->is_open());
}

TEST(presence, info_past_its_bound_is_refused)
{
    auto o = presence_server();
    o.presence.max_info_bytes = 64;
    live_server srv(o);
    srv.start();
    auto c = connect(srv, token_for("gina", {{"bio", std::string(100, 'x')}}));
    auto const refused = join(srv, *c, "room", 1);
    EXPECT_EQ(refused["code"], "message_too_large");
}

// The join and leave events an SSE stream got, as JSON, in order (events named "join" and "leave").
std::vector<json> sse_presence(sse_client const& c)
{
    std::vector<json> out;
    for (auto const& e : c.events())
        if (e.type == "join" || e.type == "leave") {
            auto j = json::parse(e.data);
            EXPECT_EQ(j["type"], e.type);
            out.push_back(std::move(j));
        }
    return out;
}

TEST(presence, sse_members_join_see_events_and_leave_across_transports)
{
    live_server srv(presence_server());
    srv.start();
    auto watcher = sse_client::create(srv.ioc);
    watcher->connect(srv.port, "/sse?topic=room&presence=1", {{"Authorization", "Bearer " + token_for("sam")}});
    ASSERT_TRUE(run_until(srv.ioc, [&] { return watcher->find_event("subscribed").has_value(); }, 10s));
    auto const subscribed = json::parse(watcher->find_event("subscribed")->data);
    ASSERT_TRUE(subscribed.contains("presence")) << subscribed.dump();
    std::string const sam = subscribed["presence"]["client"];

    // A WebSocket member sees the SSE member in the snapshot, and the SSE member sees it come and go.
    auto ws = connect(srv, token_for("wes"));
    auto const ack = join(srv, *ws, "room", 1);
    ASSERT_EQ(ack["type"], "ack");
    auto const members = snapshot(srv, *ws, "room", 10);
    ASSERT_EQ(members.size(), 2u);
    EXPECT_TRUE(members[0]["client"] == sam || members[1]["client"] == sam);
    ws->send_json({{"type", "publish"}, {"topic", "room"}, {"data", {{"text", "hi"}}}});
    ws->send_json({{"type", "unsubscribe"}, {"topic", "room"}});
    ASSERT_TRUE(run_until(srv.ioc, [&] { return sse_presence(*watcher).size() >= 2; }, 10s));
    auto const seen = sse_presence(*watcher);
    EXPECT_EQ(seen[0], (json{{"type", "join"}, {"topic", "room"}, {"client", ack["presence"]["client"]}, {"user", "wes"}, {"info", nullptr}}));
    EXPECT_EQ(seen[1]["type"], "leave");
    // Messages keep their offsets: the presence events took none.
    ASSERT_TRUE(run_until(srv.ioc, [&] { return watcher->message_count() >= 1; }, 10s));
    EXPECT_EQ(watcher->messages()[0]["offset"], 1);

    // The SSE member leaves when its stream closes.
    auto ws2 = connect(srv, token_for("wes"));
    ASSERT_EQ(join(srv, *ws2, "room", 1)["type"], "ack");
    watcher->close();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return events(*ws2).size() >= 1; }, 10s));
    EXPECT_EQ(events(*ws2)[0], (json{{"type", "leave"}, {"topic", "room"}, {"client", sam}, {"user", "sam"}, {"info", nullptr}}));
}

TEST(presence, sse_resumes_its_membership_within_the_grace)
{
    live_server srv(presence_server(3s));
    srv.start();
    auto ws = connect(srv, token_for("wes"));
    ASSERT_EQ(join(srv, *ws, "room", 1)["type"], "ack");
    header_list const auth{{"Authorization", "Bearer " + token_for("sam")}};
    auto first = sse_client::create(srv.ioc);
    first->connect(srv.port, "/sse?topic=room&presence=1", auth);
    ASSERT_TRUE(run_until(srv.ioc, [&] { return first->find_event("subscribed").has_value(); }, 10s));
    auto const p = json::parse(first->find_event("subscribed")->data)["presence"];
    ASSERT_TRUE(run_until(srv.ioc, [&] { return events(*ws).size() >= 1; }, 10s));
    first->close();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return srv.stats().sse == 0; }, 10s));

    auto again = sse_client::create(srv.ioc);
    again->connect(srv.port, "/sse?topic=room&presence=1&presence_resume=" + p["resume"].get<std::string>(), auth);
    ASSERT_TRUE(run_until(srv.ioc, [&] { return again->find_event("subscribed").has_value(); }, 10s));
    EXPECT_EQ(json::parse(again->find_event("subscribed")->data)["presence"]["client"], p["client"]);
    ASSERT_TRUE(ws->ask(srv.ioc, {{"type", "ping"}, {"id", 5}}));
    EXPECT_EQ(events(*ws).size(), 1u) << "no leave, no second join";
}

TEST(presence, sse_and_poll_refuse_what_they_cannot_do)
{
    auto o = presence_server();
    o.poll_hold = 100ms;
    o.presence.max_members = 1;
    live_server srv(o);
    srv.start();
    // A poll is refused what a stream is.
    auto const poll = fetch(srv.ioc, srv.port, "GET", "/poll?pattern=room.*&presence=1");
    EXPECT_EQ(poll.status, 400);
    EXPECT_EQ(poll.json()["error"]["code"], "invalid_pattern") << poll.body;
    for (std::string target : std::vector<std::string>{"/sse?pattern=room.*&presence=1", "/sse?topic=room&presence=maybe",
                               "/sse?topic=room&presence_resume=" + std::string(32, 'a'),
                               "/sse?topic=room&presence=1&presence_resume=zz"}) {
        auto c = sse_client::create(srv.ioc);
        c->connect(srv.port, target);
        ASSERT_TRUE(run_until(srv.ioc, [&] { return c->status() != 0 && c->ended(); }, 10s)) << target;
        EXPECT_GE(c->status(), 400) << target;
    }
    // Past max_members: refused, with the reason.
    auto ws = connect(srv);
    ASSERT_EQ(join(srv, *ws, "room", 1)["type"], "ack");
    auto full = sse_client::create(srv.ioc);
    full->connect(srv.port, "/sse?topic=room&presence=1");
    ASSERT_TRUE(run_until(srv.ioc, [&] { return full->status() != 0 && full->ended(); }, 10s));
    EXPECT_EQ(full->status(), 409);
    EXPECT_EQ(full->error_json()["error"]["code"], "too_many_members");
}

// ---- GET /presence ------------------------------------------------------------------------------------------

// curl (a third-party client) GET `target` on the plain port, with `extra` arguments.
curl_answer curl_get(live_server& srv, std::string const& target, std::vector<std::string> const& extra = {})
{
    return curl(srv.ioc, "http://127.0.0.1:" + std::to_string(srv.port) + target, extra);
}

// The WebSocket answer without its id: what GET /presence answers.
json without_id(json j)
{
    j.erase("id");
    return j;
}

// Every member of `topic` through GET /presence, `limit` at a time.
std::vector<json> http_snapshot(live_server& srv, std::string const& topic, std::size_t limit, std::size_t* pages,
                                header_list const& headers = {})
{
    std::vector<json> members;
    std::string cursor;
    for (std::size_t page = 1; page < 10'000; ++page) {
        auto target = "/presence?topic=" + topic + "&limit=" + std::to_string(limit);
        if (!cursor.empty())
            target += "&cursor=" + cursor;
        auto const r = fetch(srv.ioc, srv.port, "GET", target, {}, headers);
        if (r.status != 200) {
            ADD_FAILURE() << r.status << " " << r.body;
            return members;
        }
        auto const body = r.json();
        EXPECT_EQ(body["type"], "presence");
        EXPECT_EQ(body["topic"], topic);
        EXPECT_LE(body["members"].size(), limit);
        for (auto const& m : body["members"])
            members.push_back(m);
        *pages = page;
        if (!body.contains("next"))
            return members;
        cursor = body["next"];
    }
    ADD_FAILURE() << "pages never ended";
    return members;
}

TEST(presence, get_presence_answers_what_the_websocket_answers_and_pages_with_a_cursor)
{
    live_server srv(presence_server());
    srv.start();
    std::vector<std::shared_ptr<ws_client>> members;
    for (int i = 0; i < 12; ++i) {
        auto c = connect(srv, token_for("user" + std::to_string(i % 5), i % 2 ? json{{"n", i}} : json()));
        ASSERT_EQ(join(srv, *c, "room", 1)["type"], "ack");
        members.push_back(std::move(c));
    }
    auto reader = connect(srv);
    auto const over_ws = snapshot(srv, *reader, "room", 1000);
    ASSERT_EQ(over_ws.size(), 12u);

    // Page by page, with the cursor: the same members in the same order.
    std::size_t pages = 0;
    auto const over_http = http_snapshot(srv, "room", 5, &pages);
    EXPECT_EQ(pages, 3u);
    EXPECT_EQ(json(over_http), json(over_ws));

    // One page equals the WebSocket page, field for field (without the command's id), and is not cached.
    auto const ws_page = reader->ask(srv.ioc, {{"type", "presence"}, {"topic", "room"}, {"limit", 5}, {"id", 7}});
    ASSERT_TRUE(ws_page);
    auto const first = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&limit=5");
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(first.json(), without_id(*ws_page));
    EXPECT_EQ(first.header("Cache-Control").value_or(""), "no-store");
    EXPECT_NE(first.header("Content-Type").value_or("").find("application/json"), std::string::npos);

    // Counts: stats=1 answers what presence_stats answers.
    auto const ws_stats = reader->ask(srv.ioc, {{"type", "presence_stats"}, {"topic", "room"}, {"id", 8}});
    ASSERT_TRUE(ws_stats);
    auto const stats = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&stats=1");
    ASSERT_EQ(stats.status, 200) << stats.body;
    EXPECT_EQ(stats.json(), without_id(*ws_stats));
    EXPECT_EQ(stats.json()["clients"], 12);
    EXPECT_EQ(stats.json()["users"], 5);

    // curl, over HTTP/1.1 and over HTTP/2 (the route goes through the exchange seam): the same answer.
    auto const whole = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room");
    ASSERT_EQ(whole.status, 200);
    auto const h1 = curl_get(srv, "/presence?topic=room");
    EXPECT_EQ(h1.status, 200) << h1.output;
    EXPECT_EQ(json::parse(h1.body, nullptr, false), whole.json()) << h1.output;
    auto const h2 = curl_get(srv, "/presence?topic=room&stats=1", {"--http2-prior-knowledge"});
    EXPECT_EQ(h2.status, 200) << h2.output;
    EXPECT_EQ(h2.version, "2") << h2.output;
    EXPECT_EQ(json::parse(h2.body, nullptr, false), stats.json()) << h2.output;

    // A member that leaves is gone from the next answer.
    members[0]->close();
    ASSERT_TRUE(run_until(srv.ioc, [&] {
        auto const r = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&stats=1");
        return r.status == 200 && r.json()["clients"] == 11;
    }, 10s));
}

TEST(presence, get_presence_has_the_security_of_subscribe)
{
    auto o = presence_server();
    o.security.allow_anonymous = false;
    o.security.allowed_origins = {"https://app.example"};
    o.security.user_subscribe = {"room", "secret.*"};  // configured permissions: "lobby" is nobody's
    live_server srv(o);
    srv->hooks().authorize = [](authorize_request const& r, decision_handler done) {
        done(r.topic.starts_with("secret") ? make_error_code(error::forbidden) : boost::system::error_code{});
    };
    srv.start();
    auto member = connect(srv, token_for("alice"));
    ASSERT_EQ(join(srv, *member, "room", 1)["type"], "ack");
    header_list const bearer{{"Authorization", "Bearer " + token_for("bob")}};

    auto const allowed = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room", {}, bearer);
    ASSERT_EQ(allowed.status, 200) << allowed.body;
    EXPECT_EQ(allowed.json()["members"].size(), 1u);
    EXPECT_EQ(allowed.json()["members"][0]["user"], "alice");
    // The token as a query parameter, as SSE takes it.
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&token=" + token_for("bob")).status, 200);

    struct refusal {
        std::string target;
        header_list headers;
        int status;
        char const* code;
    };
    std::string const expired = make_hs256({{"sub", "bob"}, {"exp", unix_time(-60s)}}, secret);
    std::string const forged = make_hs256({{"sub", "bob"}, {"exp", unix_time(3600s)}}, "another-secret-of-32-characters!");
    for (auto const& r : std::vector<refusal>{
             {"/presence?topic=room", {}, 401, "unauthorized"},
             {"/presence?topic=room&stats=1", {}, 401, "unauthorized"},
             {"/presence?topic=room", {{"Authorization", "Bearer " + forged}}, 401, nullptr},
             {"/presence?topic=room", {{"Authorization", "Bearer " + expired}}, 401, "token_expired"},
             {"/presence?topic=room", {{"Authorization", "Bearer " + token_for("bob")}, {"Origin", "https://evil.example"}},
              403, "origin_not_allowed"},
             {"/presence?topic=secret.room", bearer, 403, "forbidden"},
             {"/presence?topic=secret.room&stats=1", bearer, 403, "forbidden"},
             {"/presence?topic=lobby", bearer, 403, "forbidden"},
         }) {
        auto const res = fetch(srv.ioc, srv.port, "GET", r.target, {}, r.headers);
        EXPECT_EQ(res.status, r.status) << r.target << " " << res.body;
        if (r.code) {
            EXPECT_EQ(res.json()["error"]["code"], r.code) << r.target << " " << res.body;
        }
        EXPECT_EQ(res.body.find("alice"), std::string::npos) << "no member leaks in a refusal";
    }
    // An allowed Origin gets its CORS fields.
    auto const cors = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room", {},
                            {{"Authorization", "Bearer " + token_for("bob")}, {"Origin", "https://app.example"}});
    EXPECT_EQ(cors.status, 200);
    EXPECT_EQ(cors.header("Access-Control-Allow-Origin").value_or(""), "https://app.example");
}

TEST(presence, get_presence_refuses_bad_input_with_a_clear_error)
{
    auto o = presence_server();
    o.presence.max_page = 3;
    live_server srv(o);
    srv.start();
    std::vector<std::shared_ptr<ws_client>> members;
    for (int i = 0; i < 5; ++i) {
        members.push_back(connect(srv));
        ASSERT_EQ(join(srv, *members.back(), "room", 1)["type"], "ack");
    }
    struct bad_case {
        std::string target;
        int status;
        char const* code;
    };
    for (auto const& b : std::vector<bad_case>{
             {"/presence", 400, "missing_field"},
             {"/presence?topic=", 400, "invalid_topic"},
             {"/presence?topic=a%20b", 400, "invalid_topic"},
             {"/presence?topic=" + std::string(200, 'x'), 400, "invalid_topic"},
             {"/presence?topic=room&topic=other", 400, "bad_request"},
             {"/presence?topic=room&pattern=room.*", 400, "invalid_pattern"},
             {"/presence?topic=room&limit=0", 400, "bad_request"},
             {"/presence?topic=room&limit=-1", 400, "bad_request"},
             {"/presence?topic=room&limit=ten", 400, "bad_request"},
             {"/presence?topic=room&limit=", 400, "bad_request"},
             {"/presence?topic=room&cursor=zz", 400, "invalid_cursor"},
             {"/presence?topic=room&cursor=" + std::string(32, 'G'), 400, "invalid_cursor"},
             {"/presence?topic=room&cursor=" + std::string(33, 'a'), 400, "invalid_cursor"},
             {"/presence?topic=room&stats=maybe", 400, "bad_request"},
             {"/presence?topic=room&stats=1&limit=2", 400, "bad_request"},
         }) {
        auto const r = fetch(srv.ioc, srv.port, "GET", b.target);
        EXPECT_EQ(r.status, b.status) << b.target << " " << r.body;
        EXPECT_EQ(r.json()["error"]["code"], b.code) << b.target << " " << r.body;
    }
    auto const post = fetch(srv.ioc, srv.port, "POST", "/presence?topic=room", "{}");
    EXPECT_EQ(post.status, 405);
    EXPECT_NE(post.header("Allow").value_or("").find("GET"), std::string::npos);

    // A huge limit (even past 64 bits) is lowered to max_page.
    for (std::string limit : {"1000000000", "99999999999999999999999999"}) {
        auto const r = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&limit=" + limit);
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(r.json()["members"].size(), 3u);
        EXPECT_TRUE(r.json().contains("next"));
    }
    // A well-formed cursor past every member: an empty last page; before every member: the first page.
    auto const past = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&cursor=" + std::string(32, 'f'));
    ASSERT_EQ(past.status, 200);
    EXPECT_EQ(past.json(), (json{{"type", "presence"}, {"topic", "room"}, {"members", json::array()}}));
    auto const before = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&cursor=" + std::string(32, '0'));
    ASSERT_EQ(before.status, 200);
    EXPECT_EQ(before.json()["members"].size(), 3u);
    // A topic nobody is in: no members, no error (as over WebSocket).
    auto const empty = fetch(srv.ioc, srv.port, "GET", "/presence?topic=nobody.here&stats=1");
    ASSERT_EQ(empty.status, 200);
    EXPECT_EQ(empty.json(), (json{{"type", "presence_stats"}, {"topic", "nobody.here"}, {"clients", 0}, {"users", 0}}));
    // The members are untouched by all of it.
    auto const stats = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&stats=1");
    EXPECT_EQ(stats.json()["clients"], 5);
}

// The sample `name` (with its labels, e.g. name{kind="join"}) of GET /metrics; -1 when absent.
double metric_sample(live_server& srv, std::string const& series)
{
    auto const r = fetch(srv.ioc, srv.port, "GET", "/metrics");
    EXPECT_EQ(r.status, 200);
    auto const at = r.body.find("\n" + series + " ");
    if (at == std::string::npos)
        return -1;
    return std::strtod(r.body.c_str() + at + series.size() + 2, nullptr);
}

TEST(presence, metrics_count_members_topics_events_and_deliveries)
{
    live_server srv(presence_server(60s));
    srv.start();
    auto w = connect(srv, token_for("wendy")), a = connect(srv, token_for("al")), b = connect(srv, token_for("bo"));
    ASSERT_EQ(join(srv, *w, "room", 1)["type"], "ack");
    ASSERT_EQ(join(srv, *a, "room", 1)["type"], "ack");
    ASSERT_EQ(join(srv, *b, "other", 1)["type"], "ack");
    ASSERT_TRUE(wait_events(srv, *w, 1));
    EXPECT_EQ(metric_sample(srv, "switchboard_presence_members"), 3);
    EXPECT_EQ(metric_sample(srv, "switchboard_presence_topics"), 2);
    EXPECT_EQ(metric_sample(srv, R"(switchboard_presence_events_total{kind="join"})"), 3);
    // Only w was there to see a join (a's); nobody sees its own.
    EXPECT_EQ(metric_sample(srv, R"(switchboard_presence_deliveries_total{kind="join"})"), 1);
    EXPECT_EQ(metric_sample(srv, R"(switchboard_presence_events_total{kind="leave"})"), 0);
    EXPECT_EQ(metric_sample(srv, "switchboard_presence_lingering"), 0);

    // An unsubscribe leaves at once; a close lingers for the grace, still a member.
    a->send_json({{"type", "unsubscribe"}, {"topic", "room"}, {"id", 2}});
    ASSERT_TRUE(wait_events(srv, *w, 2));
    b->close();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return metric_sample(srv, "switchboard_presence_lingering") == 1; }, 10s));
    EXPECT_EQ(metric_sample(srv, R"(switchboard_presence_events_total{kind="leave"})"), 1);
    EXPECT_EQ(metric_sample(srv, R"(switchboard_presence_deliveries_total{kind="leave"})"), 1);
    EXPECT_EQ(metric_sample(srv, "switchboard_presence_members"), 2);
    EXPECT_EQ(metric_sample(srv, "switchboard_presence_topics"), 2);
}

TEST(presence, get_presence_is_rate_limited_as_a_command_is)
{
    auto o = presence_server();
    o.security.user_messages = {0.001, 2};  // two, then one per 1,000 s: no refill within the test
    live_server srv(o);
    srv.start();
    for (int i = 0; i < 2; ++i)
        EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/presence?topic=room").status, 200);
    auto const refused = fetch(srv.ioc, srv.port, "GET", "/presence?topic=room&stats=1");
    EXPECT_EQ(refused.status, 429) << refused.body;
    EXPECT_EQ(refused.json()["error"]["code"], "rate_limited");
    EXPECT_TRUE(refused.header("Retry-After").has_value());
}

TEST(presence, get_presence_says_unavailable_off_or_without_a_keeping_backplane)
{
    live_server srv(presence_server(),
                    [](boost::asio::any_io_executor ex) { return std::make_unique<slow_history_backplane>(ex); });
    srv.start();
    for (std::string target : {"/presence?topic=room", "/presence?topic=room&stats=1"}) {
        auto const r = fetch(srv.ioc, srv.port, "GET", target);
        EXPECT_EQ(r.status, 501) << r.body;
        EXPECT_EQ(r.json()["error"]["code"], "presence_unavailable") << r.body;
    }

    auto o = presence_server();
    o.presence.path = "";
    live_server off(o);
    off.start();
    EXPECT_EQ(fetch(off.ioc, off.port, "GET", "/presence?topic=room").status, 404);
    auto moved = presence_server();
    moved.presence.path = "/who";
    live_server elsewhere(moved);
    elsewhere.start();
    auto const r = fetch(elsewhere.ioc, elsewhere.port, "GET", "/who?topic=room");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["members"], json::array());
}

}  // namespace
}  // namespace switchboard::test

namespace switchboard::test {
namespace {

// The frames of `type` `c` received, in order.
std::vector<json> of_type(ws_client const& c, std::string const& type)
{
    std::vector<json> out;
    for (auto const& j : c.received())
        if (j.value("type", "") == type)
            out.push_back(j);
    return out;
}

json entry(std::string const& client, std::string const& user)
{
    return {{"client", client}, {"user", user}, {"info", nullptr}};
}

TEST(presence, joins_and_leaves_within_a_batch_interval_come_as_one_diff)
{
    auto o = presence_server();
    // An interval no test outlives: a diff leaves only when it names max_page clients, so each one's content is
    // known whatever the machine's speed.
    o.presence.batch_interval = 1h;
    o.presence.max_page = 3;
    live_server srv(o);
    srv.start();
    auto w = connect(srv, token_for("wendy"));
    std::string const cw = join(srv, *w, "room", 1)["presence"]["client"];
    // A joins and leaves within the interval: it cancels out, but counts toward the diff's size.
    auto a = connect(srv, token_for("al"));
    ASSERT_EQ(join(srv, *a, "room", 1)["type"], "ack");
    ASSERT_EQ(a->ask(srv.ioc, {{"type", "unsubscribe"}, {"topic", "room"}, {"id", 2}}).value_or(json())["type"], "ack");
    auto b = connect(srv, token_for("bo"));
    std::string const cb = join(srv, *b, "room", 1)["presence"]["client"];
    ASSERT_TRUE(run_until(srv.ioc, [&] { return !of_type(*w, "presence_diff").empty(); }, 10s));
    // A diff may name its listener itself (a single event never does).
    EXPECT_EQ(of_type(*w, "presence_diff")[0],
              (json{{"type", "presence_diff"}, {"topic", "room"}, {"leaves", json::array()},
                    {"joins", {entry(cw, "wendy"), entry(cb, "bo")}}}));

    // B leaves, D comes and goes, E joins: the second diff says B left and E joined.
    ASSERT_EQ(b->ask(srv.ioc, {{"type", "unsubscribe"}, {"topic", "room"}, {"id", 2}}).value_or(json())["type"], "ack");
    auto d = connect(srv, token_for("di"));
    ASSERT_EQ(join(srv, *d, "room", 1)["type"], "ack");
    ASSERT_EQ(d->ask(srv.ioc, {{"type", "unsubscribe"}, {"topic", "room"}, {"id", 2}}).value_or(json())["type"], "ack");
    auto e = connect(srv, token_for("eve"));
    std::string const ce = join(srv, *e, "room", 1)["presence"]["client"];
    ASSERT_TRUE(run_until(srv.ioc, [&] { return of_type(*w, "presence_diff").size() >= 2; }, 10s));
    EXPECT_EQ(of_type(*w, "presence_diff")[1],
              (json{{"type", "presence_diff"}, {"topic", "room"}, {"leaves", {entry(cb, "bo")}},
                    {"joins", {entry(ce, "eve")}}}));
    EXPECT_TRUE(events(*w).empty()) << "no single join or leave while batching";
    EXPECT_EQ(metric_sample(srv, R"(switchboard_presence_events_total{kind="presence_diff"})"), 2);
    EXPECT_EQ(metric_sample(srv, R"(switchboard_presence_events_total{kind="join"})"), 0);
}

TEST(presence, a_diff_reaches_sse_as_a_presence_diff_event_and_a_short_interval_ends_it)
{
    auto o = presence_server();
    o.presence.batch_interval = 50ms;
    live_server srv(o);
    srv.start();
    auto watcher = sse_client::create(srv.ioc);
    watcher->connect(srv.port, "/sse?topic=room&presence=1", {{"Authorization", "Bearer " + token_for("sam")}});
    ASSERT_TRUE(run_until(srv.ioc, [&] { return watcher->find_event("subscribed").has_value(); }, 10s));
    std::vector<std::shared_ptr<ws_client>> members;
    std::set<std::string> joined;
    for (int i = 0; i < 5; ++i) {
        members.push_back(connect(srv, token_for("m" + std::to_string(i))));
        joined.insert(join(srv, *members.back(), "room", 1)["presence"]["client"].get<std::string>());
    }
    // However the joins fell into intervals, the diffs add up to them, and no single event came.
    auto const named = [&] {
        std::set<std::string> out;
        for (auto const& ev : watcher->events())
            if (ev.type == "presence_diff") {
                auto const diff = json::parse(ev.data);
                for (auto const& m : diff["joins"])
                    out.insert(m["client"].get<std::string>());
            }
        return out;
    };
    ASSERT_TRUE(run_until(srv.ioc, [&] {
        auto const seen = named();
        return std::includes(seen.begin(), seen.end(), joined.begin(), joined.end());
    }, 10s));
    EXPECT_TRUE(sse_presence(*watcher).empty());
    for (auto const& ev : watcher->events()) {
        if (ev.type == "presence_diff") {
            EXPECT_EQ(json::parse(ev.data)["type"], "presence_diff");
        }
    }
}

TEST(presence, a_topic_past_max_event_members_gets_counts_instead_of_events)
{
    auto o = presence_server();
    o.presence.max_event_members = 2;
    o.presence.counts_interval = 50ms;
    live_server srv(o);
    srv.start();
    std::vector<std::shared_ptr<ws_client>> m;
    std::vector<std::string> ids;
    auto const add_member = [&] {
        m.push_back(connect(srv));
        ids.push_back(join(srv, *m.back(), "big", 1)["presence"]["client"]);
    };
    auto const counted = [&](ws_client const& c, int clients) {
        for (auto const& j : of_type(c, "presence_stats"))
            if (j["clients"] == clients)
                return true;
        return false;
    };
    auto const joined_event = [&](ws_client const& c, std::string const& id) {
        for (auto const& e : events(c))
            if (e["type"] == "join" && e["client"] == id)
                return true;
        return false;
    };
    for (int i = 0; i < 5; ++i)
        add_member();
    // By the fifth join the topic had three listeners or more: that join was counted, not told.
    ASSERT_TRUE(run_until(srv.ioc, [&] { return counted(*m[0], 5); }, 10s));
    EXPECT_FALSE(joined_event(*m[0], ids[4]));
    auto const stats = of_type(*m[0], "presence_stats").back();
    EXPECT_EQ(stats, (json{{"type", "presence_stats"}, {"topic", "big"}, {"clients", 5}, {"users", 5}}));
    add_member();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return counted(*m[0], 6) && counted(*m[1], 6); }, 10s));
    EXPECT_FALSE(joined_event(*m[0], ids[5]));

    // Back under the bound, the next counts say so and events come again.
    for (std::size_t i = 1; i < 5; ++i)
        m[i]->close();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return counted(*m[0], 2); }, 10s));
    add_member();
    ASSERT_TRUE(run_until(srv.ioc, [&] { return joined_event(*m[0], ids[6]) && joined_event(*m[5], ids[6]); }, 10s));
    EXPECT_GE(metric_sample(srv, R"(switchboard_presence_events_total{kind="presence_stats"})"), 3);
}

// A polling client (curl, each poll its own request) is one member for as long as it polls: each poll takes the
// membership over from the one before with the key of its answer, and it leaves one grace after its last poll.
TEST(presence, a_polling_client_is_one_member_across_polls_and_leaves_a_grace_after_its_last)
{
    auto o = presence_server(3s);
    o.poll_hold = 50ms;
    live_server srv(o);
    srv.start();
    auto watcher = connect(srv, token_for("wendy"));
    ASSERT_EQ(join(srv, *watcher, "room", 1)["type"], "ack");
    auto const bearer = std::vector<std::string>{"-H", "Authorization: Bearer " + token_for("pat", {{"nick", "P"}})};

    auto first = curl_get(srv, "/poll?topic=room&presence=1", bearer);
    ASSERT_EQ(first.status, 200) << first.body;
    auto const answer = json::parse(first.body);
    ASSERT_TRUE(answer.contains("presence")) << first.body;
    std::string const client = answer["presence"]["client"], key = answer["presence"]["resume"];
    ASSERT_TRUE(wait_events(srv, *watcher, 1));
    EXPECT_EQ(events(*watcher)[0], (json{{"type", "join"}, {"topic", "room"}, {"client", client}, {"user", "pat"},
                                         {"info", {{"nick", "P"}}}}));
    std::string cursor = answer["cursor"];
    for (int i = 0; i < 4; ++i) {
        auto next = curl_get(srv, "/poll?topic=room&presence=1&presence_resume=" + key + "&cursor=" + cursor, bearer);
        ASSERT_EQ(next.status, 200) << next.body;
        auto const j = json::parse(next.body);
        EXPECT_EQ(j["presence"], answer["presence"]) << "the same member, the same key";
        cursor = j["cursor"];
    }
    // Between polls it stayed: listed, and nobody saw it leave and join again.
    auto const members = snapshot(srv, *watcher, "room", 10);
    EXPECT_EQ(members.size(), 2u);
    ASSERT_TRUE(watcher->ask(srv.ioc, {{"type", "ping"}, {"id", 2}}));
    EXPECT_EQ(events(*watcher).size(), 1u);

    // Another user presenting the key is a new member; so is a forged key.
    auto other = curl_get(srv, "/poll?topic=room&presence=1&presence_resume=" + key,
                          {"-H", "Authorization: Bearer " + token_for("mallory")});
    ASSERT_EQ(other.status, 200) << other.body;
    EXPECT_NE(json::parse(other.body)["presence"]["client"], client);
    auto forged = curl_get(srv, "/poll?topic=room&presence=1&presence_resume=" + std::string(32, 'a'), bearer);
    ASSERT_EQ(forged.status, 200) << forged.body;
    EXPECT_NE(json::parse(forged.body)["presence"]["client"], client);

    // It stops polling: it leaves once the grace ends, and once.
    ASSERT_TRUE(run_until(srv.ioc, [&] {
        for (auto const& e : events(*watcher))
            if (e["type"] == "leave" && e["client"] == client)
                return true;
        return false;
    }, 15s));
    std::size_t leaves = 0;
    for (auto const& e : events(*watcher))
        leaves += e["type"] == "leave" && e["client"] == client;
    EXPECT_EQ(leaves, 1u);
    // A poll without presence is no member and says nothing of it.
    auto plain = curl_get(srv, "/poll?topic=room");
    EXPECT_FALSE(json::parse(plain.body).contains("presence")) << plain.body;
}

}  // namespace
}  // namespace switchboard::test
