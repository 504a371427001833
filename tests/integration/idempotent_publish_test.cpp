// Idempotent publish end to end, with switchboard-server processes and third-party clients: curl retries a POST
// /publish with the same Idempotency-Key on one node and on another node sharing a real broker (Redis, NATS), a
// WebSocket client retries a publish with its "idempotency_key", and subscribers on every node see the message
// once, byte for byte. A key that is empty, too long or not visible ASCII is refused with invalid_idempotency_key,
// and nobody else notices.

#include "support/curl.hpp"
#include "support/http_client.hpp"
#include "support/nats_process.hpp"
#include "support/redis_process.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// One switchboard-server on 127.0.0.1, on a port the kernel chose, with `flags` (a backplane, or none: memory).
struct node {
    explicit node(std::vector<std::string> flags)
    {
        std::vector<std::string> args{"--listen", "127.0.0.1:0"};
        args.insert(args.end(), flags.begin(), flags.end());
        process = std::make_unique<server_process>(SWITCHBOARD_SERVER_PATH, args);
        port = process->wait_for_port(20s).value_or(0);
    }
    /// Once /readyz says 200: its broker is connected.
    bool wait_ready(boost::asio::io_context& ioc) const
    {
        return run_until(ioc, [&] { return fetch(ioc, port, "GET", "/readyz").status == 200; }, 20s);
    }
    std::string url(std::string const& target) const { return "http://127.0.0.1:" + std::to_string(port) + target; }

    std::unique_ptr<server_process> process;
    std::uint16_t port = 0;
};

std::shared_ptr<ws_client> subscriber(boost::asio::io_context& ioc, node const& n, std::string const& topic)
{
    auto ws = ws_client::create(ioc);
    ws->connect(n.port);
    auto ack = ws->subscribe(ioc, topic, "sub");
    EXPECT_TRUE(ack && (*ack)["type"] == "ack") << (ack ? ack->dump() : "no answer");
    return ws;
}

// The messages `ws` received, once a ping sent after `count` of them is answered: whatever came twice is there.
std::vector<json> settled_messages(boost::asio::io_context& ioc, ws_client& ws, std::size_t count)
{
    EXPECT_TRUE(ws.wait_messages(ioc, count));
    EXPECT_TRUE(ws.ask(ioc, {{"type", "ping"}, {"id", "settled"}}));
    return ws.messages();
}

curl_answer post(boost::asio::io_context& ioc, std::string const& url, std::string const& body,
                 std::vector<std::string> headers = {})
{
    std::vector<std::string> extra{"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body};
    for (auto& h : headers) {
        extra.push_back("-H");
        extra.push_back(std::move(h));
    }
    return curl(ioc, url, extra);
}

class idempotent_publish : public ::testing::TestWithParam<std::string> {
protected:
    std::vector<std::string> backplane() const
    {
        if (GetParam() == "redis")
            return {"--redis", redis_->url()};
        return {"--nats", nats_->url()};
    }
    void SetUp() override
    {
        if (GetParam() == "redis")
            redis_ = std::make_unique<redis_process>();
        else
            nats_ = std::make_unique<nats_process>();
    }

private:
    std::unique_ptr<redis_process> redis_;
    std::unique_ptr<nats_process> nats_;
};

INSTANTIATE_TEST_SUITE_P(brokers, idempotent_publish, ::testing::Values("redis", "nats"),
                         [](auto const& info) { return info.param; });

TEST_P(idempotent_publish, curl_retries_on_the_same_node_and_on_another_are_published_once)
{
    boost::asio::io_context ioc;
    node n1(backplane()), n2(backplane());
    ASSERT_NE(n1.port, 0) << n1.process->output();
    ASSERT_NE(n2.port, 0) << n2.process->output();
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
    auto on1 = subscriber(ioc, n1, "orders");
    auto on2 = subscriber(ioc, n2, "orders");

    std::string const body = R"({"order": 17,  "items": ["a", "b"]})";  // two spaces: delivered byte for byte
    auto const first = post(ioc, n1.url("/publish?topic=orders"), body, {"Idempotency-Key: 7d9f-order-17"});
    ASSERT_EQ(first.status, 200) << first.output;
    auto const answer = json::parse(first.body);
    EXPECT_EQ(answer["offset"], 1);

    // The same node, then the other one (the key as a query parameter there): the first answer, every time.
    auto const again = post(ioc, n1.url("/publish?topic=orders"), body, {"Idempotency-Key: 7d9f-order-17"});
    EXPECT_EQ(again.status, 200) << again.output;
    EXPECT_EQ(again.body, first.body);
    auto const elsewhere = post(ioc, n2.url("/publish?topic=orders&idempotency_key=7d9f-order-17"), body);
    EXPECT_EQ(elsewhere.status, 200) << elsewhere.output;
    EXPECT_EQ(json::parse(elsewhere.body), answer);

    // A new key is a new message.
    auto const next = post(ioc, n2.url("/publish?topic=orders"), "2", {"Idempotency-Key: 7d9f-order-18"});
    ASSERT_EQ(next.status, 200) << next.output;
    EXPECT_EQ(json::parse(next.body)["offset"], 2);

    for (auto* ws : {on1.get(), on2.get()}) {
        auto const got = settled_messages(ioc, *ws, 2);
        ASSERT_EQ(got.size(), 2u);
        EXPECT_EQ(got[0]["offset"], 1);
        EXPECT_EQ(got[1]["offset"], 2);
        EXPECT_EQ(got[1]["data"], 2);
        // The data as curl sent it, spaces and all.
        auto const& frames = ws->texts();
        EXPECT_EQ(std::count_if(frames.begin(), frames.end(),
                                [&](std::string const& f) { return f.find(body) != std::string::npos; }),
                  1);
    }
}

TEST_P(idempotent_publish, websocket_retries_with_the_same_idempotency_key_are_published_once_across_nodes)
{
    boost::asio::io_context ioc;
    node n1(backplane()), n2(backplane());
    ASSERT_NE(n1.port, 0) << n1.process->output();
    ASSERT_NE(n2.port, 0) << n2.process->output();
    ASSERT_TRUE(n1.wait_ready(ioc)) << n1.process->output();
    ASSERT_TRUE(n2.wait_ready(ioc)) << n2.process->output();
    auto watcher = subscriber(ioc, n2, "room");

    auto publisher = ws_client::create(ioc);
    publisher->connect(n1.port);
    json command = {{"type", "publish"}, {"topic", "room"}, {"data", {{"text", "hi"}}}, {"idempotency_key", "m-1"}};
    command["id"] = 1;
    auto const first = publisher->ask(ioc, command);
    ASSERT_TRUE(first && (*first)["type"] == "ack") << (first ? first->dump() : "no answer");
    command["id"] = 2;
    auto const second = publisher->ask(ioc, command);  // retried on the same connection
    ASSERT_TRUE(second);
    EXPECT_EQ((*second)["offset"], (*first)["offset"]);
    EXPECT_EQ((*second)["epoch"], (*first)["epoch"]);

    // The connection dropped before the ack came: the client reconnects, to the other node, and retries.
    publisher->close();
    auto reconnected = ws_client::create(ioc);
    reconnected->connect(n2.port);
    command["id"] = 3;
    auto const third = reconnected->ask(ioc, command);
    ASSERT_TRUE(third);
    EXPECT_EQ((*third)["offset"], (*first)["offset"]);
    EXPECT_EQ((*third)["epoch"], (*first)["epoch"]);

    auto const got = settled_messages(ioc, *watcher, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]["data"], (json{{"text", "hi"}}));
}

