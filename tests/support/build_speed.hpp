#pragma once
// How much slower this build runs than an optimized one. Tests that bound the cost of an operation (to catch a
// quadratic algorithm, not to measure speed: that is bench/'s job) scale their bounds by it, so they keep their
// meaning under AddressSanitizer and UndefinedBehaviorSanitizer in a Debug build, which run ~5-10x slower.
// They measure the calling thread's CPU time, which other tests on a busy machine do not inflate as they do the
// wall clock.

#include <chrono>
#include <ctime>

namespace switchboard::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr int build_slowdown = 10;
#else
inline constexpr int build_slowdown = 1;
#endif

/// CPU time the calling thread has used so far.
inline std::chrono::nanoseconds thread_cpu_time()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

}  // namespace switchboard::test
