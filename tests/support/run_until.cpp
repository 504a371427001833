#include "support/run_until.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <algorithm>

namespace switchboard::test {

namespace {

// Longest time the loop blocks without looking at the predicate, for conditions set off the loop.
constexpr auto idle_slice = std::chrono::milliseconds(10);
// Handlers run between two looks at the predicate: it may be O(clients), so not after every handler.
constexpr int batch = 64;

}  // namespace

bool run_until(boost::asio::io_context& ioc, std::function<bool()> pred, std::chrono::milliseconds deadline) {
    auto const end = std::chrono::steady_clock::now() + deadline;
    // Without outstanding work run_one_for would return at once and this loop would spin;
    // the guard makes it block until a handler is ready or the slice ends.
    auto guard = boost::asio::make_work_guard(ioc);
    while (!pred()) {
        auto const now = std::chrono::steady_clock::now();
        if (now >= end) {
            break;
        }
        if (ioc.stopped()) {
            ioc.restart();
        }
        auto const wait = std::min<std::chrono::steady_clock::duration>(end - now, idle_slice);
        if (ioc.run_one_for(wait) == 0) {
            continue;
        }
        for (int i = 1; i < batch && ioc.poll_one() != 0; ++i) {
        }
    }
    return pred();
}

void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds duration) {
    run_until(ioc, [] { return false; }, duration);
}

}  // namespace switchboard::test
