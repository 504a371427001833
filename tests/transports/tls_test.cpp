// TLS on the shared listener: wss:// and https:// (SSE, long polling, publish, metrics) end to end with real TLS
// clients and a certificate made at test time; plain and TLS clients on the same port at once; broken or stalled
// handshakes time out without harming anyone; a slow TLS consumer is cut off like a plain one; a megabyte message
// and a burst byte for byte; clients that misbehave after the handshake (garbage, a truncated record, data after
// close_notify, TCP's end without close_notify; TLS 1.2 and 1.3) are closed cleanly; an idle TLS stream's
// server memory.

#include "support/live_server.hpp"
#include "support/build_speed.hpp"
#include "support/http_client.hpp"
#include "support/poll_client.hpp"
#include "support/process_memory.hpp"
#include "support/raw_connection.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/sse_client.hpp"
#include "support/test_certificate.hpp"
#include "support/ws_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

namespace switchboard::test {
namespace {

using nlohmann::json;
namespace asio = boost::asio;

server_options with_tls(test_certificate const& cert, server_options options = {})
{
    options.tls_cert_file = cert.cert_file().string();
    options.tls_key_file = cert.key_file().string();
    return options;
}

TEST(tls, websocket_over_tls_subscribes_publishes_and_receives)
{
    test_certificate cert;
    live_server srv(with_tls(cert));
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(tls_port(srv.port));
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    ASSERT_TRUE(ws->subscribe(srv.ioc, "news", 1));
    ws->send_json({{"type", "publish"}, {"topic", "news"}, {"data", {{"n", 1}}}, {"id", 2}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 2));

    // POST /publish over https reaches the same subscriber.
    auto const r = fetch(srv.ioc, tls_port(srv.port), "POST", "/publish?topic=news", R"({"n":2})");
    EXPECT_EQ(r.status, 200) << r.body;

    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    auto const got = ws->messages();
    EXPECT_EQ(got[0]["data"]["n"], 1);
    EXPECT_EQ(got[1]["data"]["n"], 2);
    EXPECT_EQ(got[1]["offset"], 2);

    // A message larger than one TLS record, and a burst of small ones, arrive whole and in order.
    std::string const big(50'000, 'b');  // within max_message_size
    (*srv).publish("news", big);
    for (int i = 0; i < 300; ++i)
        (*srv).publish("news", {{"i", i}});
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 303));
    auto const all = ws->messages();
    EXPECT_EQ(all[2]["data"], big);
    for (int i = 0; i < 300; ++i)
        ASSERT_EQ(all[3 + i]["data"]["i"], i);

    ws->close();
    ASSERT_TRUE(ws->wait_closed(srv.ioc));
    EXPECT_EQ(ws->close_code(), 1000);
}

TEST(tls, sse_and_long_polling_over_https)
{
    test_certificate cert;
    live_server srv(with_tls(cert));
    srv.start();

    auto sse = sse_client::create(srv.ioc);
    sse->connect(tls_port(srv.port), "/sse?topic=t");
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    EXPECT_EQ(sse->status(), 200);
    auto poll = poll_client::create(srv.ioc);
    poll->start(tls_port(srv.port), {"t"});
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 2; }));

    for (int i = 0; i < 3; ++i) {
        auto const r = fetch(srv.ioc, tls_port(srv.port), "POST", "/publish?topic=t", json{{"i", i}}.dump());
        ASSERT_EQ(r.status, 200) << r.body;
    }
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 3));
    ASSERT_TRUE(poll->wait_messages(srv.ioc, 3));
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(sse->messages()[i]["data"]["i"], i);
        EXPECT_EQ(poll->messages()[i]["data"]["i"], i);
    }
    EXPECT_TRUE(poll->errors().empty());
    poll->stop();
    sse->close();
}

