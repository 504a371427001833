#pragma once
// How much slower this build runs than an optimized one. Tests that bound the cost of an operation (to catch a
// quadratic algorithm, not to measure speed: that is bench/'s job) scale their bounds by it, so they keep their
// meaning under AddressSanitizer and UndefinedBehaviorSanitizer in a Debug build, which run ~5-10x slower.

namespace switchboard::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr int build_slowdown = 10;
#else
inline constexpr int build_slowdown = 1;
#endif

}  // namespace switchboard::test
