// Payloads reach every subscriber byte for byte (docs/guarantees.md): JSON text that nlohmann would write
// differently (numbers past 2^64, -0, 1.10, 1e2, escapes, raw UTF-8, key order, whitespace with tabs and line
// feeds, nested arrays, top-level scalars), published with POST /publish, the WebSocket publish command and
// server::publish_text, arrives unchanged on WebSocket, SSE and long polling, live and resumed from history, on
// one node and across two nodes sharing a real redis-server (binary payloads and POST /publish also a real
// nats-server). Every check compares raw bytes: the envelope a
// client receives must be exactly {"type":"message","topic":T,"offset":N,"data":<the bytes sent>}. Then what
// cannot be carried verbatim is refused with a clear invalid_json on every publishing path.

#include "support/base64_reference.hpp"
#include "support/http_client.hpp"
#include "support/nats_process.hpp"
#include "support/redis_process.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/sse_parser.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>
#include <switchboard/memory_backplane.hpp>
#include <switchboard/nats_backplane.hpp>
#include <switchboard/redis_backplane.hpp>
#include <switchboard/switchboard.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// JSON texts that a parse and a dump would change. None starts or ends with whitespace: the WebSocket command
// carries a value without the whitespace around it (POST /publish keeps it: see surrounding_whitespace below).
std::vector<std::string> const& payloads()
{
    static std::vector<std::string> const all = {
        R"({"b":1.10,"a":1e2,"big":12345678901234567890123})",
        R"([-0,1.10,1e2,1E+2,0.1e-7,-0.0,12345678901234567890123,18446744073709551616,-9223372036854775809,1.5E-300])",
        R"("\u0000 \" \\ \/ \b\f\n\r\t \ud83d\ude00 \u00E9\u00e9 \u2028")",
        "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC \xE2\x80\xA8\"",
        "{ \"z\" : 1 ,\t\"a\" :[ ] , \"m\":{\"y\":null,\"x\":true}\t}",
        // Line feeds, an empty line and lines that start with spaces: SSE sends them as several data: lines.
        "{\n  \"lines\": [\n    1,\n\n    2\n  ],\n\t\"tab\": \"a\"\n}",
        "[[[[1],[2,[3]]]],[],{},[{}]]",
        // Members named "data" (one spelled with an escape) inside the payload are not the command's "data".
        R"({"data":{"data":"x"},"d\u0061ta":"\"data\":5","k":"}]"})",
        "42",
        "-0",
        "1.0",
        R"("just a string")",
        R"("")",
        "null",
        "true",
        "{}",
    };
    return all;
}

std::string envelope(std::string const& topic, std::uint64_t offset, std::string const& data)
{
    return R"({"type":"message","topic":")" + topic + R"(","offset":)" + std::to_string(offset) + R"(,"data":)" +
           data + "}";
}

// The envelopes of payloads() published in order to a new topic.
std::vector<std::string> expected_envelopes(std::string const& topic)
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < payloads().size(); ++i)
        out.push_back(envelope(topic, i + 1, payloads()[i]));
    return out;
}