TEST(tls, plain_and_tls_clients_share_the_port)
{
    test_certificate cert;
    live_server srv(with_tls(cert));
    srv.start();

    std::vector<std::shared_ptr<ws_client>> ws;
    std::vector<std::shared_ptr<sse_client>> sse;
    for (bool const secure : {false, true, false, true}) {
        server_port const port{srv.port, secure};
        ws.push_back(ws_client::create(srv.ioc));
        ws.back()->connect(port);
        ws.back()->send_json({{"type", "subscribe"}, {"topic", "both"}});
        sse.push_back(sse_client::create(srv.ioc));
        sse.back()->connect(port, "/sse?topic=both");
    }
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("both") == 8; }));

    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=both", R"({"from":"plain"})").status, 200);
    EXPECT_EQ(fetch(srv.ioc, tls_port(srv.port), "POST", "/publish?topic=both", R"({"from":"tls"})").status, 200);
    for (auto const& c : ws)
        ASSERT_TRUE(c->wait_messages(srv.ioc, 2));
    for (auto const& c : sse)
        ASSERT_TRUE(c->wait_messages(srv.ioc, 2));
    for (auto const& c : ws) {
        EXPECT_EQ(c->messages()[0]["data"]["from"], "plain");
        EXPECT_EQ(c->messages()[1]["data"]["from"], "tls");
    }

    // Operator endpoints answer either way; the metrics count the TLS handshakes.
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/healthz").status, 200);
    EXPECT_EQ(fetch(srv.ioc, tls_port(srv.port), "GET", "/healthz").status, 200);
    EXPECT_GE(metric(srv.ioc, tls_port(srv.port), "switchboard_tls_handshakes_total"), 5u);
    EXPECT_EQ(metric(srv.ioc, srv.port, "switchboard_tls_handshake_failures_total"), 0u);
    for (auto const& c : ws)
        c->close();
    for (auto const& c : sse)
        c->close();
}

TEST(tls, broken_and_stalled_handshakes_time_out_and_harm_no_one)
{
    test_certificate cert;
    server_options options = with_tls(cert);
    options.request_timeout = std::chrono::milliseconds(500);
    live_server srv(options);
    srv.start();
    asio::ip::tcp::endpoint const server{asio::ip::make_address("127.0.0.1"), srv.port};

    // The start of a ClientHello (record header, handshake header, version, part of the random), then nothing:
    // the client stalls mid-handshake.
    asio::ip::tcp::socket stalled(srv.ioc);
    stalled.connect(server);
    std::string hello("\x16\x03\x01\x00\xf8\x01\x00\x00\xf4\x03\x03", 11);
    hello.append(20, '\x2a');
    asio::write(stalled, asio::buffer(hello));
    // A whole ClientHello record whose body is garbage: OpenSSL refuses it at once.
    asio::ip::tcp::socket garbage(srv.ioc);
    garbage.connect(server);
    std::string junk("\x16\x03\x01\x00\x28\x01\x00\x00\x24", 9);
    junk.append(36, 'z');
    asio::write(garbage, asio::buffer(junk));

    // Meanwhile a TLS client and a plain one come and go unharmed.
    auto ws = ws_client::create(srv.ioc);
    ws->connect(tls_port(srv.port));
    ASSERT_TRUE(ws->subscribe(srv.ioc, "t", 1));
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/healthz").status, 200);

    // Each broken connection is closed by the server: its read ends (an alert, then EOF, or EOF alone).
    auto const ended = [&](asio::ip::tcp::socket& s) {
        bool done = false;
        auto buffer = std::make_shared<std::array<char, 256>>();
        std::function<void()> read = [&, buffer] {
            s.async_read_some(asio::buffer(*buffer), [&](boost::system::error_code ec, std::size_t) {
                if (ec)
                    done = true;
                else
                    read();
            });
        };
        read();
        return srv.run_until([&] { return done; }, std::chrono::seconds(10));
    };
    auto const started = std::chrono::steady_clock::now();
    EXPECT_TRUE(ended(garbage));
    EXPECT_TRUE(ended(stalled));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_EQ(metric(srv.ioc, tls_port(srv.port), "switchboard_tls_handshake_failures_total"), 2u);

    // The TLS subscriber still receives.
    (*srv).publish("t", {{"after", true}});
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1));
    ws->close();
}

TEST(tls, a_megabyte_message_and_a_pipelined_burst_arrive_byte_for_byte_over_wss_and_https_sse)
{
    test_certificate cert;
    server_options options = with_tls(cert);
    options.max_message_size = 2 * 1024 * 1024;
    live_server srv(options);
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(tls_port(srv.port));
    ASSERT_TRUE(ws->subscribe(srv.ioc, "big", 1));
    auto sse = sse_client::create(srv.ioc);
    sse->connect(tls_port(srv.port), "/sse?topic=big");
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("big") == 2; }));

    // 1 MB of every byte value a JSON string may carry unescaped (64 records and more), then 1,000 small
    // messages published in one go: one loop turn queues them all, the flushes write them record by record.
    std::string big;
    big.reserve(1'000'000);
    for (std::size_t i = 0; big.size() < 1'000'000; ++i)
        big.push_back(static_cast<char>(' ' + 1 + (i * 7919) % 90));
    (*srv).publish("big", big);
    for (int i = 0; i < 1000; ++i)
        (*srv).publish("big", {{"i", i}});
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 1001, std::chrono::seconds(30)));
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 1001, std::chrono::seconds(30)));
    for (auto const& got : {ws->messages(), sse->messages()}) {
        ASSERT_EQ(got.size(), 1001u);
        EXPECT_TRUE(got[0]["data"] == big);
        for (int i = 0; i < 1000; ++i)
            ASSERT_EQ(got[1 + i]["data"]["i"], i);
    }
    ws->close();
    sse->close();
}

