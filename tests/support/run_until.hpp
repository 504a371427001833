#pragma once
// Drives an io_context until a condition holds: the one way tests wait for an event.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace switchboard::test {

// Runs handlers on `ioc` from the calling thread until `pred()` is true or `deadline` has passed,
// and returns `pred()`. Checks `pred` before running anything, then after every few handlers, and at
// least every 10 ms while the loop is idle (so a condition set by another thread is seen too).
// Blocks on the loop while waiting, never sleeps; restarts `ioc` if it was stopped. Exceptions thrown by
// handlers propagate. Not thread-safe: only one thread may drive `ioc` through this call at a time.
bool run_until(boost::asio::io_context& ioc, std::function<bool()> pred, std::chrono::milliseconds deadline);

// Runs `ioc` for `duration` (for "nothing must arrive" checks): same as `run_until` with a false predicate.
void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds duration);

}  // namespace switchboard::test
