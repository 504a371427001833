#pragma once
// A child process (normally the switchboard server) with its output captured, for end-to-end tests.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace switchboard::test {

// Spawns `path` (searched in PATH when it has no '/') with `args`, stdin from /dev/null, stdout and
// stderr into one pipe, default signal dispositions and no blocked signals, no other inherited file
// descriptors (so the child holds none of the test's sockets). A monitor thread drains the pipe into
// output() all the time (a chatty server would otherwise block once the 64 KiB pipe is full while the test
// runs its own loop) and reaps the child when it exits. The destructor SIGKILLs and reaps the child if
// it is still running (that PID only). The member functions are thread-safe.
class server_process {
public:
    using duration = std::chrono::milliseconds;

    // Throws std::system_error when the program cannot be started. `extra_env` entries ("NAME=value")
    // are added to the test's environment.
    server_process(std::string path, std::vector<std::string> args, std::vector<std::string> extra_env = {});
    ~server_process();
    server_process(server_process const&) = delete;
    server_process& operator=(server_process const&) = delete;

    pid_t pid() const { return pid_; }
    // Not yet reaped.
    bool running() const;

    // Everything the child wrote to stdout and stderr so far.
    std::string output() const;
    // Wait until the output contains `text` / matches `pattern`, the output ends, or the deadline passes.
    bool wait_for_output(std::string_view text, duration deadline = std::chrono::seconds(10));
    bool wait_for_output(std::regex const& pattern, duration deadline = std::chrono::seconds(10));

    // The port of the first "listening on 127.0.0.1:<port>" in the output so far (the line complete).
    std::optional<std::uint16_t> port() const;
    // The same, waiting for that line until `deadline`.
    std::optional<std::uint16_t> wait_for_port(duration deadline = std::chrono::seconds(10));

    // Sends `sig` to the child, unless it has already been reaped.
    void signal(int sig);
    // Waits until the child exits or `deadline` passes: its exit code, or 128 + the signal that ended it.
    std::optional<int> wait_exit(duration deadline = std::chrono::seconds(10));
    // The same, without waiting.
    std::optional<int> exit_status() const;

private:
    void monitor();
    void drain_pipe();
    void try_reap();

    pid_t pid_ = -1;
    int pipe_fd_ = -1;
    int wake_fd_ = -1;
    int pid_fd_ = -1;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::string output_;
    std::optional<int> exit_status_;
    bool output_ended_ = false;
    std::thread monitor_;
};

}  // namespace switchboard::test