// For failure messages: a received value may hold text that is not UTF-8.
std::string shown(json const& j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_envelope(std::string const& text)
{
    return text.starts_with(R"({"type":"message",)");
}

// The envelopes among a WebSocket client's frames, byte for byte.
std::vector<std::string> envelopes(ws_client const& ws)
{
    std::vector<std::string> out;
    for (auto const& text : ws.texts())
        if (is_envelope(text))
            out.push_back(text);
    return out;
}

// The data of an SSE client's message events: what EventSource hands to onmessage (data lines joined by "\n").
std::vector<std::string> envelopes(sse_client const& sse)
{
    std::vector<std::string> out;
    for (auto const& e : sse.events())
        if (e.type == "message")
            out.push_back(e.data);
    return out;
}

// The envelopes of a poll answer {"messages":[E1,E2...],"cursor":"C"...}, cut out of its bytes without parsing:
// what lies between the opening and the last "],"cursor":" (a cursor never holds that text; a payload may).
std::string poll_envelopes(std::string const& body)
{
    std::string_view const head = R"({"messages":[)";
    auto const tail = body.rfind(R"(],"cursor":")");
    if (!body.starts_with(head) || tail == std::string::npos)
        return "not a poll answer: " + body;
    return body.substr(head.size(), tail - head.size());
}

std::string joined(std::vector<std::string> const& envelopes)
{
    std::string out;
    for (auto const& e : envelopes)
        out += (out.empty() ? "" : ",") + e;
    return out;
}

enum class broker { none, redis, nats };

// One node on the memory backplane, or two nodes on one real redis-server or nats-server: clients publish on the
// first node and subscribe on the last, so with a broker every message crosses nodes.
class cluster {
public:
    explicit cluster(broker b, server_options options = {})
    {
        options.address = "127.0.0.1";
        options.port = 0;
        options.poll_hold = 500ms;  // a poll loop told to stop ends soon
        if (b == broker::none)
            servers_.push_back(std::make_unique<server>(ioc, options));
        if (b == broker::redis)
            redis_.emplace();
        if (b == broker::nats)
            nats_.emplace();
        for (int i = 0; b != broker::none && i < 2; ++i) {
            std::unique_ptr<backplane> shared;
            if (b == broker::redis) {
                redis_options r;
                r.url = redis_->url();
                shared = std::make_unique<redis_backplane>(ioc.get_executor(), r, options.history);
            } else {
                nats_options n;
                n.url = nats_->url();
                shared = std::make_unique<nats_backplane>(ioc.get_executor(), n, options.history);
            }
            servers_.push_back(std::make_unique<server>(ioc, options, std::move(shared)));
        }
        for (auto& s : servers_)
            s->start();
        EXPECT_TRUE(run_until(ioc, [&] {
            for (auto& s : servers_)
                if (!s->backplane().connected())
                    return false;
            return true;
        }, 20s)) << "the backplane did not connect";
    }

    ~cluster()
    {
        // Stop gracefully and let the loop run dry: only then is no handler left that points into a server.
        for (auto& s : servers_)
            s->stop();
        ioc.restart();
        auto const deadline = std::chrono::steady_clock::now() + 20s;
        while (!ioc.stopped() && std::chrono::steady_clock::now() < deadline)
            ioc.run_one_for(100ms);
        EXPECT_TRUE(ioc.stopped()) << "the servers did not stop within 20 s";
        servers_.clear();
    }

    server& publisher() { return *servers_.front(); }
    std::uint16_t publisher_port() { return servers_.front()->local_endpoint().port(); }
    std::uint16_t subscriber_port() { return servers_.back()->local_endpoint().port(); }

    boost::asio::io_context ioc{1};

private:
    std::optional<redis_process> redis_;
    std::optional<nats_process> nats_;
    std::vector<std::unique_ptr<server>> servers_;
};

// A long-polling loop from the topic's first message ("0..T"), that keeps every answer's bytes; they are parsed
// only for the cursor and the number of messages. The request in flight keeps it alive.
class raw_poller : public std::enable_shared_from_this<raw_poller> {
public:
    static std::shared_ptr<raw_poller> start(boost::asio::io_context& ioc, std::uint16_t port, std::string topic)
    {
        auto p = std::shared_ptr<raw_poller>(new raw_poller(ioc, port, std::move(topic)));
        p->poll();
        return p;
    }

    // The envelopes of every answer so far, joined by ",": the messages in order, each byte for byte.
    std::string const& received() const { return received_; }
    std::size_t message_count() const { return message_count_; }
    std::optional<http_result> const& failure() const { return failure_; }
    // Ends the loop once the request in flight is answered.
    void stop() { stopped_ = true; }
    bool idle() const { return !in_flight_; }

private:
    raw_poller(boost::asio::io_context& ioc, std::uint16_t port, std::string topic)
        : ioc_(ioc), port_(port), topic_(std::move(topic)), cursor_("0.." + topic_)
    {
    }

    void poll()
    {
        in_flight_ = true;
        request(ioc_, port_, "GET", "/poll?topic=" + topic_ + "&cursor=" + cursor_, {}, {},
                [self = shared_from_this()](http_result r) {
                    self->in_flight_ = false;
                    if (r.status != 200) {
                        self->failure_ = std::move(r);
                        return;
                    }
                    auto const answer = r.json();
                    self->cursor_ = answer["cursor"].get<std::string>();
                    self->message_count_ += answer["messages"].size();
                    auto const part = poll_envelopes(r.body);
                    if (!part.empty())
                        self->received_ += (self->received_.empty() ? "" : ",") + part;
                    if (!self->stopped_)
                        self->poll();
                });
    }

    boost::asio::io_context& ioc_;
    std::uint16_t port_;
    std::string topic_;
    std::string cursor_;
    std::string received_;
    std::optional<http_result> failure_;
    std::size_t message_count_ = 0;
    bool in_flight_ = false;
    bool stopped_ = false;
};

enum class path { http, websocket, cpp };

struct payload_case {
    broker on;
    path via;
};

std::string where(broker b)
{
    return b == broker::redis ? "_two_nodes_on_redis" : b == broker::nats ? "_two_nodes_on_nats" : "_one_node";
}

std::string case_name(payload_case const& c)
{
    std::string const via[] = {"post_publish", "websocket_command", "cpp_publish_text"};
    return via[static_cast<int>(c.via)] + where(c.on);
}

void PrintTo(payload_case const& c, std::ostream* os)
{
    *os << case_name(c);
}

// The WebSocket publish command for `data`, in one of several spellings: any member order, whitespace (a raw CR
// too, outside the data) around the value, "data" spelled with an escape, decoys holding "data" elsewhere.
std::string publish_command(std::string const& topic, std::string const& data, std::size_t id)
{
    auto const i = std::to_string(id);
    switch (id % 4) {
    case 0: return R"({"type":"publish","topic":")" + topic + R"(","id":)" + i + R"(,"data":)" + data + "}";
    case 1:
        return "{ \"data\" :\n\t " + data + " \r\n, \"datum\":1, \"id\":" + i + ",\"topic\":\"" + topic +
               "\",\"type\":\"publish\" }";
    case 2:
        return R"({"id":)" + i + R"(,"type":"publish","x":{"data":[1]},"s":"\"data\":5","topic":")" + topic +
               R"(","data":)" + data + "}";
    default: return R"({"type":"publish","d\u0061ta":)" + data + R"(,"topic":")" + topic + R"(","id":)" + i + "}";
    }
}

