#pragma once
// Counts heap allocations made by this program, so a benchmark can report allocations per item. The counting is
// a replaced global operator new (allocation_counter.cpp), linked into the micro-benchmark binary only.
//
// Thread-safety: none. The counter is a plain integer because the benchmarks run on one thread and an atomic
// increment would add its own cost to every allocation being timed.

#include <cstdint>

namespace bench {

/// Allocations (every form of operator new) since the program started.
std::uint64_t allocations() noexcept;

}  // namespace bench
