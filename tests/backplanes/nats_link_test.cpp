// nats_link on a real nats-server, in both I/O modes: cnats on switchboard's Asio loop (asio_event_loop) and
// cnats' own threads. Every handler runs on the loop thread; bursts larger than cnats' read buffer arrive with no
// traffic after them; the loop mode adds no thread per connection; requests answer, time out and see "no
// responders"; a server restart is survived with the subscriptions; closing with messages in flight is safe;
// credentials in the URL and tls:// with a private certificate authority work.

#include "backplanes/nats/nats_link.hpp"
#include "support/nats_process.hpp"
#include "support/run_until.hpp"
#include "support/test_certificate.hpp"

#include <switchboard/nats_backplane.hpp>

#include <gtest/gtest.h>

#include <dirent.h>

#include <thread>

namespace switchboard::nats {
namespace {

using namespace std::chrono_literals;
using test::nats_process;
using test::run_until;

std::size_t thread_count()
{
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/task")) {
        while (auto* e = ::readdir(d))
            n += e->d_name[0] != '.';
        ::closedir(d);
    }
    return n;
}

class nats_link_io : public ::testing::TestWithParam<io_mode> {
protected:
    link_options options(std::string name = "test") const
    {
        link_options o;
        o.url = server.url();
        o.name = std::move(name);
        o.io = GetParam();
        o.reconnect_wait = 50ms;
        o.reconnect_jitter = 20ms;
        return o;
    }

    std::unique_ptr<nats_link> connected_link(std::string name = "test")
    {
        auto link = std::make_unique<nats_link>(ioc.get_executor(), options(std::move(name)));
        link->start([](bool) {});
        EXPECT_TRUE(run_until(ioc, [&] { return link->connected(); }, 20s));
        return link;
    }

    /// Round trip through the server: everything sent before it has been processed by the server.
    void flush(nats_link& link, nats_link& peer)
    {
        bool pinged = false;
        auto const subject = "flush." + std::to_string(++flushes_);
        auto id = peer.subscribe(subject, [&](natsMsg*) { pinged = true; });
        bool sent = false;
        // The subscription reaches the server before the publish only if it leaves first: retry until it lands.
        ASSERT_TRUE(run_until(ioc, [&] {
            if (!sent || !pinged) {
                link.publish(subject, "x");
                sent = true;
            }
            return pinged;
        }, 20s));
        peer.unsubscribe(id);
    }

