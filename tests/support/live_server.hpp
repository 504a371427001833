#pragma once
// An in-process switchboard server on 127.0.0.1 with a kernel-chosen port, sharing one io_context with the
// test's clients: run_until drives both, so a test waits on conditions, never on time.

#include "support/run_until.hpp"

#include <switchboard/switchboard.hpp>  // the tests use most of the API

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>

namespace switchboard::test {

class live_server {
public:
    explicit live_server(server_options options = {})
    {
        options.address = "127.0.0.1";
        options.port = 0;
        server_ = std::make_unique<server>(ioc, options);
    }

    /// A server on another backplane, made by `make_backplane(executor)` (e.g. Redis).
    live_server(server_options options,
                std::function<std::unique_ptr<backplane>(boost::asio::any_io_executor)> const& make_backplane)
    {
        options.address = "127.0.0.1";
        options.port = 0;
        server_ = std::make_unique<server>(ioc, options, make_backplane(ioc.get_executor()));
    }

    /// Starts listening; call after setting hooks.
    void start()
    {
        server_->start();
        port = server_->local_endpoint().port();
    }

    ~live_server()
    {
        // Stop gracefully and let the loop run dry: only then is no handler left that points into the server.
        server_->stop();
        ioc.restart();
        auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!ioc.stopped() && std::chrono::steady_clock::now() < deadline)
            ioc.run_one_for(std::chrono::milliseconds(100));
        EXPECT_TRUE(ioc.stopped()) << "the server did not stop within 20 s";
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
    std::unique_ptr<server> server_;
};

}  // namespace switchboard::test
