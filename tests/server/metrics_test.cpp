// GET /metrics reflects a scripted run exactly and is valid Prometheus text (checked with the reference Python
// parser); /healthz and /readyz answer.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/poll_client.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <unistd.h>

namespace switchboard::test {
namespace {

using nlohmann::json;

// Sample lines "name{labels} value" to values; comments skipped.
std::map<std::string, double> samples(std::string const& text)
{
    std::map<std::string, double> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto const space = line.rfind(' ');
        out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
}

std::string scrape(live_server& srv)
{
    auto res = fetch(srv.ioc, srv.port, "GET", "/metrics");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("Content-Type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
    return res.body;
}

TEST(metrics, reflect_a_scripted_run_exactly)
{
    server_options options;
    options.max_queue_bytes = 16 * 1024;
    options.socket_send_buffer = 8 * 1024;
    live_server srv(options);
    srv.start();

    std::vector<std::shared_ptr<ws_client>> ws;
    std::vector<std::shared_ptr<sse_client>> sse;
    for (int i = 0; i < 3; ++i) {
        ws.push_back(ws_client::create(srv.ioc));
        if (i == 2)
            ws.back()->set_receive_buffer_size(4096);  // the one that will be slow
        ws.back()->connect(srv.port);
        ASSERT_TRUE(ws.back()->subscribe(srv.ioc, "m", 1));
    }
    for (int i = 0; i < 2; ++i) {
        sse.push_back(sse_client::create(srv.ioc));
        sse.back()->connect(srv.port, "/sse?topic=m");
        ASSERT_TRUE(sse.back()->wait_events(srv.ioc, 1));
    }
    std::optional<http_result> held;
    request(srv.ioc, srv.port, "GET", "/poll?topic=other", "", {}, [&](http_result r) { held = std::move(r); });
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().long_polling == 1; }));

    auto s = samples(scrape(srv));
    EXPECT_EQ(s["switchboard_connections{transport=\"websocket\"}"], 3);
    EXPECT_EQ(s["switchboard_connections{transport=\"sse\"}"], 2);
    EXPECT_EQ(s["switchboard_connections{transport=\"long-polling\"}"], 1);
    EXPECT_EQ(s["switchboard_subscriptions"], 6);
    EXPECT_EQ(s["switchboard_topics"], 2);
    EXPECT_EQ(s["switchboard_backplane_up{backplane=\"memory\"}"], 1);

    // 7 messages: 5 subscribers each, so 35 deliveries.
    for (int i = 0; i < 7; ++i)
        ASSERT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=m", std::to_string(i)).status, 200);
    for (auto const& c : ws)
        ASSERT_TRUE(c->wait_messages(srv.ioc, 7));
    for (auto const& c : sse)
        ASSERT_TRUE(c->wait_messages(srv.ioc, 7));
    // Two refusals of different kinds.
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=bad%20topic", "1").status, 400);
    ws[0]->send_text("{not json");
    ASSERT_TRUE(ws[0]->wait_received(srv.ioc, 9));

    // One slow consumer: it alone takes a topic, stops reading, and a burst overflows its 16 KiB queue.
    ASSERT_TRUE(ws[2]->subscribe(srv.ioc, "burst", 2));
    ws[2]->pause_reading();
    std::string const pad(4'000, 'z');
    for (int i = 0; i < 50; ++i)
        (*srv).publish("burst", pad);
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().websocket == 2; }, std::chrono::seconds(20)));

    s = samples(scrape(srv));
    EXPECT_EQ(s["switchboard_messages_published_total"], 57);
    // 7 messages to 5 subscribers, then the burst reaches its one subscriber until it is cut off (after that
    // the topic has nobody here, and its messages are not fanned out).
    EXPECT_GT(s["switchboard_deliveries_total"], 7 * 5);
    EXPECT_LT(s["switchboard_deliveries_total"], 7 * 5 + 50);
    EXPECT_EQ(s["switchboard_messages_delivered_total"] - 7, s["switchboard_deliveries_total"] - 7 * 5);
    EXPECT_EQ(s["switchboard_slow_consumers_total"], 1);
    EXPECT_EQ(s["switchboard_disconnects_total{code=\"4000\"}"], 1);
    EXPECT_EQ(s["switchboard_errors_total{code=\"invalid_topic\"}"], 1);
    EXPECT_EQ(s["switchboard_errors_total{code=\"invalid_json\"}"], 1);
    EXPECT_EQ(s["switchboard_connections{transport=\"websocket\"}"], 2);
    EXPECT_EQ(s["switchboard_connections_opened_total{transport=\"websocket\"}"], 3);
    EXPECT_EQ(s["switchboard_subscriptions"], 5);
    EXPECT_EQ(s["switchboard_delivery_latency_seconds_count"], 57);
    EXPECT_EQ(s["switchboard_publish_latency_seconds_count"], 57);
    EXPECT_GT(s["switchboard_bytes_out_total"], 7 * 5 * 40);

    // The held poll ends inside this test, where its callback's target still exists.
    (*srv).publish("other", "done");
    ASSERT_TRUE(srv.run_until([&] { return held.has_value(); }));
    EXPECT_EQ(held->status, 200);
    for (auto const& c : ws)
        c->close();
    for (auto const& c : sse)
        c->close();
}

