// The budget rule, measured on the bundled server as a process (docs/guarantees.md): everything held on behalf of
// one client is bounded by its own budget, whatever it sends, and history by its total bound. Clients that stop
// reading drive every path a client reaches (each WebSocket command, /publish, /sse, /poll, /ws, plain and TLS)
// with far more than any bound; the server's peak resident memory (VmHWM, /proc/<pid>/status) must stay under
// what the documented figures allow. A second test throws a seeded random mix of all of it at the server, from
// several clients some of which stop reading, and checks after each phase that the server is within the bound,
// alive, and that a client that reads lost nothing.

#include "support/build_speed.hpp"
#include "support/http_client.hpp"
#include "support/poll_client.hpp"
#include "support/process_memory.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/stall_report.hpp"
#include "support/sse_client.hpp"
#include "support/stalled_client.hpp"
#include "support/test_certificate.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <regex>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::size_t MiB = 1024 * 1024;

// The server's bounds for these tests, as flags and variables: small, so that what a missing bound would hold
// dwarfs them, and the test stays fast.
constexpr std::size_t queue_bytes = 1 * MiB;    // limits.max_queue_bytes
constexpr std::size_t history_bytes = 8 * MiB;  // history.max_bytes
constexpr std::size_t poll_bytes = 1 * MiB;     // long_polling.max_bytes_per_poll (the default)
constexpr std::size_t pending_bytes = 1 * MiB;  // limits.max_pending_bytes (the default)
constexpr std::size_t message_bytes = 64 * 1024;  // limits.max_message_size (the default)

// What docs/guarantees.md allows one channel to hold, with these bounds: a streaming channel its queue and half
// of it again for replay pages, a WebSocket also its pending commands and a message being read; a poll its
// answer, twice while it is written; an HTTP request its body, and the same again parsed.
constexpr std::size_t websocket_budget = queue_bytes * 3 / 2 + pending_bytes + message_bytes;
constexpr std::size_t sse_budget = queue_bytes * 3 / 2 + message_bytes;
constexpr std::size_t poll_budget = 2 * poll_bytes + message_bytes;
constexpr std::size_t request_budget = 2 * message_bytes;
// History: its messages, and a wire encoding of each per format it went out in (WebSocket, SSE single- and
// multi-topic), at most.
constexpr std::size_t history_held = 4 * history_bytes;
// The allocator's own slack, buffers of the loop, TLS state: a fixed allowance.
constexpr std::size_t slack = 32 * MiB;

struct budget_server {
    budget_server()
        : process(SWITCHBOARD_SERVER_PATH,
                  {"--listen", "127.0.0.1:0", "--max-queue-bytes", std::to_string(queue_bytes), "--tls-cert",
                   certificate.cert_file().string(), "--tls-key", certificate.key_file().string()},
                  {"SWITCHBOARD_HISTORY_MAX_BYTES=" + std::to_string(history_bytes),
                   "SWITCHBOARD_LIMITS_SOCKET_SEND_BUFFER=65536"})
    {
        port = process.wait_for_port(20s).value_or(0);
    }

    process_memory memory() const { return memory_of(process.pid()).value_or(process_memory{}); }

    /// Waits until the server answers: every request sent before is then read (one loop thread, in order).
    bool answers(boost::asio::io_context& ioc) const { return fetch(ioc, port, "GET", "/healthz").status == 200; }

    /// A counter from /metrics, e.g. switchboard_connections_opened_total{transport="sse"}.
    std::uint64_t metric(boost::asio::io_context& ioc, std::string const& sample) const
    {
        auto const body = fetch(ioc, port, "GET", "/metrics").body;
        auto const at = body.find("\n" + sample + " ");
        return at == std::string::npos ? 0 : std::stoull(body.substr(at + sample.size() + 2));
    }

    test_certificate certificate;
    server_process process;
    std::uint16_t port = 0;
};

// The server's peak resident memory against what the budget allows: its baseline, history's bound, the budgets
// of the clients of each phase, and the slack. The peak is the most since the server started, so each phase is
// held to the largest allowance so far.
class budget_meter {
public:
    explicit budget_meter(budget_server const& server) : server_(server), baseline_(server.memory().resident) {}

