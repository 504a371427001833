// C++ listeners (server::subscribe): a message a WebSocket client or curl publishes reaches a listener in the
// server's process byte for byte, with its position; a resume replays history with the answer a client gets;
// a listener on one node hears what is published on another over Redis; the handle ends it, the server's stop
// and a throwing handler end it with a reason; a server that owns its loop takes a backplane from a factory.

#include "support/live_server.hpp"
#include "support/redis_process.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>
#include <switchboard/memory_backplane.hpp>
#include <switchboard/redis_backplane.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace asio = boost::asio;

// What a listener heard: its subscribe answer, its messages, how it ended.
struct heard {
    std::optional<boost::system::error_code> subscribed;
    subscribe_result result;
    std::vector<message_ptr> messages;
    std::optional<disconnect> closed;

    server::message_handler on_message()
    {
        return [this](message_ptr const& m) { messages.push_back(m); };
    }
    subscribe_options options(std::optional<position> since = std::nullopt)
    {
        subscribe_options o;
        o.since = std::move(since);
        o.on_subscribed = [this](boost::system::error_code ec, subscribe_result const& r) {
            subscribed = ec;
            result = r;
        };
        o.on_closed = [this](disconnect const& d) { closed = d; };
        return o;
    }
    std::vector<std::uint64_t> offsets() const
    {
        std::vector<std::uint64_t> out;
        for (auto const& m : messages)
            out.push_back(m->offset());
        return out;
    }
};

position publish_text(live_server& srv, std::string const& topic, std::string const& text)
{
    std::optional<boost::system::error_code> done;
    position where;
    (*srv).publish_text(topic, text, [&](boost::system::error_code ec, position p) {
        done = ec;
        where = std::move(p);
    });
    EXPECT_TRUE(srv.run_until([&] { return done.has_value(); }));
    EXPECT_FALSE(done.value_or(error::internal_error));
    return where;
}

TEST(listener, hears_a_websocket_clients_message_byte_for_byte_with_its_position)
{
    live_server srv;
    srv.start();
    heard h;
    auto sub = (*srv).subscribe("room", h.on_message(), h.options());
    EXPECT_FALSE(h.subscribed) << "made on a later turn, never inside subscribe()";
    ASSERT_TRUE(srv.run_until([&] { return h.subscribed.has_value(); }));
    ASSERT_FALSE(*h.subscribed);
    EXPECT_EQ(h.result.latest.offset, 0u);
    EXPECT_EQ((*srv).hub().subscriber_count("room"), 1u);
    EXPECT_EQ((*srv).stats().listeners, 1u);

    // Spacing and number spelling a re-serializer would change.
    std::string const data = R"({"text": "hi",  "n": 1.50, "list":[ 1,2 ]})";
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_text(R"({"type":"publish","topic":"room","id":"p","data":)" + data + "}");
    auto ack = ws->wait_reply(srv.ioc, "p");
    ASSERT_TRUE(ack);
    ASSERT_TRUE(srv.run_until([&] { return h.messages.size() == 1; }));
    EXPECT_EQ(h.messages[0]->topic(), "room");
    EXPECT_EQ(std::string(h.messages[0]->data()), data);
    EXPECT_EQ(h.messages[0]->offset(), (*ack)["offset"].get<std::uint64_t>());
    EXPECT_EQ(h.messages[0]->epoch(), (*ack)["epoch"].get<std::string>());
    ws->close();
}

TEST(listener, hears_what_curl_posts)
{
    live_server srv;
    srv.start();
    heard h;
    auto sub = (*srv).subscribe("feed", h.on_message(), h.options());
    ASSERT_TRUE(srv.run_until([&] { return h.subscribed.has_value(); }));
    std::string const data = "[1,  \"two\" ,{\"3\":null}]";
    server_process curl("curl", {"--silent", "--show-error", "--max-time", "30", "-H", "Content-Type: application/json",
                                 "--data-binary", data,
                                 "http://127.0.0.1:" + std::to_string(srv.port) + "/publish?topic=feed"});
    ASSERT_TRUE(srv.run_until([&] { return curl.exit_status().has_value(); }, 30s));
    EXPECT_EQ(curl.exit_status(), 0) << curl.output();
    ASSERT_TRUE(srv.run_until([&] { return h.messages.size() == 1; }));
    EXPECT_EQ(std::string(h.messages[0]->data()), data);
    EXPECT_EQ(h.messages[0]->offset(), 1u);
}