class payload_delivery : public ::testing::TestWithParam<payload_case> {};

TEST_P(payload_delivery, reaches_every_transport_byte_for_byte_live_and_resumed)
{
    cluster nodes(GetParam().on);
    auto& ioc = nodes.ioc;
    std::string const topic = "verbatim";
    auto const expected = expected_envelopes(topic);

    // Live subscribers on the last node, one per transport.
    auto ws = ws_client::create(ioc);
    ws->connect(nodes.subscriber_port());
    ws->send_json({{"type", "subscribe"}, {"topic", topic}, {"id", "sub"}});
    auto sse = sse_client::create(ioc);
    sse->connect(nodes.subscriber_port(), "/sse?topic=" + topic);
    auto const ack = ws->wait_reply(ioc, "sub");
    ASSERT_TRUE(ack);
    ASSERT_TRUE(run_until(ioc, [&] { return sse->find_event("subscribed").has_value(); }, 10s));
    auto poll = raw_poller::start(ioc, nodes.subscriber_port(), topic);

    // Publish each payload on the first node, acknowledged before the next, so the offsets are 1, 2, 3...
    auto publisher = ws_client::create(ioc);
    publisher->connect(nodes.publisher_port());
    for (std::size_t i = 0; i < payloads().size(); ++i) {
        auto const& data = payloads()[i];
        switch (GetParam().via) {
        case path::http: {
            auto const res = fetch(ioc, nodes.publisher_port(), "POST", "/publish?topic=" + topic, data);
            ASSERT_EQ(res.status, 200) << data << ": " << res.body;
            ASSERT_EQ(res.json()["offset"], i + 1);
            break;
        }
        case path::websocket: {
            publisher->send_text(publish_command(topic, data, i));
            auto const reply = publisher->wait_reply(ioc, i);
            ASSERT_TRUE(reply) << data;
            ASSERT_EQ((*reply)["type"], "ack") << data << ": " << shown(*reply);
            ASSERT_EQ((*reply)["offset"], i + 1);
            break;
        }
        case path::cpp: {
            std::optional<boost::system::error_code> done;
            position where;
            nodes.publisher().publish_text(topic, data, [&](boost::system::error_code ec, position p) {
                done = ec;
                where = p;
            });
            ASSERT_TRUE(run_until(ioc, [&] { return done.has_value(); }, 10s));
            ASSERT_FALSE(*done) << data << ": " << done->message();
            ASSERT_EQ(where.offset, i + 1);
            break;
        }
        }
    }

    auto const n = expected.size();
    ASSERT_TRUE(run_until(ioc, [&] {
        return envelopes(*ws).size() >= n && sse->message_count() >= n && poll->message_count() >= n;
    }, 20s)) << envelopes(*ws).size() << " " << sse->message_count() << " " << poll->message_count();
    poll->stop();
    EXPECT_EQ(envelopes(*ws), expected);
    EXPECT_EQ(envelopes(*sse), expected);
    EXPECT_EQ(poll->received(), joined(expected));

    // Resumed from history: the same bytes, on the publishing node and on the other one.
    for (auto port : {nodes.publisher_port(), nodes.subscriber_port()}) {
        auto again = ws_client::create(ioc);
        again->connect(port);
        again->send_json({{"type", "subscribe"}, {"topic", topic}, {"id", "again"},
                          {"since", {{"offset", 0}, {"epoch", (*ack)["epoch"]}}}});
        auto resumed_sse = sse_client::create(ioc);
        resumed_sse->connect(port, "/sse?topic=" + topic + "&since=0.." + topic);
        auto const answer = fetch(ioc, port, "GET", "/poll?topic=" + topic + "&cursor=0.." + topic);
        ASSERT_TRUE(run_until(ioc, [&] { return envelopes(*again).size() >= n && resumed_sse->message_count() >= n; },
                              20s));
        EXPECT_EQ(envelopes(*again), expected) << "port " << port;
        EXPECT_EQ(envelopes(*resumed_sse), expected) << "port " << port;
        EXPECT_EQ(answer.status, 200);
        EXPECT_EQ(poll_envelopes(answer.body), joined(expected)) << "port " << port;
        again->close();
        resumed_sse->close();
    }
    ASSERT_TRUE(run_until(ioc, [&] { return poll->idle(); }, 10s));
    ws->close();
    sse->close();
    publisher->close();
}

