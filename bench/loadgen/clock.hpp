#pragma once
// One clock for every timestamp: publishers stamp payloads with it and subscribers read it on arrival, so a
// latency is a difference of two readings of the same steady_clock on the same machine.

#include <chrono>
#include <cstdint>

namespace loadgen {

using steady = std::chrono::steady_clock;

/// steady_clock now, in nanoseconds since its epoch.
inline std::uint64_t now_ns()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count());
}

}  // namespace loadgen
