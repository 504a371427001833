#pragma once
// What a process holds in memory, from /proc/<pid>/status: for tests that bound a server's memory.

#include <sys/types.h>

#include <cstddef>
#include <optional>

namespace switchboard::test {

struct process_memory {
    std::size_t resident = 0;       // VmRSS: resident now, bytes
    std::size_t peak_resident = 0;  // VmHWM: the most it was resident since it started, bytes
};

/// The memory of process `pid`; nothing when it cannot be read (the process is gone).
std::optional<process_memory> memory_of(pid_t pid);

}  // namespace switchboard::test