INSTANTIATE_TEST_SUITE_P(, payload_delivery,
                         ::testing::Values(payload_case{broker::none, path::http}, payload_case{broker::none, path::websocket},
                                           payload_case{broker::none, path::cpp}, payload_case{broker::redis, path::http},
                                           payload_case{broker::redis, path::websocket}, payload_case{broker::redis, path::cpp},
                                           payload_case{broker::nats, path::http}),
                         [](auto const& info) { return case_name(info.param); });


// ---- binary payloads ----------------------------------------------------------------------------------------

// Bytes no JSON could carry: NUL, every byte value, line feeds and CRs, invalid UTF-8, and lengths of every
// remainder modulo 3 (base64's padding), the empty payload too.
std::vector<std::string> const& binary_payloads()
{
    static std::vector<std::string> const all = [] {
        std::vector<std::string> out = {std::string(1, '\0'), "", "\n\r\n\n", "\xff\xfe\xc3", "ab", "abc", "abcd"};
        std::string every;
        for (int b = 0; b < 256; ++b)
            every += static_cast<char>(b);
        out.push_back(every);
        std::string big;
        std::uint32_t x = 12345;
        for (int i = 0; i < 10'000; ++i) {
            x = x * 1103515245 + 12345;
            big += static_cast<char>(x >> 24);
        }
        out.push_back(big);
        return out;
    }();
    return all;
}

// What SSE and long polling carry: the envelope with the bytes in base64.
std::vector<std::string> expected_binary_envelopes(std::string const& topic)
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < binary_payloads().size(); ++i)
        out.push_back(R"({"type":"message","topic":")" + topic + R"(","offset":)" + std::to_string(i + 1) +
                      R"(,"encoding":"base64","data":")" + openssl_base64(binary_payloads()[i]) + "\"}");
    return out;
}

// What a WebSocket carries: a binary frame, the envelope without data, a line feed, the bytes themselves.
std::vector<std::string> expected_binary_frames(std::string const& topic)
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < binary_payloads().size(); ++i)
        out.push_back(R"({"type":"message","topic":")" + topic + R"(","offset":)" + std::to_string(i + 1) + "}\n" +
                      binary_payloads()[i]);
    return out;
}

std::string binary_case_name(payload_case const& c)
{
    std::string const via[] = {"post_octet_stream", "websocket_binary_frame", "cpp_publish_binary"};
    return via[static_cast<int>(c.via)] + where(c.on);
}

class binary_delivery : public ::testing::TestWithParam<payload_case> {};

