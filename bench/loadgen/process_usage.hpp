#pragma once
// CPU time and memory of this process and of the server under test (by PID, through /proc), so every result says
// whether it measured the server or the load generator.

namespace loadgen {

/// This process's CPU seconds (user + system), from getrusage.
double cpu_seconds();

/// The server's CPU seconds (utime + stime) from /proc/PID/stat; -1 when unreadable.
double server_cpu_seconds(int pid);

/// VmRSS of a process in bytes; -1 when unreadable. Works on nginx's worker as on any server.
long long server_rss_bytes(int pid);

}  // namespace loadgen
