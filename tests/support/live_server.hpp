#pragma once
// An in-process switchboard server on 127.0.0.1 with a kernel-chosen port, sharing one io_context with the
// test's clients: run_until drives both, so a test waits on conditions, never on time.
//
// SWITCHBOARD_TEST_LOOPS=N (or the loops argument) runs the server as N loops of one process, as the bundled
// server's `threads` does: loop 0 on the test's io_context, the others each on a thread of their own, all on one
// port (reuse_port) and joined by one loop_cluster (the memory backplane) or each its own backplane (the
// factory's). Connections land on loops as the kernel spreads them, so a test's clients exercise cross-loop
// delivery. `*srv` is loop 0's server (publish, subscribe, hooks on it are loop 0's); stats() counts every loop.

#include "support/run_until.hpp"

#include <switchboard/switchboard.hpp>  // the tests use most of the API

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace switchboard::test {

class live_server {
public:
    using backplane_factory = std::function<std::unique_ptr<backplane>(boost::asio::any_io_executor)>;

    /// Loops from SWITCHBOARD_TEST_LOOPS (1 when unset).
    static std::size_t loops_from_environment()
    {
        char const* v = std::getenv("SWITCHBOARD_TEST_LOOPS");
        auto const n = v ? std::strtoul(v, nullptr, 10) : 1;
        return n < 1 ? 1 : n;
    }

    explicit live_server(server_options options = {}, std::size_t loops = loops_from_environment())
        : live_server(std::move(options), nullptr, loops)
    {
    }

    /// A server on another backplane, made by `make_backplane(executor)` (e.g. Redis), one per loop.
    live_server(server_options options, backplane_factory const& make_backplane,
                std::size_t loops = loops_from_environment())
    {
        options.address = "127.0.0.1";
        options.port = 0;
        options.reuse_port = loops > 1;
        options_ = std::move(options);
        make_backplane_ = make_backplane;
        loops_ = loops;
        if (loops > 1 && !make_backplane)
            cluster_ = std::make_unique<loop_cluster>(options_.history);
        server_ = make(ioc, options_);
    }

    /// Starts listening; call after setting hooks. The other loops start on the same port, each on its thread.
    void start()
    {
        server_->start();
        port = server_->local_endpoint().port();
        if (loops_ == 1)
            return;
        auto options = options_;
        options.port = port;
        std::vector<server*> all{server_.get()};
        for (std::size_t n = 1; n < loops_; ++n) {
            auto& l = *others_.emplace_back(std::make_unique<other_loop>());
            l.srv = make(l.ioc, options);
            all.push_back(l.srv.get());
        }
        for (auto* s : all)
            s->set_loops(all);
        for (auto& l : others_) {
            l->srv->start();
            l->thread = std::thread([&io = l->ioc] { io.run(); });
        }
    }

    /// How many loops serve.
    std::size_t loops() const noexcept { return loops_; }

    /// Connection counts of every loop, summed; `per_loop` (if given) gets each loop's.
    server_stats stats(std::vector<server_stats>* per_loop = nullptr)
    {
        std::vector<server_stats> each{server_->stats()};
        for (auto& l : others_) {
            std::promise<server_stats> p;
            auto f = p.get_future();
            boost::asio::post(l->ioc, [&] { p.set_value(l->srv->stats()); });
            if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
                ADD_FAILURE() << "a loop did not answer within 10 s";
                return {};
            }
            each.push_back(f.get());
        }
        server_stats sum;
        for (auto const& s : each) {
            sum.websocket += s.websocket;
            sum.sse += s.sse;
            sum.long_polling += s.long_polling;
            sum.topics += s.topics;
            sum.listeners += s.listeners;
            sum.parked += s.parked;
        }
        if (per_loop)
            *per_loop = std::move(each);
        return sum;
    }

    ~live_server()
    {
        // Stop gracefully and let every loop run dry: only then is no handler left that points into a server.
        server_->stop();
        for (auto& l : others_) {
            l->srv->stop();
            l->work.reset();
        }
        ioc.restart();
        auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!ioc.stopped() && std::chrono::steady_clock::now() < deadline)
            ioc.run_one_for(std::chrono::milliseconds(100));
        EXPECT_TRUE(ioc.stopped()) << "the server did not stop within 20 s";
        for (auto& l : others_) {
            if (l->thread.joinable())
                l->thread.join();
            l->srv.reset();
        }
        server_.reset();
    }

    server& operator*() { return *server_; }
    server* operator->() { return server_.get(); }

    bool run_until(std::function<bool()> pred, std::chrono::milliseconds deadline = std::chrono::seconds(20))
    {
        return test::run_until(ioc, std::move(pred), deadline);
    }

    /// Publishes `data` to `topic` through the server (server::publish) and waits for its answer: a publish
    /// that fails or never answers fails the test.
    void publish(std::string const& topic, nlohmann::json const& data)
    {
        std::optional<boost::system::error_code> done;
        server_->publish(topic, data, [&](boost::system::error_code ec, position) { done = ec; });
        ASSERT_TRUE(run_until([&] { return done.has_value(); })) << "the publish to " << topic << " never answered";
        ASSERT_FALSE(*done) << done->message();
    }

    boost::asio::io_context ioc{1};
    std::uint16_t port = 0;

private:
    struct other_loop {
        boost::asio::io_context ioc{1};
        boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
        std::unique_ptr<server> srv;
        std::thread thread;
    };

    std::unique_ptr<server> make(boost::asio::io_context& io, server_options const& options)
    {
        if (make_backplane_)
            return std::make_unique<server>(io, options, make_backplane_(io.get_executor()));
        if (cluster_)
            return std::make_unique<server>(io, options, cluster_->node(io.get_executor()));
        return std::make_unique<server>(io, options);
    }

    server_options options_;
    backplane_factory make_backplane_;
    std::size_t loops_ = 1;
    std::unique_ptr<loop_cluster> cluster_;  // before the servers: their nodes may go in any order
    std::unique_ptr<server> server_;
    std::vector<std::unique_ptr<other_loop>> others_;
};

// "http://127.0.0.1:<port><target>": the server's address for curl and the HTTP clients.
inline std::string url(live_server const& srv, std::string_view target)
{
    return "http://127.0.0.1:" + std::to_string(srv.port) + std::string(target);
}

}  // namespace switchboard::test