TEST_P(binary_delivery, reaches_websocket_as_bytes_and_sse_and_polls_as_base64_live_and_resumed)
{
    cluster nodes(GetParam().on);
    auto& ioc = nodes.ioc;
    std::string const topic = "bytes";
    auto const frames = expected_binary_frames(topic);
    auto const expected = expected_binary_envelopes(topic);

    auto ws = ws_client::create(ioc);
    ws->connect(nodes.subscriber_port());
    auto const ack = ws->subscribe(ioc, topic, "sub");
    ASSERT_TRUE(ack);
    auto sse = sse_client::create(ioc);
    sse->connect(nodes.subscriber_port(), "/sse?topic=" + topic);
    ASSERT_TRUE(run_until(ioc, [&] { return sse->find_event("subscribed").has_value(); }, 10s));
    auto poll = raw_poller::start(ioc, nodes.subscriber_port(), topic);

    auto publisher = ws_client::create(ioc);
    publisher->connect(nodes.publisher_port());
    for (std::size_t i = 0; i < binary_payloads().size(); ++i) {
        auto const& bytes = binary_payloads()[i];
        switch (GetParam().via) {
        case path::http: {
            auto const res = fetch(ioc, nodes.publisher_port(), "POST", "/publish?topic=" + topic, bytes,
                                   {{"Content-Type", "application/octet-stream"}});
            ASSERT_EQ(res.status, 200) << i << ": " << res.body;
            ASSERT_EQ(res.json()["offset"], i + 1);
            break;
        }
        case path::websocket: {
            publisher->send_binary(R"({"type":"publish","topic":")" + topic + R"(","id":)" + std::to_string(i) +
                                   "}\n" + bytes);
            auto const reply = publisher->wait_reply(ioc, i);
            ASSERT_TRUE(reply) << i;
            ASSERT_EQ((*reply)["type"], "ack") << i << ": " << shown(*reply);
            ASSERT_EQ((*reply)["offset"], i + 1);
            break;
        }
        case path::cpp: {
            std::optional<boost::system::error_code> done;
            nodes.publisher().publish_binary(topic, bytes, [&](boost::system::error_code ec, position) { done = ec; });
            ASSERT_TRUE(run_until(ioc, [&] { return done.has_value(); }, 10s));
            ASSERT_FALSE(*done) << i << ": " << done->message();
            break;
        }
        }
    }

    auto const n = expected.size();
    ASSERT_TRUE(run_until(ioc, [&] {
        return ws->binaries().size() >= n && sse->message_count() >= n && poll->message_count() >= n;
    }, 20s)) << ws->binaries().size() << " " << sse->message_count() << " " << poll->message_count();
    poll->stop();
    EXPECT_EQ(ws->binaries(), frames);
    EXPECT_TRUE(envelopes(*ws).empty()) << "a binary payload never comes as a text frame";
    EXPECT_EQ(envelopes(*sse), expected);
    EXPECT_EQ(poll->received(), joined(expected));

    // From history, on both nodes: the same.
    for (auto port : {nodes.publisher_port(), nodes.subscriber_port()}) {
        auto again = ws_client::create(ioc);
        again->connect(port);
        again->send_json({{"type", "subscribe"}, {"topic", topic}, {"id", "again"},
                          {"since", {{"offset", 0}, {"epoch", (*ack)["epoch"]}}}});
        auto const answer = fetch(ioc, port, "GET", "/poll?topic=" + topic + "&cursor=0.." + topic);
        ASSERT_TRUE(run_until(ioc, [&] { return again->binaries().size() >= n; }, 20s));
        EXPECT_EQ(again->binaries(), frames) << "port " << port;
        EXPECT_EQ(poll_envelopes(answer.body), joined(expected)) << "port " << port;
        again->close();
    }
    ASSERT_TRUE(run_until(ioc, [&] { return poll->idle(); }, 10s));
    ws->close();
    sse->close();
    publisher->close();
}

INSTANTIATE_TEST_SUITE_P(, binary_delivery,
                         ::testing::Values(payload_case{broker::none, path::http}, payload_case{broker::none, path::websocket},
                                           payload_case{broker::none, path::cpp}, payload_case{broker::redis, path::websocket},
                                           payload_case{broker::nats, path::websocket}),
                         [](auto const& info) { return binary_case_name(info.param); });

