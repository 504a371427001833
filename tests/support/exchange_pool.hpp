#pragma once
// Runs many scripted exchanges against a live server, a bounded number at once, each on its own connection, and
// gives back their results in script order: the randomized bad-input tests (wire_fuzz, http2_fuzz) send
// thousands of connections' worth of input this way. `Exchange` is made as
// std::make_shared<Exchange>(ioc, script, on_done) and started with start(port); it calls on_done(Result) once.

#include "support/live_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchboard::test {

template <class Exchange, class Result>
std::vector<Result> exchange_all(live_server& srv, std::vector<std::string> const& scripts, std::size_t at_once,
                                 std::chrono::seconds deadline)
{
    // Shared with the exchanges, which may outlive this call if it gives up.
    struct progress {
        std::vector<std::string> scripts;
        std::vector<Result> results;
        std::size_t started = 0;
        std::size_t finished = 0;
        std::function<void()> start_next;
    };
    auto p = std::make_shared<progress>();
    p->scripts = scripts;
    p->results.resize(scripts.size());
    std::weak_ptr<progress> const weak = p;
    p->start_next = [&ioc = srv.ioc, port = srv.port, weak] {
        auto p = weak.lock();
        if (!p)
            return;
        std::size_t const i = p->started++;
        std::make_shared<Exchange>(ioc, p->scripts[i], [weak, i](Result r) {
            auto p = weak.lock();
            if (!p)
                return;
            p->results[i] = std::move(r);
            ++p->finished;
            if (p->started < p->scripts.size())
                p->start_next();
        })->start(port);
    };
    while (p->started < std::min(at_once, scripts.size()))
        p->start_next();
    EXPECT_TRUE(srv.run_until([&] { return p->finished == scripts.size(); }, deadline))
        << p->finished << " of " << scripts.size() << " exchanges ended";
    return std::move(p->results);
}

}  // namespace switchboard::test
