// switchboard-loop-hop: the cost of the cross-loop hop, backplanes alone (no hub, no sockets). Publishes 200,000
// messages from one loop (256 in flight) and times their delivery to every loop's delivery handler:
// memory_backplane (one loop, no hop) against loop_cluster with 1, 2 and 4 nodes, each on its own thread, every
// node subscribed to the topic; then 4 nodes of which only the publishing one is (the others have no subscriber
// of it, and are not handed its messages). The latency is publish to the handler, with the 256 in flight queued
// ahead: it shows queueing, not the hop alone.
//   build-bench/bench/switchboard-loop-hop   (docs/scaling.md, "Several loops in one process")
#include <switchboard/loop_cluster.hpp>
#include <switchboard/memory_backplane.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <thread>
#include <vector>
using namespace switchboard;
using clk = std::chrono::steady_clock;
constexpr std::size_t N = 200'000;
constexpr std::size_t window = 256;  // publishes in flight

int main()
{
    {
        boost::asio::io_context ioc{1};
        memory_backplane bp(ioc.get_executor());
        std::size_t got = 0;
        bp.set_delivery([&](message_ptr const&) { ++got; });
        auto t0 = clk::now();
        for (std::size_t i = 0; i < N; ++i)
            bp.publish("t", "{\"n\":1}", [](boost::system::error_code, position) {});
        auto dt = std::chrono::duration<double>(clk::now() - t0).count();
        std::printf("memory_backplane 1 loop: %.0f ns/publish (%.2f M/s), delivered %zu\n", dt * 1e9 / N, N / dt / 1e6, got);
        bp.close();
    }
    struct run_shape {
        std::size_t loops;
        std::size_t subscribed;  // the first `subscribed` loops (the publisher is the first)
    };
    for (auto [loops, subscribed] : {run_shape{1, 1}, run_shape{2, 2}, run_shape{4, 4}, run_shape{4, 1}}) {
        loop_cluster cluster;
        struct loop {
            boost::asio::io_context ioc{1};
            boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
            std::unique_ptr<backplane> node;
            std::atomic<std::size_t> got{0};
            std::vector<double> lat;
            std::thread t;
        };
        std::vector<std::unique_ptr<loop>> ls;
        for (std::size_t i = 0; i < loops; ++i) {
            auto& l = *ls.emplace_back(std::make_unique<loop>());
            l.node = cluster.node(l.ioc.get_executor());
            if (i < subscribed)
                l.node->subscribe("t");  // before its thread starts: the node is this thread's until then
            l.lat.reserve(N);
            l.node->set_delivery([&l](message_ptr const& m) {
                l.lat.push_back(std::chrono::duration<double>(clk::now() - m->published_at()).count());
                ++l.got;
            });
        }
        for (auto& l : ls)
            l->t = std::thread([&l] { l->ioc.run(); });
        std::atomic<std::size_t> answered{0};
        auto t0 = clk::now();
        auto& pub = *ls[0];
        // The publisher keeps `window` publishes in flight, each answer starting the next.
        std::function<void()> next;
        std::size_t sent = 0;
        next = [&] {
            if (sent == N)
                return;
            ++sent;
            pub.node->publish("t", "{\"n\":1}", [&](boost::system::error_code, position) {
                ++answered;
                next();
            });
        };
        boost::asio::post(pub.ioc, [&] {
            for (std::size_t i = 0; i < window; ++i)
                next();
        });
        for (std::size_t i = 0; i < subscribed; ++i)
            while (ls[i]->got < N)
                std::this_thread::yield();
        while (answered < N)
            std::this_thread::yield();
        auto dt = std::chrono::duration<double>(clk::now() - t0).count();
        for (auto& l : ls) {
            boost::asio::post(l->ioc, [&l] { l->node->close(); l->node.reset(); });
            l->work.reset();
            l->t.join();
        }
        std::vector<double> all;
        for (auto& l : ls)
            all.insert(all.end(), l->lat.begin(), l->lat.end());
        auto pct = [&](double q) {
            auto v = all;
            std::nth_element(v.begin(), v.begin() + static_cast<long>(q * (v.size() - 1)), v.end());
            return v[static_cast<std::size_t>(q * (v.size() - 1))] * 1e6;
        };
        std::printf("loop_cluster %zu loops, %zu subscribed: %.0f ns/publish (%.2f M publishes/s, %.2f M deliveries/s "
                    "to hubs), publish->hub p50 %.1f us p99 %.1f us\n",
                    loops, subscribed, dt * 1e9 / N, N / dt / 1e6, N * subscribed / dt / 1e6, pct(0.5), pct(0.99));
    }
}