TEST(payload, binary_frames_that_are_not_a_publish_get_a_clear_error)
{
    server_options options;
    options.max_message_size = 1024;
    cluster nodes(broker::none, options);
    auto ws = ws_client::create(nodes.ioc);
    ws->connect(nodes.subscriber_port());
    ASSERT_TRUE(ws->wait_open(nodes.ioc));
    struct refusal {
        std::string frame;
        std::string code;
        std::string because;
    };
    std::vector<refusal> const refusals = {
        {"\x01\x02", "invalid_json", "line feed"},
        {R"({"type":"subscribe","topic":"t","id":1})" "\n", "invalid_json", "publish command only"},
        {R"({"type":"publish","topic":"t","id":2,"data":1})" "\nxyz", "invalid_json", "no \"data\""},
        {R"({"type":"publish","topic":"bad topic","id":3})" "\nxyz", "invalid_topic", ""},
        {R"({"type":"publish","topic":"t","id":4})" "\n" + std::string(1024, 'x'), "message_too_large", ""},
    };
    for (auto const& r : refusals) {
        auto const before = ws->received().size();
        ws->send_binary(r.frame);
        ASSERT_TRUE(ws->wait_received(nodes.ioc, before + 1)) << r.frame.substr(0, 60);
        auto const& reply = ws->received()[before];
        EXPECT_EQ(reply.value("type", ""), "error") << shown(reply);
        EXPECT_EQ(reply.value("code", ""), r.code) << shown(reply);
        EXPECT_NE(reply.value("message", "").find(r.because), std::string::npos) << shown(reply);
    }
    // The connection is still up and publishes bytes.
    ws->send_binary(R"({"type":"publish","topic":"t","id":9})" "\n\x00\x01");
    auto const ok = ws->wait_reply(nodes.ioc, 9);
    ASSERT_TRUE(ok);
    EXPECT_EQ((*ok)["type"], "ack") << shown(*ok);
    // POST /publish counts the bytes against the limit, not their base64.
    EXPECT_EQ(fetch(nodes.ioc, nodes.publisher_port(), "POST", "/publish?topic=t", std::string(1024, 'x'),
                    {{"Content-Type", "application/octet-stream"}}).status, 200);
    EXPECT_EQ(fetch(nodes.ioc, nodes.publisher_port(), "POST", "/publish?topic=t", std::string(1025, 'x'),
                    {{"Content-Type", "Application/Octet-Stream; x=1"}}).status, 413);
}

// POST /publish keeps the whole body, the whitespace around the value too.
TEST(payload, post_publish_keeps_the_whitespace_around_the_value)
{
    cluster nodes(broker::none);
    auto ws = ws_client::create(nodes.ioc);
    ws->connect(nodes.subscriber_port());
    ASSERT_TRUE(ws->subscribe(nodes.ioc, "ws", "sub"));
    auto sse = sse_client::create(nodes.ioc);
    sse->connect(nodes.subscriber_port(), "/sse?topic=ws");
    ASSERT_TRUE(run_until(nodes.ioc, [&] { return sse->find_event("subscribed").has_value(); }, 10s));
    std::string const body = " \t{\"a\":1}\n";
    ASSERT_EQ(fetch(nodes.ioc, nodes.publisher_port(), "POST", "/publish?topic=ws", body).status, 200);
    ASSERT_TRUE(run_until(nodes.ioc, [&] { return envelopes(*ws).size() == 1 && sse->message_count() == 1; }, 10s));
    EXPECT_EQ(envelopes(*ws)[0], envelope("ws", 1, body));
    EXPECT_EQ(envelopes(*sse)[0], envelope("ws", 1, body));
    ws->close();
    sse->close();
}

// ---- third-party receivers and publishers ------------------------------------------------------------------

// curl's output: the bytes on the wire.
std::string sse_wire_bytes(std::string const& envelope)
{
    std::string out = "data: ";
    for (char c : envelope)
        out += c == '\n' ? std::string("\ndata: ") : std::string(1, c);
    return out + "\n\n";
}

TEST(payload, curl_receives_sse_and_poll_answers_byte_for_byte)
{
    cluster nodes(broker::none);
    auto const port = std::to_string(nodes.subscriber_port());
    std::string const topic = "curl";
    auto const expected = expected_envelopes(topic);

    server_process sse("curl", {"-sN", "--max-time", "60", "http://127.0.0.1:" + port + "/sse?topic=" + topic});
    ASSERT_TRUE(run_until(nodes.ioc, [&] { return sse.output().find("event: subscribed") != std::string::npos; }, 20s))
        << sse.output();
    for (auto const& data : payloads())
        ASSERT_EQ(fetch(nodes.ioc, nodes.publisher_port(), "POST", "/publish?topic=" + topic, data).status, 200) << data;
    ASSERT_TRUE(run_until(nodes.ioc, [&] {
        return sse.output().find(sse_wire_bytes(expected.back())) != std::string::npos;
    }, 20s)) << sse.output();
    // Each event's data lines, in order, exactly as the server wrote them.
    std::size_t at = 0;
    for (auto const& e : expected) {
        auto const found = sse.output().find(sse_wire_bytes(e), at);
        ASSERT_NE(found, std::string::npos) << "missing or out of order: " << e << "\nin: " << sse.output();
        at = found;
    }
    // And what an EventSource makes of them.
    std::vector<std::string> data;
    sse_parser parser([&](sse_event e) {
        if (e.type == "message")
            data.push_back(std::move(e.data));
    });
    parser.feed(sse.output());
    EXPECT_EQ(data, expected);

    server_process poll("curl", {"-s", "--max-time", "30",
                                 "http://127.0.0.1:" + port + "/poll?topic=" + topic + "&cursor=0.." + topic});
    ASSERT_TRUE(run_until(nodes.ioc, [&] { return poll.exit_status().has_value(); }, 40s));
    EXPECT_EQ(*poll.exit_status(), 0);
    EXPECT_EQ(poll_envelopes(poll.output()), joined(expected));
}