TEST(idempotent_publish_input, a_bad_key_is_refused_with_invalid_idempotency_key_and_harms_nobody)
{
    boost::asio::io_context ioc;
    node n({});
    ASSERT_NE(n.port, 0) << n.process->output();
    auto watcher = subscriber(ioc, n, "t");

    std::string const too_long(129, 'k');
    std::string const longest(128, 'k');
    for (auto const& [url, headers] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"/publish?topic=t", {"Idempotency-Key;"}},  // curl's way to send it empty
             {"/publish?topic=t", {"Idempotency-Key: " + too_long}},
             {"/publish?topic=t", {"Idempotency-Key: caf\xc3\xa9"}},
             {"/publish?topic=t&idempotency_key=", {}},
             {"/publish?topic=t&idempotency_key=a%20b", {}},
             {"/publish?topic=t&idempotency_key=a%0Ab", {}},
             {"/publish?topic=t&idempotency_key=a%01b", {}},
         }) {
        auto const r = post(ioc, n.url(url), "1", headers);
        EXPECT_EQ(r.status, 400) << url << " " << r.output;
        EXPECT_NE(r.body.find("invalid_idempotency_key"), std::string::npos) << url << " " << r.body;
    }

    auto ws = ws_client::create(ioc);
    ws->connect(n.port);
    int id = 0;
    for (json const& key : {json(""), json(too_long), json("a\u0001b"), json("tab\there"), json(17), json(nullptr)}) {
        auto const r = ws->ask(ioc, {{"type", "publish"}, {"topic", "t"}, {"data", 1}, {"idempotency_key", key},
                                     {"id", ++id}});
        ASSERT_TRUE(r) << key.dump();
        EXPECT_EQ((*r)["type"], "error") << key.dump();
        EXPECT_EQ((*r)["code"], "invalid_idempotency_key") << key.dump();
    }
    // The connection goes on, and the longest key is a key.
    auto const good = ws->ask(ioc, {{"type", "publish"}, {"topic", "t"}, {"data", 2}, {"idempotency_key", longest},
                                    {"id", "good"}});
    ASSERT_TRUE(good);
    EXPECT_EQ((*good)["type"], "ack");
    auto const ok = post(ioc, n.url("/publish?topic=t"), "2", {"Idempotency-Key: " + longest});
    EXPECT_EQ(ok.status, 200) << ok.output;
    EXPECT_EQ(json::parse(ok.body)["offset"], (*good)["offset"]);

    auto const got = settled_messages(ioc, *watcher, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]["data"], 2);
}

}  // namespace
}  // namespace switchboard::test