    /// `clients`: the budgets of the clients this phase, in bytes.
    void check(std::size_t clients, char const* phase)
    {
        allowed_ = std::max(allowed_, baseline_ + history_held + clients + slack);
        auto const peak = server_.memory().peak_resident;
        std::printf("[          ] %s: peak %zu MiB of %zu MiB allowed (baseline %zu MiB)\n", phase, peak / MiB,
                    allowed_ / MiB, baseline_ / MiB);
        EXPECT_LE(peak, allowed_) << phase << ": peak " << peak / MiB << " MiB, allowed " << allowed_ / MiB << " MiB";
        EXPECT_TRUE(server_.process.running()) << phase << "\n" << server_.process.output();
    }

private:
    budget_server const& server_;
    std::size_t baseline_;
    std::size_t allowed_ = 0;
};

std::string publish_command(std::string const& topic, json data, std::optional<int> id = std::nullopt)
{
    json cmd = {{"type", "publish"}, {"topic", topic}, {"data", std::move(data)}};
    if (id)
        cmd["id"] = *id;
    return cmd.dump();
}

std::string http_request_text(std::string const& method, std::string const& target, std::string const& body = {})
{
    std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!body.empty() || method == "POST")
        out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    return out + "\r\n" + body;
}

// A WebSocket that connects, then stops reading, and goes on sending.
//
// With the system's receive buffer, not a tiny one: a client that does not read and must still get its own
// writes through cannot have one. With SO_RCVBUF at 4 KB on loopback, the kernel now and then drops data it had
// advertised room for (TcpExtTCPRcvQDrop); the server's send position is then past the window this client
// takes, so every ACK the server sends for the client's data is discarded as out of window, and the client
// retransmits into a connection that already has its bytes, backing off for minutes. A stall report caught it
// (the client's tx_queue held 3.6 MB unacknowledged, backoff 8; the server, its input idle, had closed).
std::shared_ptr<ws_client> stalled_websocket(boost::asio::io_context& ioc, server_port port)
{
    auto ws = ws_client::create(ioc);
    ws->connect(port);
    EXPECT_TRUE(ws->wait_open(ioc));
    ws->pause_reading();
    return ws;
}

bool all_settled(boost::asio::io_context& ioc, std::vector<std::shared_ptr<ws_client>> const& clients,
                 std::chrono::milliseconds deadline)
{
    return run_until(ioc, [&] {
        return std::all_of(clients.begin(), clients.end(),
                           [](auto const& c) { return c->pending_writes() == 0 || c->closed(); });
    }, deadline);
}

// Which clients still have frames to write, how many, and where their connections stand (for a failure's
// message); then whether the server still answers.
std::string unsettled(boost::asio::io_context& ioc, std::vector<std::shared_ptr<ws_client>> const& clients,
                      budget_server const& server)
{
    std::string out;
    for (std::size_t i = 0; i < clients.size(); ++i)
        if (clients[i]->pending_writes() != 0 && !clients[i]->closed())
            out += "client " + std::to_string(i) + ": " + std::to_string(clients[i]->pending_writes()) +
                   " frames unwritten, open " + std::to_string(clients[i]->is_open()) + "\n" +
                   connection_report(clients[i]->native_handle());
    out += "the server's threads:\n" + threads_report(server.process.pid());
    return out + "the server answers: " + std::to_string(server.answers(ioc)) + "\n" + server.process.output();
}

// A fresh server per test, so that each path's peak is its own; it must stop cleanly at the end.
class budget_rule : public ::testing::Test {
protected:
    void SetUp() override
    {
        // The sanitizers hold freed memory in quarantine and pad every allocation: resident memory says nothing of
        // the budget there. The paths run under them in the in-process budget tests (tests/server).
        if (build_slowdown > 1)
            GTEST_SKIP() << "resident memory is measured in the optimized build only";
        ASSERT_NE(server.port, 0) << server.process.output();
        ASSERT_TRUE(server.answers(ioc));
        budget = std::make_unique<budget_meter>(server);
    }

    void TearDown() override
    {
        EXPECT_TRUE(server.answers(ioc)) << server.process.output();
        server.process.signal(SIGTERM);
        EXPECT_EQ(server.process.wait_exit(20s), 0) << server.process.output();
    }