// A Python client (ssl.MemoryBIO over a plain socket, so that it can put any bytes on the wire) that misbehaves
// after a good handshake, in the HTTP phase ("http") or on an open SSE stream ("sse"), then reports how the
// server ended the connection: "closed" (EOF or reset within the deadline) or "open".
constexpr char const* misbehaving_tls_client = R"(
import os, socket, ssl, sys
port, version, phase, act = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
v = ssl.TLSVersion.TLSv1_2 if version == '1.2' else ssl.TLSVersion.TLSv1_3
ctx.minimum_version = ctx.maximum_version = v
s = socket.create_connection(('127.0.0.1', port), timeout=10)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname='localhost')

def pump():
    s.sendall(out.read())
    data = s.recv(65536)
    if not data:
        raise EOFError('closed during the handshake')
    inc.write(data)

def read_until(text):
    got = b''
    while text not in got:
        try:
            got += tls.read(65536)
        except ssl.SSLWantReadError:
            pump()
    return got

while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        pump()
s.sendall(out.read())
if phase == 'sse':
    tls.write(b'GET /sse?topic=t HTTP/1.1\r\nHost: x\r\n\r\n')
    s.sendall(out.read())
    read_until(b'subscribed')
    print('subscribed', flush=True)
else:
    tls.write(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    s.sendall(out.read())
    read_until(b'\r\n\r\n')
    print('answered', tls.version(), flush=True)
if act == 'garbage':
    s.sendall(b'\x17\x03\x03\x00\x20' + os.urandom(32))  # an application data record that fails to decrypt
elif act == 'truncated':
    tls.write(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
    record = out.read()
    s.sendall(record[:len(record) // 2])
    s.shutdown(socket.SHUT_WR)
elif act == 'close_notify_then_data':
    try:
        tls.unwrap()
    except ssl.SSLWantReadError:
        pass
    s.sendall(out.read() + b'\x17\x03\x03\x00\x05hello')
elif act == 'fin':
    s.shutdown(socket.SHUT_WR)  # TCP's end without close_notify
s.settimeout(10)
try:
    while s.recv(65536):
        pass
    print('closed', flush=True)
except ConnectionResetError:
    print('closed', flush=True)
except socket.timeout:
    print('open', flush=True)
)";

TEST(tls, misbehaving_tls_clients_are_closed_and_harm_no_one)
{
    test_certificate cert;
    live_server srv(with_tls(cert));
    srv.start();
    auto witness = ws_client::create(srv.ioc);
    witness->connect(tls_port(srv.port));
    ASSERT_TRUE(witness->subscribe(srv.ioc, "t", 1));

    std::size_t normal_closes = 0;
    for (std::string const version : {"1.2", "1.3"}) {
        for (std::string const phase : {"http", "sse"}) {
            for (std::string const act : {"garbage", "truncated", "close_notify_then_data", "fin"}) {
                SCOPED_TRACE(version + " " + phase + " " + act);
                // Debian's python3 and its ssl module, not another python3 earlier on the PATH.
                server_process client("/usr/bin/python3",
                                      {"-c", misbehaving_tls_client, std::to_string(srv.port), version, phase, act});
                ASSERT_TRUE(srv.run_until([&] { return client.exit_status().has_value(); }, std::chrono::seconds(30)))
                    << client.output();
                EXPECT_EQ(*client.exit_status(), 0) << client.output();
                auto const first = phase == "sse" ? std::string("subscribed\n") : "answered TLSv" + version + "\n";
                EXPECT_EQ(client.output(), first + "closed\n");
                if (phase == "sse" && act != "garbage")
                    ++normal_closes;
            }
        }
    }
    // Every SSE stream ended, each once, and the witness still receives.
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 1; }));
    (*srv).publish("t", {{"after", true}});
    ASSERT_TRUE(witness->wait_messages(srv.ioc, 1));
    EXPECT_EQ(metric(srv.ioc, tls_port(srv.port), "switchboard_tls_handshake_failures_total"), 0u);
    // The peer's close_notify, its TCP end without one and a truncated record end the stream as EOF (a normal
    // closure); a record that fails to decrypt as a lost connection.
    auto const metrics = fetch(srv.ioc, tls_port(srv.port), "GET", "/metrics").body;
    EXPECT_NE(metrics.find("switchboard_disconnects_total{code=\"1000\"} " + std::to_string(normal_closes)),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("switchboard_disconnects_total{code=\"4001\"} 2"), std::string::npos) << metrics;
    witness->close();
}