    nats_process server;
    boost::asio::io_context ioc;
    int flushes_ = 0;
};

TEST_P(nats_link_io, messages_reach_handlers_on_the_loop_thread)
{
    auto link = connected_link();
    auto const loop_thread = std::this_thread::get_id();  // run_until runs the loop on this thread
    std::vector<std::string> got, numbers;
    bool on_loop = true;
    link->subscribe("greetings", [&](natsMsg* m) {
        on_loop = on_loop && std::this_thread::get_id() == loop_thread;
        got.emplace_back(msg_data(m));
        if (got.back() != "hello")
            numbers.push_back(got.back());
    });
    auto publisher = connected_link("publisher");
    // The subscription may not have reached the server yet: publish until the first arrives.
    ASSERT_TRUE(run_until(ioc, [&] {
        if (got.empty()) {
            EXPECT_FALSE(publisher->publish("greetings", "hello"));
        }
        return !got.empty();
    }, 20s));
    for (int i = 0; i < 100; ++i)
        ASSERT_FALSE(publisher->publish("greetings", std::to_string(i)));
    // Earlier "hello"s may trail in; the numbers come in order.
    ASSERT_TRUE(run_until(ioc, [&] { return numbers.size() >= 100; }, 20s));
    ASSERT_EQ(numbers.size(), 100u);
    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(numbers[static_cast<std::size_t>(i)], std::to_string(i));
    EXPECT_TRUE(on_loop);
}

// cnats reads at most one buffer (32 KiB) per read event. Asio's epoll is edge-triggered: unless every wait
// re-arms the descriptor, bytes left in the socket after a burst would wait for the next traffic.
TEST_P(nats_link_io, a_burst_larger_than_the_read_buffer_arrives_with_nothing_after_it)
{
    auto link = connected_link();
    auto publisher = connected_link("publisher");
    std::size_t bytes = 0, count = 0;
    link->subscribe("burst", [&](natsMsg* m) {
        bytes += msg_data(m).size();
        ++count;
    });
    flush(*publisher, *link);  // the subscription is on the server
    std::string const kilobyte(1024, 'x');
    constexpr std::size_t n = 4000;  // ~4 MiB: 125 times the read buffer
    for (std::size_t i = 0; i < n; ++i)
        ASSERT_FALSE(publisher->publish("burst", kilobyte));
    ASSERT_TRUE(run_until(ioc, [&] { return count == n; }, 30s)) << count;
    EXPECT_EQ(bytes, n * kilobyte.size());
}

TEST_P(nats_link_io, the_loop_mode_adds_no_thread_per_connection)
{
    // cnats starts its process-wide threads (timers, async callbacks, garbage collector, the delivery pool)
    // with the first connection and subscription.
    auto first = connected_link("first");
    first->subscribe("x", [](natsMsg*) {});
    auto const before = thread_count();
    std::vector<std::unique_ptr<nats_link>> more;
    for (int i = 0; i < 4; ++i) {
        more.push_back(connected_link("more"));
        more.back()->subscribe("x", [](natsMsg*) {});
    }
    auto const after = thread_count();
    if (GetParam() == io_mode::asio_loop)
        EXPECT_EQ(after, before);
    else
        EXPECT_GE(after, before + 8);  // a reader and a flusher thread per connection
}

TEST_P(nats_link_io, requests_get_answers_time_out_or_find_no_responders)
{
    auto link = connected_link();
    auto service = connected_link("service");
    service->subscribe("echo", [&](natsMsg* m) {
        service->publish(natsMsg_GetReply(m), "echo:" + std::string(msg_data(m)));
    });
    service->subscribe("silent", [](natsMsg*) {});
    flush(*link, *service);

    std::optional<std::string> answer;
    link->request("echo", "hi", {}, [&](boost::system::error_code ec, natsMsg* m) {
        ASSERT_FALSE(ec) << ec.message();
        answer = std::string(msg_data(m));
    });
    ASSERT_TRUE(run_until(ioc, [&] { return answer.has_value(); }, 20s));
    EXPECT_EQ(*answer, "echo:hi");

    std::optional<boost::system::error_code> none, silent;
    link->request("nobody.listens", "", {}, [&](boost::system::error_code ec, natsMsg*) { none = ec; });
    link->request("silent", "", {}, [&](boost::system::error_code ec, natsMsg*) { silent = ec; }, 300ms);
    ASSERT_TRUE(run_until(ioc, [&] { return none && silent; }, 20s));
    EXPECT_EQ(*none, nats_error::no_responders);
    EXPECT_EQ(*silent, nats_error::timed_out);
    EXPECT_EQ(link->pending_requests(), 0u);
}

TEST_P(nats_link_io, a_server_restart_is_survived_with_the_subscriptions)
{
    std::vector<bool> states;
    nats_link link(ioc.get_executor(), options());
    link.start([&](bool up) { states.push_back(up); });
    ASSERT_TRUE(run_until(ioc, [&] { return link.connected(); }, 20s));
    std::vector<std::string> got;
    link.subscribe("after", [&](natsMsg* m) { got.emplace_back(msg_data(m)); });

    server.stop();
    ASSERT_TRUE(run_until(ioc, [&] { return !link.connected(); }, 20s));
    // Down: refused at once with a clear error, nothing buffered for later.
    EXPECT_EQ(link.publish("after", "lost"), nats_error::not_connected);
    std::optional<boost::system::error_code> refused;
    link.request("anything", "", {}, [&](boost::system::error_code ec, natsMsg*) { refused = ec; });
    ASSERT_TRUE(run_until(ioc, [&] { return refused.has_value(); }, 5s));
    EXPECT_EQ(*refused, nats_error::not_connected);

    server.start();
    ASSERT_TRUE(run_until(ioc, [&] { return link.connected(); }, 30s)) << server.output();
    // The subscription was renewed by cnats: a message published now arrives.
    auto publisher = connected_link("publisher");
    ASSERT_TRUE(run_until(ioc, [&] {
        if (got.empty())
            publisher->publish("after", "back");
        return !got.empty();
    }, 20s));
    EXPECT_EQ(got.front(), "back");
    EXPECT_EQ(states, (std::vector<bool>{true, false, true}));
}

TEST_P(nats_link_io, closing_with_messages_in_flight_is_safe)
{
    auto publisher = connected_link("publisher");
    for (int round = 0; round < 5; ++round) {
        auto link = connected_link();
        std::size_t count = 0;
        link->subscribe("flood", [&](natsMsg*) { ++count; });
        flush(*publisher, *link);
        for (int i = 0; i < 2000; ++i)
            publisher->publish("flood", "0123456789");
        ASSERT_TRUE(run_until(ioc, [&] { return count > 0; }, 20s));
        // Messages are still on their way through cnats' delivery thread: close now, run what was posted.
        link->close();
        link.reset();
        test::run_for(ioc, 20ms);
    }
}

// Credentials in the URL (user:password@, token@) are cnats' own: a server that requires them lets the link in
// with them and keeps it out without them (it keeps retrying, never connected, never throwing).
TEST_P(nats_link_io, credentials_in_the_url_are_used)
{
    nats_process secured({"--user", "node", "--pass", "s3cret"});
    auto o = options();
    o.url = "nats://node:s3cret@127.0.0.1:" + std::to_string(secured.port());
    nats_link good(ioc.get_executor(), o);
    good.start([](bool) {});
    o.url = secured.url();
    nats_link anonymous(ioc.get_executor(), o);
    anonymous.start([](bool) {});
    ASSERT_TRUE(run_until(ioc, [&] { return good.connected(); }, 20s));
    test::run_for(ioc, 300ms);
    EXPECT_FALSE(anonymous.connected());
}

// tls:// with a private certificate authority: the link trusts the one named by ca_file and no other, runs on
// cnats' own threads (TLS reads must not wait on the loop) and still calls every handler on the loop thread; the
// public backplane publishes and reads over it.
TEST(nats_tls, a_tls_server_is_reached_with_its_certificate_authority)
{
    test::test_certificate certificate;
    nats_process secured({"--tls", "--tlscert", certificate.cert_file().string(), "--tlskey",
                          certificate.key_file().string()});
    boost::asio::io_context ioc;
    link_options o;
    o.url = "tls://127.0.0.1:" + std::to_string(secured.port());
    o.reconnect_wait = 50ms;
    o.ca_file = certificate.cert_file().string();
    nats_link trusted(ioc.get_executor(), o);
    trusted.start([](bool) {});
    o.ca_file.clear();  // the system's authorities: they never signed this certificate
    nats_link untrusting(ioc.get_executor(), o);
    untrusting.start([](bool) {});
    ASSERT_TRUE(run_until(ioc, [&] { return trusted.connected(); }, 20s)) << secured.output();

    auto const loop_thread = std::this_thread::get_id();
    std::optional<std::thread::id> handled_on;
    trusted.subscribe("over.tls", [&](natsMsg*) { handled_on = std::this_thread::get_id(); });
    ASSERT_TRUE(run_until(ioc, [&] {
        if (!handled_on)
            trusted.publish("over.tls", "x");
        return handled_on.has_value();
    }, 20s));
    EXPECT_EQ(*handled_on, loop_thread);
    EXPECT_FALSE(untrusting.connected());

    nats_options public_options;
    public_options.url = o.url;
    public_options.tls_ca_file = certificate.cert_file().string();
    nats_backplane bp(ioc.get_executor(), public_options);
    ASSERT_TRUE(run_until(ioc, [&] { return bp.connected(); }, 20s));
    std::optional<position> published;
    bp.publish("secure", "1", [&](boost::system::error_code ec, position p) {
        EXPECT_FALSE(ec) << ec.message();
        published = p;
    });
    ASSERT_TRUE(run_until(ioc, [&] { return published.has_value(); }, 20s));
    EXPECT_EQ(published->offset, 1u);
    std::optional<history_result> read;
    bp.history("secure", position{0, ""}, backplane::whole_history,
               [&](boost::system::error_code ec, history_result r) {
                   EXPECT_FALSE(ec) << ec.message();
                   read = std::move(r);
               });
    ASSERT_TRUE(run_until(ioc, [&] { return read.has_value(); }, 20s));
    ASSERT_EQ(read->messages.size(), 1u);
    EXPECT_EQ(read->messages[0]->data(), "1");
    bp.close();
    trusted.close();
    untrusting.close();
}

INSTANTIATE_TEST_SUITE_P(io, nats_link_io, ::testing::Values(io_mode::asio_loop, io_mode::cnats_threads),
                         [](auto const& info) {
                             return std::string(info.param == io_mode::asio_loop ? "asio_loop" : "cnats_threads");
                         });

}  // namespace
}  // namespace switchboard::nats