std::string hex(std::string_view bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// Python's websockets publishes every payload with the publish command and receives them back: the frames it
// reads hold exactly the bytes it sent.
TEST(payload, python_websockets_publishes_and_receives_byte_for_byte)
{
    cluster nodes(broker::none);
    std::string const topic = "py";
    // Payloads and frames cross the process boundary in hex, so no byte is reinterpreted on the way.
    std::string const script = R"(
import asyncio, sys, websockets

async def main():
    port, topic, payloads = sys.argv[1], sys.argv[2], [bytes.fromhex(h).decode() for h in sys.argv[3:]]
    async with websockets.connect('ws://127.0.0.1:' + port + '/ws') as ws:
        await ws.send('{"type":"subscribe","topic":"' + topic + '","id":"sub"}')
        await ws.recv()
        for i, p in enumerate(payloads):
            await ws.send('{"type":"publish","topic":"' + topic + '","id":' + str(i) + ',"data":' + p + '}')
        got = 0
        while got < len(payloads):
            frame = await ws.recv()
            if frame.startswith('{"type":"message",'):
                print('frame', frame.encode().hex(), flush=True)
                got += 1

asyncio.run(asyncio.wait_for(main(), 30))
)";
    std::vector<std::string> args{"-c", script, std::to_string(nodes.subscriber_port()), topic};
    for (auto const& data : payloads())
        args.push_back(hex(data));
    // Debian's python3-websockets is for /usr/bin/python3, not another python3 earlier on the PATH.
    server_process python("/usr/bin/python3", args);
    ASSERT_TRUE(run_until(nodes.ioc, [&] { return python.exit_status().has_value(); }, 40s)) << python.output();
    ASSERT_EQ(*python.exit_status(), 0) << python.output();
    std::string frames;
    for (auto const& e : expected_envelopes(topic))
        frames += "frame " + hex(e) + "\n";
    EXPECT_EQ(python.output(), frames);
}

// ---- what cannot be carried verbatim is refused -------------------------------------------------------------

struct refusal {
    std::string data;
    std::string because;  // a word the error message must hold
};

std::vector<refusal> const& refusals()
{
    static std::vector<refusal> const all = {
        {"\xEF\xBB\xBF{}", "byte order mark"},
        {"{\"a\":\r1}", "carriage return"},
        {"[1,\r\n2]", "carriage return"},
        {"\"\xFF\"", "UTF-8"},
        {"\"caf\xC3\"", "UTF-8"},
        {"\"\xED\xA0\x80\"", "UTF-8"},  // an encoded surrogate
        {std::string(65, '[') + std::string(65, ']'), "deeper than 64"},
        {"{oops", "not valid JSON"},
        {"", "not valid JSON"},
        {"{} {}", "not valid JSON"},
        {R"("\ud800")", "not valid JSON"},
        {"[1,]", "not valid JSON"},
        {"\"a\x01\"", "not valid JSON"},
        {"1e400", "not valid JSON"},  // past the range of a double: nlohmann refuses it, and so do we
    };
    return all;
}

TEST(payload, post_publish_refuses_what_cannot_be_carried_verbatim)
{
    cluster nodes(broker::none);
    for (auto const& r : refusals()) {
        auto const res = fetch(nodes.ioc, nodes.publisher_port(), "POST", "/publish?topic=t", r.data);
        EXPECT_EQ(res.status, 400) << ::testing::PrintToString(r.data);
        auto const error = res.json().value("error", json::object());
        EXPECT_EQ(error.value("code", ""), "invalid_json") << ::testing::PrintToString(r.data) << res.body;
        EXPECT_NE(error.value("message", "").find(r.because), std::string::npos)
            << ::testing::PrintToString(r.data) << ": " << res.body;
    }
    // Nothing reached history.
    auto const poll = fetch(nodes.ioc, nodes.publisher_port(), "GET", "/poll?topic=t&cursor=0..t");
    EXPECT_EQ(poll_envelopes(poll.body), "");
}