#ifdef SWITCHBOARD_SERVER_PATH
TEST(tls, an_idle_tls_stream_holds_a_few_kilobytes_of_server_memory)
{
    // The bundled server as a process, so that its resident memory is its own: 600 idle SSE streams over TLS.
    // Asio's ssl::stream held ~75 KB for each (its fixed record buffers); OpenSSL 3.0's own floor is ~13.5 KB
    // (docs/benchmarks.md, Idle TLS connections).
    // The sanitizers pad every allocation and hold freed memory in quarantine: resident memory says nothing there.
    if (build_slowdown > 1)
        GTEST_SKIP() << "resident memory is measured in the optimized build only";
    test_certificate cert;
    server_process server(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0", "--tls-cert", cert.cert_file().string(),
                                                    "--tls-key", cert.key_file().string()});
    auto const port = server.wait_for_port(std::chrono::seconds(20));
    ASSERT_TRUE(port) << server.output();
    asio::io_context ioc;
    ASSERT_EQ(fetch(ioc, tls_port(*port), "GET", "/healthz").status, 200);  // the first handshake's one-offs
    auto const before = memory_of(server.pid());
    ASSERT_TRUE(before);
    // 25 handshakes at a time: a handshake's own memory (~40 KB while it runs) stays with the allocator after it,
    // so that many at once would count for more than the streams.
    constexpr std::size_t streams = 600;
    std::vector<std::shared_ptr<sse_client>> clients;
    while (clients.size() < streams) {
        for (int i = 0; i < 25; ++i) {
            clients.push_back(sse_client::create(ioc));
            clients.back()->connect(tls_port(*port), "/sse?topic=idle");
        }
        ASSERT_TRUE(run_until(ioc, [&] {
            return std::all_of(clients.begin(), clients.end(),
                               [](auto const& c) { return c->find_event("subscribed").has_value(); });
        }, std::chrono::seconds(60)));
    }
    ASSERT_EQ(fetch(ioc, tls_port(*port), "GET", "/healthz").status, 200);  // every stream is set up by now
    auto const after = memory_of(server.pid());
    ASSERT_TRUE(after);
    auto const per_stream = (after->resident - std::min(after->resident, before->resident)) / streams;
    EXPECT_LT(per_stream, 32u * 1024) << per_stream << " bytes per idle TLS stream";
    for (auto const& c : clients)
        c->close();
}
#endif

TEST(tls, a_slow_tls_consumer_is_closed_as_slow_consumer)
{
    test_certificate cert;
    server_options options = with_tls(cert);
    options.max_queue_bytes = 64 * 1024;
    options.socket_send_buffer = 16 * 1024;
    options.close_timeout = std::chrono::seconds(60);
    live_server srv(options);
    srv.start();

    auto slow = ws_client::create(srv.ioc);
    slow->set_receive_buffer_size(4096);
    slow->connect(tls_port(srv.port));
    ASSERT_TRUE(slow->subscribe(srv.ioc, "firehose", 0));
    auto fast = ws_client::create(srv.ioc);
    fast->connect(tls_port(srv.port));
    ASSERT_TRUE(fast->subscribe(srv.ioc, "firehose", 0));
    slow->pause_reading();

    std::string const payload(2'000, 'x');
    constexpr std::size_t count = 300;  // 600 KB: far past the slow one's queue and socket buffers
    for (std::size_t sent = 0; sent < count; sent += 10) {
        for (std::size_t i = sent; i < sent + 10; ++i)
            (*srv).publish("firehose", {{"i", i}, {"pad", payload}});
        ASSERT_TRUE(fast->wait_messages(srv.ioc, sent + 10));
    }
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("firehose") == 1; }));
    EXPECT_EQ(metric(srv.ioc, tls_port(srv.port), "switchboard_slow_consumers_total"), 1u);

    slow->resume_reading();
    ASSERT_TRUE(slow->wait_closed(srv.ioc, std::chrono::seconds(20)));
    EXPECT_EQ(slow->close_code(), 4000);
    auto const partial = slow->messages();
    EXPECT_LT(partial.size(), count);
    for (std::size_t i = 0; i < partial.size(); ++i)
        ASSERT_EQ(partial[i]["offset"], i + 1);
    fast->close();
}