// A client chooses its close code: every code it may send must not become a series of its own. The server's own
// codes and the standard ones keep their number; the rest are counted by range.
TEST(metrics, client_close_codes_are_folded_into_a_bounded_label_set)
{
    live_server srv;
    srv.start();
    std::vector<int> codes{1000, 1001, 1003, 1008, 4000};
    for (int c = 3000; c < 3040; ++c)
        codes.push_back(c);
    for (int c = 4100; c < 4140; ++c)
        codes.push_back(c);
    codes.push_back(4999);
    for (int code : codes) {
        auto ws = ws_client::create(srv.ioc);
        ws->connect(srv.port);
        ASSERT_TRUE(ws->wait_open(srv.ioc));
        ws->close(code);
        ASSERT_TRUE(ws->wait_closed(srv.ioc)) << code;
    }
    ASSERT_TRUE(srv.run_until([&] { return (*srv).stats().websocket == 0; }));

    std::map<std::string, double> disconnects;
    for (auto const& [name, value] : samples(scrape(srv)))
        if (name.starts_with("switchboard_disconnects_total{"))
            disconnects[name.substr(name.find('{'))] = value;
    std::map<std::string, double> const expected{
        {R"({code="1000"})", 1}, {R"({code="1001"})", 1},      {R"({code="1003"})", 1},      {R"({code="1008"})", 1},
        {R"({code="4000"})", 1}, {R"({code="3000-3999"})", 40}, {R"({code="4000-4999"})", 41},
    };
    EXPECT_EQ(disconnects, expected);
}

TEST(metrics, the_output_parses_as_prometheus_text)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "p", 1));
    ws->send_text("nope");
    ASSERT_TRUE(ws->wait_received(srv.ioc, 2));
    (*srv).publish("p", 1);
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    auto const text = scrape(srv);

    char path[] = "/tmp/switchboard-metrics-XXXXXX";
    int const fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    std::ofstream(path) << text;
    // Debian's prometheus_client is for /usr/bin/python3, not another python3 earlier on the PATH.
    std::string const check =
        "import sys\n"
        "from prometheus_client.parser import text_string_to_metric_families\n"
        "fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))\n"
        "names = {f.name for f in fams}\n"
        "need = {'switchboard_connections', 'switchboard_deliveries', 'switchboard_delivery_latency_seconds'}\n"
        "missing = need - names\n"
        "print('families', len(fams), 'missing', sorted(missing))\n"
        "sys.exit(1 if missing else 0)\n";
    server_process parser("/usr/bin/python3", {"-c", check, path});
    auto const status = parser.wait_exit(std::chrono::seconds(30));
    std::remove(path);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(*status, 0) << parser.output() << "\n" << text;
    ws->close();
}

// server::run() drives the bundled server's loops. A throw out of a completion handler is a bug (hooks, routes and
// done handlers are guarded where they are called); it ends that handler, is counted and logged, and the loop goes
// on serving every other client. Before, it ended the process.
TEST(metrics, a_throw_out_of_a_handler_is_counted_and_the_owned_loop_goes_on)
{
    server_options o;
    o.address = "127.0.0.1";
    o.port = 0;
    server srv(o);
    srv.start();
    auto const port = srv.local_endpoint().port();
    boost::asio::post(srv.context(), [] { throw std::runtime_error("a bug"); });
    boost::asio::post(srv.context(), [] { throw 42; });  // not a std::exception either
    std::atomic<bool> ran_dry = false;
    std::thread loop([&] {
        srv.run();
        ran_dry = true;
    });

    boost::asio::io_context ioc;
    auto sse = sse_client::create(ioc);
    sse->connect(port, "/sse?topic=after");
    EXPECT_TRUE(sse->wait_events(ioc, 1));  // subscribed
    EXPECT_EQ(metric(ioc, port, "switchboard_handler_exceptions_total"), 2u);
    srv.publish_text("after", R"({"n":1})");
    ASSERT_TRUE(sse->wait_messages(ioc, 1));
    EXPECT_EQ(sse->messages().back()["data"]["n"], 1);
    srv.stop();  // the stream ends with its close event, read here
    EXPECT_TRUE(run_until(ioc, [&] { return ran_dry.load(); }, std::chrono::seconds(10)));
    loop.join();
}

TEST(metrics, health_and_readiness)
{
    live_server srv;
    srv.start();
    auto health = fetch(srv.ioc, srv.port, "GET", "/healthz");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(health.json()["status"], "ok");
    auto ready = fetch(srv.ioc, srv.port, "GET", "/readyz");
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(ready.json()["backplane"], "connected");
}

}  // namespace
}  // namespace switchboard::test