TEST(payload, the_websocket_publish_command_refuses_what_cannot_be_carried_verbatim)
{
    cluster nodes(broker::none);
    auto ws = ws_client::create(nodes.ioc);
    ws->connect(nodes.publisher_port());
    std::size_t id = 0;
    // Each command gets one answer (an ack or an error, with the id only when the command could be read).
    auto const answer = [&](std::string const& command) {
        auto const before = ws->received().size();
        ws->send_text(command);
        EXPECT_TRUE(ws->wait_received(nodes.ioc, before + 1)) << ::testing::PrintToString(command);
        return ws->received().size() > before ? ws->received()[before] : json::object();
    };
    for (auto const& r : refusals()) {
        // Bytes that are not UTF-8 end the connection (below); inside a command, a BOM, a second value or no
        // value at all make the command itself invalid JSON (below).
        if (r.because == "UTF-8" || r.because == "byte order mark" || r.data == "{} {}" || r.data.empty())
            continue;
        ++id;
        auto const reply = answer(R"({"type":"publish","topic":"t","id":)" + std::to_string(id) + R"(,"data":)" +
                                  r.data + "}");
        EXPECT_EQ(reply["code"], "invalid_json") << ::testing::PrintToString(r.data) << shown(reply);
        EXPECT_NE(reply.value("message", "").find(r.because), std::string::npos)
            << ::testing::PrintToString(r.data) << ": " << shown(reply);
    }
    for (std::string data : {"\xEF\xBB\xBF{}", "{} {}", ""}) {
        ++id;
        auto const reply = answer(R"({"type":"publish","topic":"t","id":)" + std::to_string(id) + R"(,"data":)" +
                                  data + "}");
        EXPECT_EQ(reply["code"], "invalid_json") << ::testing::PrintToString(data) << shown(reply);
    }
    // The command's own levels count: the data may nest 63 deep, not 64.
    ++id;
    EXPECT_EQ(answer(R"({"type":"publish","topic":"t","id":)" + std::to_string(id) + R"(,"data":)" +
                     std::string(64, '[') + std::string(64, ']') + "}")["code"],
              "invalid_json");
    // A raw CR around the command's members is only whitespace: allowed.
    ++id;
    EXPECT_EQ(answer("{\"type\":\"publish\",\r\n\"topic\":\"t\",\"id\":" + std::to_string(id) + ",\"data\":1\r\n}")["type"],
              "ack");
    // Two "data" members (one may be spelled with an escape): which one would be meant is refused, not guessed.
    ++id;
    auto const twice = answer(R"({"type":"publish","topic":"t","id":)" + std::to_string(id) +
                              R"(,"data":1,"d\u0061ta":2})");
    EXPECT_EQ(twice["code"], "invalid_json") << shown(twice);
    EXPECT_NE(twice.value("message", "").find("more than once"), std::string::npos) << shown(twice);
    ++id;
    EXPECT_EQ(answer(R"({"type":"publish","topic":"t","id":)" + std::to_string(id) + "}")["code"], "missing_field");
    // The connection is still up, and only the allowed publish reached history.
    auto const poll = fetch(nodes.ioc, nodes.publisher_port(), "GET", "/poll?topic=t&cursor=0..t");
    EXPECT_EQ(poll_envelopes(poll.body), envelope("t", 1, "1"));
    EXPECT_TRUE(ws->is_open());

    // Bytes that are not UTF-8 in a text frame end the connection (1007) before any command is read.
    ws->send_text("{\"type\":\"publish\",\"topic\":\"t\",\"data\":\"\xFF\"}");
    ASSERT_TRUE(ws->wait_closed(nodes.ioc));
    EXPECT_EQ(ws->close_code(), 1007);
}

TEST(payload, publish_text_refuses_what_cannot_be_carried_verbatim)
{
    server_options options;
    options.max_message_size = 1024;
    cluster nodes(broker::none, options);
    auto const publish = [&](std::string text) {
        std::optional<boost::system::error_code> done;
        nodes.publisher().publish_text("t", std::move(text), [&](boost::system::error_code ec, position) { done = ec; });
        EXPECT_TRUE(run_until(nodes.ioc, [&] { return done.has_value(); }, 10s));
        return done.value_or(error::internal_error);
    };
    for (auto const& r : refusals())
        EXPECT_EQ(publish(r.data), error::invalid_json) << ::testing::PrintToString(r.data);
    EXPECT_EQ(publish('"' + std::string(1024, 'x') + '"'), error::message_too_large);
    EXPECT_FALSE(publish('"' + std::string(1022, 'x') + '"'));
}

}  // namespace
}  // namespace switchboard::test