    /// Publishes `count` times `data` to `topic` over one WebSocket, and waits for the last one's ack.
    void publish_many(std::string const& topic, std::size_t count, json const& data)
    {
        auto publisher = ws_client::create(ioc);
        publisher->connect(server.port);
        for (std::size_t i = 0; i < count; ++i)
            publisher->send_text(publish_command(topic, data));
        publisher->send_text(publish_command(topic, "last", 1));
        ASSERT_TRUE(publisher->wait_reply(ioc, 1, 30s));
        publisher->close();
    }

    budget_server server;
    boost::asio::io_context ioc;
    std::unique_ptr<budget_meter> budget;
    std::string const big = std::string(60'000, 'b');
};

TEST_F(budget_rule, history_over_websocket_and_http_far_past_its_total_bound)
{
    // 130 MB to 100 topics, sixteen times history's bound.
    auto publisher = ws_client::create(ioc);
    publisher->connect(server.port);
    for (int i = 0; i < 2'000; ++i)
        publisher->send_text(publish_command("flood." + std::to_string(i % 100), big));
    std::size_t answered = 0;
    for (int i = 0; i < 200; ++i)
        request(ioc, server.port, "POST", "/publish?topic=flood." + std::to_string(i % 100), json(big).dump(), {},
                [&](http_result r) {
                    EXPECT_EQ(r.status, 200);
                    ++answered;
                });
    ASSERT_TRUE(run_until(ioc, [&] { return answered == 200 && publisher->pending_writes() == 0; }, 30s));
    ASSERT_TRUE(server.answers(ioc));
    publisher->close();
    budget->check(websocket_budget + 200 * request_budget, "history flood");
}

TEST_F(budget_rule, replays_asked_again_and_again_by_clients_that_do_not_read)
{
    // A topic of 10,000 small messages resumed from its start 2,000 times, plain and over TLS: each ask would
    // have queued the whole history again.
    publish_many("small", 10'000, 7);
    std::vector<std::shared_ptr<ws_client>> resumers{stalled_websocket(ioc, server.port),
                                                     stalled_websocket(ioc, tls_port(server.port))};
    json const subscribe = {{"type", "subscribe"}, {"topic", "small"}, {"since", {{"offset", 0}, {"epoch", ""}}}};
    for (auto& ws : resumers)
        for (int i = 1; i <= 2'000; ++i) {
            auto cmd = subscribe;
            cmd["id"] = i;
            ws->send_json(cmd);
        }
    ASSERT_TRUE(all_settled(ioc, resumers, 30s));
    // Reading again, each gets every ask's ack and the history after the last one: all was read meanwhile.
    for (auto& ws : resumers) {
        ws->resume_reading();
        ASSERT_TRUE(ws->wait_reply(ioc, 2'000, 30s));
    }
    budget->check(3 * websocket_budget, "replays");
    for (auto& ws : resumers)
        ws->close();
}

TEST_F(budget_rule, poll_answers_and_sse_streams_that_are_never_read)
{
    // Over a history of large messages, from the start: 8 MiB each to answer.
    publish_many("big", 200, big);
    auto opened = [&](char const* transport) {
        return server.metric(ioc, std::string("switchboard_connections_opened_total{transport=\"") + transport + "\"}");
    };
    std::vector<std::shared_ptr<stalled_client>> readers;
    for (int i = 0; i < 20; ++i) {
        readers.push_back(stalled_client::connect(ioc, server.port));
        readers.back()->send(http_request_text("GET", "/poll?topic=big&cursor=0..big"));
    }
    for (int i = 0; i < 10; ++i) {
        readers.push_back(stalled_client::connect(ioc, server.port));
        readers.back()->send(http_request_text("GET", "/sse?topic=big&since=0..big"));
    }
    auto tls_sse = sse_client::create(ioc);
    tls_sse->set_receive_buffer_size(4096);
    tls_sse->connect(tls_port(server.port), "/sse?topic=big&since=0..big");
    ASSERT_TRUE(tls_sse->wait_status(ioc));
    tls_sse->pause_reading();
    // Opened, each poll was answered at once and each stream started its replay.
    ASSERT_TRUE(run_until(ioc, [&] { return opened("long-polling") >= 20 && opened("sse") >= 11; }, 30s));
    budget->check(20 * poll_budget + 11 * sse_budget, "poll answers and SSE streams");
    for (auto& r : readers)
        r->close();
    tls_sse->close();
}

TEST_F(budget_rule, every_websocket_command_flooded_and_http_publishes_pipelined_by_clients_that_do_not_read)
{
    std::vector<std::shared_ptr<ws_client>> flooders;
    std::string const token(500, 't');
    std::vector<std::function<std::string(int)>> const commands = {
        [](int i) { return json{{"type", "ping"}, {"id", i}}.dump(); },
        [](int i) { return json{{"type", "subscribe"}, {"topic", "s." + std::to_string(i % 500)}, {"id", i}}.dump(); },
        [](int i) { return json{{"type", "unsubscribe"}, {"topic", "s." + std::to_string(i % 500)}, {"id", i}}.dump(); },
        [](int i) { return publish_command("cmd." + std::to_string(i % 50), i, i); },
        [&](int i) { return json{{"type", "refresh"}, {"token", token}, {"id", i}}.dump(); },
        [](int i) { return "{\"type\":\"subscribe\",\"id\":" + std::to_string(i) + ",\"topic\":"; },  // malformed
    };
    for (auto const& make : commands) {
        auto ws = stalled_websocket(ioc, server.port);
        for (int i = 0; i < 20'000; ++i)
            ws->send_text(make(i));
        flooders.push_back(ws);
    }
    auto pipelined = stalled_client::connect(ioc, server.port);
    for (int i = 0; i < 5'000; ++i)
        pipelined->send(http_request_text("POST", "/publish?topic=piped", json(i).dump()));
    ASSERT_TRUE(all_settled(ioc, flooders, 60s)) << unsettled(ioc, flooders, server);
    // The server reads no further than it answers: the rest waits in the kernel's buffers.
    ASSERT_TRUE(run_until(ioc, [&] { return pipelined->written() > 64 * 1024; }, 30s));
    ASSERT_TRUE(server.answers(ioc));
    budget->check(6 * websocket_budget + request_budget, "command floods");
    for (auto& ws : flooders)
        ws->drop();
    pipelined->close();
}

// ---- a seeded random mix ----

// One phase's worth of a client's commands: every kind, in random proportions, some larger than others.
std::string random_command(std::mt19937& random, int id)
{
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    std::string const topic = "mix." + std::to_string(pick(40));
    switch (pick(8)) {
    case 0:
        return json{{"type", "subscribe"}, {"topic", topic}, {"id", id}}.dump();
    case 1: {
        json since = {{"offset", pick(3) == 0 ? pick(20'000) : 0}, {"epoch", pick(2) ? "" : "e" + std::to_string(pick(9))}};
        return json{{"type", "subscribe"}, {"topic", topic}, {"id", id}, {"since", since}}.dump();
    }
    case 2:
        return json{{"type", "unsubscribe"}, {"topic", topic}, {"id", id}}.dump();
    case 3:
        return publish_command(topic, std::string(pick(3) == 0 ? 20'000 + pick(40'000) : pick(200), 'd'), id);
    case 4:
        return json{{"type", "ping"}, {"id", id}}.dump();
    case 5:
        return json{{"type", "refresh"}, {"token", std::string(1 + pick(2'000), 't')}, {"id", id}}.dump();
    case 6:
        return std::string(R"({"type":"subscribe","topic":)").substr(0, static_cast<std::size_t>(pick(30)));  // malformed
    default:
        return json{{"type", pick(2) ? "nonsense" : "publish"}, {"id", id}}.dump();  // unknown, or a field missing
    }
}

TEST_F(budget_rule, a_seeded_mix_of_every_command_and_route_keeps_the_server_within_budget)
{
    unsigned seed = 13;
    if (char const* given = std::getenv("SWITCHBOARD_TEST_SEED"))
        seed = static_cast<unsigned>(std::stoul(given));
    SCOPED_TRACE("seed " + std::to_string(seed) + " (set SWITCHBOARD_TEST_SEED to replay)");
    std::mt19937 random(seed);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };

    // Witnesses: one reader per transport on a topic nobody else touches; each must get every message, in order.
    auto ws_witness = ws_client::create(ioc);
    ws_witness->connect(server.port);
    ASSERT_TRUE(ws_witness->subscribe(ioc, "witness", "w"));
    auto sse_witness = sse_client::create(ioc);
    sse_witness->connect(tls_port(server.port), "/sse?topic=witness");
    ASSERT_TRUE(sse_witness->wait_events(ioc, 1));
    auto poll_witness = poll_client::create(ioc);
    poll_witness->start(server.port, {"witness"});
    ASSERT_TRUE(poll_witness->wait_requests(ioc, 1));
    auto const in_order = [](std::vector<json> const& got, std::size_t n) {
        if (got.size() != n)
            return false;
        for (std::size_t i = 0; i < n; ++i)
            if (got[i]["offset"] != i + 1)
                return false;
        return true;
    };

    constexpr int phases = 7;
    constexpr int attackers = 6;
    constexpr int commands_per_phase = 1'500;
    std::vector<std::shared_ptr<ws_client>> ws(attackers);
    for (int phase = 1; phase <= phases; ++phase) {
        SCOPED_TRACE("phase " + std::to_string(phase));
        std::vector<std::shared_ptr<stalled_client>> stalled;
        std::size_t held = 3 * websocket_budget;  // the witnesses (the poll's answers are tiny)
        // WebSockets, plain or TLS, each reading or not this phase; one that was closed comes back.
        for (auto& c : ws) {
            if (!c || c->closed() || c->failed()) {
                c = ws_client::create(ioc);  // the system's receive buffer: see stalled_websocket
                c->connect(pick(3) == 0 ? tls_port(server.port) : server_port(server.port));
                ASSERT_TRUE(c->wait_settled(ioc));
            }
            if (pick(2))
                c->pause_reading();
            else
                c->resume_reading();
            for (int i = 0; i < commands_per_phase; ++i) {
                if (pick(50) == 0)
                    c->send_binary("\x01\x02");
                else
                    c->send_text(random_command(random, phase * 100'000 + i));
            }
            held += websocket_budget;
        }
        // HTTP publishes (read), and requests from clients that never read: pipelined publishes, SSE, polls.
        std::size_t answered = 0;
        int const publishes = 50 + pick(100);
        for (int i = 0; i < publishes; ++i)
            request(ioc, server.port, "POST", "/publish?topic=mix." + std::to_string(pick(40)),
                    json(std::string(pick(20'000), 'h')).dump(), {}, [&](http_result) { ++answered; });
        held += static_cast<std::size_t>(publishes) * request_budget;
        for (int i = 0; i < 12; ++i) {
            auto c = stalled_client::connect(ioc, server.port);
            std::string const topic = "mix." + std::to_string(pick(40));
            switch (pick(3)) {
            case 0:
                for (int k = 0; k < 200; ++k)
                    c->send(http_request_text("POST", "/publish?topic=" + topic, std::to_string(k)));
                held += request_budget;
                break;
            case 1:
                c->send(http_request_text("GET", "/sse?topic=" + topic + "&since=0.." + topic));
                held += sse_budget;
                break;
            default:
                c->send(http_request_text("GET", "/poll?topic=" + topic + (pick(2) ? "&cursor=0.." + topic : "")));
                held += poll_budget;
                break;
            }
            stalled.push_back(std::move(c));
        }

        ASSERT_TRUE(all_settled(ioc, ws, 60s));
        ASSERT_TRUE(run_until(ioc, [&] { return answered == static_cast<std::size_t>(publishes); }, 30s));
        ASSERT_TRUE(server.answers(ioc)) << server.process.output();
        // The witnesses lost nothing meanwhile.
        ASSERT_EQ(fetch(ioc, server.port, "POST", "/publish?topic=witness", std::to_string(phase)).status, 200);
        auto const n = static_cast<std::size_t>(phase);
        EXPECT_TRUE(run_until(ioc, [&] {
            return in_order(ws_witness->messages(), n) && in_order(sse_witness->messages(), n) &&
                   in_order(poll_witness->messages(), n);
        }, 30s)) << ws_witness->message_count() << " " << sse_witness->message_count() << " "
                 << poll_witness->messages().size();
        budget->check(held, "random phase");
        for (auto& c : stalled)
            c->close();
    }
    for (auto& c : ws)
        c->drop();
    poll_witness->stop();
    ws_witness->close();
    sse_witness->close();
}

}  // namespace
}  // namespace switchboard::test