TEST(listener, resumes_from_history_with_the_answer_a_client_gets)
{
    live_server srv;
    srv.start();
    auto const first = publish_text(srv, "t", "1");
    publish_text(srv, "t", "2");
    publish_text(srv, "t", "3");

    heard h;
    auto sub = (*srv).subscribe("t", h.on_message(), h.options(first));
    ASSERT_TRUE(srv.run_until([&] { return h.subscribed.has_value(); }));
    ASSERT_FALSE(*h.subscribed);
    EXPECT_TRUE(h.result.recovered);
    EXPECT_EQ(h.result.latest.offset, 3u);
    EXPECT_EQ(h.offsets(), (std::vector<std::uint64_t>{2, 3}));
    publish_text(srv, "t", "4");
    ASSERT_TRUE(srv.run_until([&] { return h.messages.size() == 3; }));
    EXPECT_EQ(h.offsets(), (std::vector<std::uint64_t>{2, 3, 4}));
    EXPECT_EQ(std::string(h.messages[2]->data()), "4");

    // A position from another epoch: what history holds, told it is not everything (as a client's resume).
    heard stale;
    auto other = (*srv).subscribe("t", stale.on_message(), stale.options(position{1, "another-epoch"}));
    ASSERT_TRUE(srv.run_until([&] { return stale.subscribed.has_value(); }));
    ASSERT_FALSE(*stale.subscribed);
    EXPECT_FALSE(stale.result.recovered);
    EXPECT_EQ(stale.result.latest.offset, 4u);
}

TEST(listener, an_invalid_topic_is_refused_and_the_handle_ends_it)
{
    live_server srv;
    srv.start();
    heard bad;
    auto refused = (*srv).subscribe("", bad.on_message(), bad.options());
    ASSERT_TRUE(srv.run_until([&] { return bad.subscribed.has_value(); }));
    EXPECT_EQ(*bad.subscribed, error::invalid_topic);
    EXPECT_FALSE(refused.active());
    EXPECT_EQ((*srv).stats().listeners, 0u);

    heard h;
    {
        auto sub = (*srv).subscribe("t", h.on_message(), h.options());
        ASSERT_TRUE(srv.run_until([&] { return h.subscribed.has_value(); }));
        EXPECT_TRUE(sub.active());
        publish_text(srv, "t", "1");
        ASSERT_TRUE(srv.run_until([&] { return h.messages.size() == 1; }));
    }  // the handle goes: the listener leaves
    EXPECT_EQ((*srv).hub().subscriber_count("t"), 0u);
    EXPECT_EQ((*srv).stats().listeners, 0u);
    publish_text(srv, "t", "2");
    EXPECT_EQ(h.messages.size(), 1u);
    EXPECT_FALSE(h.closed) << "on_closed is for the server's ends, not the application's";

    // Unsubscribed before it was made: nothing runs at all.
    heard early;
    auto gone = (*srv).subscribe("t", early.on_message(), early.options());
    gone.unsubscribe();
    publish_text(srv, "t", "3");
    EXPECT_FALSE(early.subscribed);
    EXPECT_TRUE(early.messages.empty());
    EXPECT_EQ((*srv).hub().subscriber_count("t"), 0u);
}

TEST(listener, a_handler_may_unsubscribe_itself_and_one_that_throws_is_closed)
{
    live_server srv;
    srv.start();
    subscription self_ending;
    std::size_t heard_once = 0;
    self_ending = (*srv).subscribe("t", [&](message_ptr const&) {
        ++heard_once;
        self_ending.unsubscribe();
    });
    heard thrower;
    auto throwing = (*srv).subscribe(
        "t", [](message_ptr const&) -> void { throw std::runtime_error("listener bug"); }, thrower.options());
    heard calm;
    auto other = (*srv).subscribe("t", calm.on_message(), calm.options());
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 3; }));

    publish_text(srv, "t", "1");
    publish_text(srv, "t", "2");
    ASSERT_TRUE(srv.run_until([&] { return calm.messages.size() == 2; }));
    EXPECT_EQ(heard_once, 1u);
    ASSERT_TRUE(thrower.closed);
    EXPECT_EQ(thrower.closed->code, disconnect::internal_error().code);
    EXPECT_FALSE(throwing.active());
    EXPECT_EQ((*srv).hub().subscriber_count("t"), 1u);
}