TEST(tls, a_slow_sse_consumer_over_tls_gets_a_close_event)
{
    test_certificate cert;
    server_options options = with_tls(cert);
    options.max_queue_bytes = 32 * 1024;
    options.socket_send_buffer = 16 * 1024;
    live_server srv(options);
    srv.start();
    auto slow = sse_client::create(srv.ioc);
    slow->set_receive_buffer_size(4096);
    slow->connect(tls_port(srv.port), "/sse?topic=t");
    ASSERT_TRUE(slow->wait_events(srv.ioc, 1));
    slow->pause_reading();
    std::string const payload(4'000, 'y');
    for (int i = 0; i < 100; ++i)
        (*srv).publish("t", payload);
    ASSERT_TRUE(srv.run_until([&] { return (*srv).hub().subscriber_count("t") == 0; }));
    slow->resume_reading();
    ASSERT_TRUE(slow->wait_ended(srv.ioc));
    EXPECT_EQ(slow->error(), asio::error::eof);
    auto const close = slow->find_event("close");
    ASSERT_TRUE(close);
    EXPECT_EQ(json::parse(close->data)["code"], 4000);
}

TEST(tls, tls_only_closes_plain_clients_unanswered)
{
    test_certificate cert;
    server_options options = with_tls(cert);
    options.tls_only = true;
    live_server srv(options);
    srv.start();
    auto const plain = fetch(srv.ioc, srv.port, "GET", "/healthz");
    EXPECT_EQ(plain.status, 0);
    EXPECT_TRUE(plain.error);
    EXPECT_EQ(fetch(srv.ioc, tls_port(srv.port), "GET", "/healthz").status, 200);
}

// With TLS on, a connection past a limit is closed at once, unanswered: its answer would need a handshake first,
// which is exactly the work a refusal must not cost.
TEST(tls, a_connection_past_a_limit_is_closed_without_a_handshake)
{
    test_certificate cert;
    server_options options = with_tls(cert);
    options.max_connections_per_address = 1;
    options.request_timeout = std::chrono::seconds(60);
    live_server srv(options);
    srv.start();
    auto held = sse_client::create(srv.ioc);
    held->connect(tls_port(srv.port), "/sse?topic=t");
    ASSERT_TRUE(held->wait_status(srv.ioc));
    ASSERT_EQ(held->status(), 200);

    for (int i = 0; i < 3; ++i) {
        raw_connection refused(srv.ioc, srv.port);
        refused.send("\x16\x03\x01");  // the start of a ClientHello: it is never read
        ASSERT_TRUE(refused.wait_closed());
        EXPECT_TRUE(refused.received().empty());
    }
    (*srv).publish("t", 1);
    EXPECT_TRUE(held->wait_messages(srv.ioc, 1));
    held->close();
}

TEST(tls, a_certificate_or_key_that_cannot_be_used_names_its_file)
{
    test_certificate cert;
    auto const message = [](server_options options) -> std::string {
        asio::io_context ioc;
        try {
            server s(ioc, options);
        } catch (std::runtime_error const& e) {
            return e.what();
        }
        return "no error";
    };
    server_options missing = with_tls(cert);
    missing.tls_cert_file = (cert.directory() / "missing.pem").string();
    EXPECT_NE(message(missing).find(missing.tls_cert_file), std::string::npos) << message(missing);

    server_options not_a_key = with_tls(cert);
    not_a_key.tls_key_file = cert.cert_file().string();
    EXPECT_NE(message(not_a_key).find(not_a_key.tls_key_file), std::string::npos) << message(not_a_key);

    server_options mismatched = with_tls(cert);
    mismatched.tls_key_file = cert.other_key_file().string();
    auto const why = message(mismatched);
    EXPECT_NE(why.find("does not match"), std::string::npos) << why;
    EXPECT_NE(why.find(mismatched.tls_key_file), std::string::npos) << why;

    server_options half = with_tls(cert);
    half.tls_key_file.clear();
    EXPECT_NE(message(half).find("both"), std::string::npos) << message(half);
}

TEST(tls, reload_takes_a_new_certificate_and_keeps_the_old_one_when_the_new_is_broken)
{
    test_certificate first;
    test_certificate second;
    live_server srv(with_tls(first));
    srv.start();
    EXPECT_EQ(fetch(srv.ioc, tls_port(srv.port), "GET", "/healthz").status, 200);

    server_options broken = with_tls(second);
    broken.tls_key_file = second.other_key_file().string();  // does not match: refused, the first stays
    (*srv).reload(broken);
    EXPECT_EQ(fetch(srv.ioc, tls_port(srv.port), "GET", "/healthz").status, 200);

    (*srv).reload(with_tls(second));
    EXPECT_EQ(fetch(srv.ioc, tls_port(srv.port), "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace switchboard::test