TEST(listener, hears_a_cpp_publish_retried_with_its_idempotency_key_once)
{
    live_server srv;
    srv.start();
    heard h;
    auto sub = (*srv).subscribe("t", h.on_message(), h.options());
    ASSERT_TRUE(srv.run_until([&] { return h.subscribed.has_value(); }));

    std::vector<std::pair<boost::system::error_code, position>> answers;
    auto const publish = [&](publish_options o) {
        (*srv).publish("t", json{{"n", 1}}, std::move(o), [&](boost::system::error_code ec, position p) {
            answers.emplace_back(ec, std::move(p));
        });
    };
    publish({"job-1"});
    publish({"job-1"});  // a retry, sent before the first is answered
    publish({"job 1"});  // a space: not a key
    ASSERT_TRUE(srv.run_until([&] { return answers.size() == 3; }));
    EXPECT_FALSE(answers[0].first);
    EXPECT_FALSE(answers[1].first);
    EXPECT_EQ(answers[1].second, answers[0].second);
    EXPECT_EQ(answers[2].first, error::invalid_idempotency_key);

    publish_text(srv, "t", "2");
    ASSERT_TRUE(srv.run_until([&] { return h.messages.size() == 2; }));
    EXPECT_EQ(h.offsets(), (std::vector<std::uint64_t>{1, 2}));
}

TEST(listener, the_servers_stop_ends_it_with_1001)
{
    heard h;
    subscription sub;
    {
        live_server srv;
        srv.start();
        sub = (*srv).subscribe("t", h.on_message(), h.options());
        ASSERT_TRUE(srv.run_until([&] { return h.subscribed.has_value(); }));
    }  // stopped and destroyed
    ASSERT_TRUE(h.closed);
    EXPECT_EQ(h.closed->code, 1001);
    EXPECT_FALSE(sub.active());
    sub.unsubscribe();  // outliving its server: does nothing
}

// Two nodes on one real redis-server, on one loop: a WebSocket client publishes on one, a listener on the
// other hears it, because its subscription made the node subscribe to the topic in Redis.
TEST(listener, hears_another_nodes_message_over_redis)
{
    redis_process redis;
    asio::io_context ioc{1};
    auto make = [&] {
        server_options o;
        o.address = "127.0.0.1";
        o.port = 0;
        redis_options r;
        r.url = redis.url();
        r.reconnect_min = 20ms;
        r.reconnect_max = 200ms;
        return std::make_unique<server>(ioc, o, std::make_unique<redis_backplane>(ioc.get_executor(), r, o.history));
    };
    auto a = make();
    auto b = make();
    a->start();
    b->start();
    ASSERT_TRUE(run_until(ioc, [&] { return a->backplane().connected() && b->backplane().connected(); }, 20s));

    heard h;
    auto sub = b->subscribe("x.node", h.on_message(), h.options());
    ASSERT_TRUE(run_until(ioc, [&] { return h.subscribed.has_value(); }, 20s));
    ASSERT_FALSE(*h.subscribed);
    auto ws = ws_client::create(ioc);
    ws->connect(a->local_endpoint().port());
    ws->send_text(R"({"type":"publish","topic":"x.node","id":"p","data":{"from" : "a"}})");
    ASSERT_TRUE(ws->wait_reply(ioc, "p"));
    ASSERT_TRUE(run_until(ioc, [&] { return h.messages.size() == 1; }, 20s));
    EXPECT_EQ(std::string(h.messages[0]->data()), R"({"from" : "a"})");
    EXPECT_EQ(h.messages[0]->offset(), 1u);

    ws->close();
    sub.unsubscribe();
    a->stop();
    b->stop();
    // Only once the loop has run dry is no handler left that points into the servers.
    ioc.restart();
    ioc.run_for(20s);
    EXPECT_TRUE(ioc.stopped());
}

// A server that owns its loop and takes its backplane from a factory, called with that loop's executor.
TEST(listener, an_owning_server_takes_its_backplane_from_a_factory)
{
    server_options o;
    o.address = "127.0.0.1";
    o.port = 0;
    std::optional<asio::any_io_executor> given;
    server srv(o, [&](asio::any_io_executor ex) {
        given = ex;
        return std::make_unique<memory_backplane>(ex, o.history);
    });
    ASSERT_TRUE(given);
    EXPECT_TRUE(*given == srv.context().get_executor());
    EXPECT_STREQ(srv.backplane().name(), "memory");
    srv.start();
    heard h;
    auto sub = srv.subscribe("t", h.on_message(), h.options());
    srv.publish_text("t", R"({"a":1})");
    ASSERT_TRUE(run_until(srv.context(), [&] { return h.messages.size() == 1; }, 20s));
    EXPECT_EQ(std::string(h.messages[0]->data()), R"({"a":1})");
    srv.stop();
    srv.context().restart();
    srv.run();  // returns once the loop has run dry
    EXPECT_TRUE(h.closed);

    // A factory that makes nothing leaves the memory backplane.
    server fallback(o, [](asio::any_io_executor) { return std::unique_ptr<backplane>(); });
    EXPECT_STREQ(fallback.backplane().name(), "memory");
    fallback.stop();
    fallback.run();
}

}  // namespace
}  // namespace switchboard::test
