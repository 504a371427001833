#include "support/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <system_error>

extern char** environ;

namespace switchboard::test {

namespace {

// How often the monitor checks the child when the kernel gives no pidfd to wait on.
constexpr int reap_check_ms = 10;

[[noreturn]] void throw_errno(int error, std::string const& what) {
    throw std::system_error(error, std::generic_category(), what);
}

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

// A descriptor that becomes readable when the child exits, or -1 (then the monitor polls waitpid).
int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    return -1;
#endif
}

// The port in the first "listening on 127.0.0.1:<port>"; the digits must be followed by something
// (the line's end) so that a half-written line is not taken. Scanned by hand: GCC 12 with sanitizers
// warns inside std::regex's compiler, which -Werror turns into a build failure.
std::optional<std::uint16_t> find_listening_port(std::string_view output) {
    constexpr std::string_view prefix = "listening on 127.0.0.1:";
    auto const at = output.find(prefix);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    auto const digits = output.substr(at + prefix.size());
    std::uint32_t port = 0;
    auto const [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end == digits.data() + digits.size() || port == 0 || port > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(port);
}

// posix_spawn's C structures, destroyed whatever happens.
struct spawn_setup {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;

    explicit spawn_setup(int out_fd) {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
        posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
        // Asio does not open sockets close-on-exec: without this the child would hold copies of the test's
        // sockets, and closing one in the test would not end its connection.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
#endif
        // The test runner may block or ignore signals; the server must see SIGTERM and SIGPIPE as usual.
        sigset_t none;
        sigset_t all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    ~spawn_setup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    spawn_setup(spawn_setup const&) = delete;
    spawn_setup& operator=(spawn_setup const&) = delete;
};

}  // namespace

server_process::server_process(std::string path, std::vector<std::string> args, std::vector<std::string> extra_env) {
    std::vector<char*> argv{path.data()};
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        envp.push_back(*e);
    }
    for (auto& e : extra_env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
        throw_errno(errno, "pipe2");
    }
    int rc = 0;
    {
        spawn_setup setup(fds[1]);
        rc = ::posix_spawnp(&pid_, path.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
    }
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        throw_errno(rc, "posix_spawn " + path);
    }
    pipe_fd_ = fds[0];
    ::fcntl(pipe_fd_, F_SETFL, ::fcntl(pipe_fd_, F_GETFL) | O_NONBLOCK);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0) {
        auto const error = errno;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        ::close(pipe_fd_);
        throw_errno(error, "eventfd");
    }
    pid_fd_ = open_pidfd(pid_);
    monitor_ = std::thread([this] { monitor(); });
}

server_process::~server_process() {
    {
        std::lock_guard lock(mutex_);
        if (!exit_status_) {
            ::kill(pid_, SIGKILL);
        }
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
    monitor_.join();
    if (!exit_status_) {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    for (int fd : {pipe_fd_, wake_fd_, pid_fd_}) {
        if (fd >= 0) {
            ::close(fd);
        }
    }
}

void server_process::monitor() {
    // Only this thread writes exit_status_ and pipe_fd_, so it reads them without the lock.
    while (pipe_fd_ >= 0 || !exit_status_) {
        std::array<pollfd, 3> fds{};
        nfds_t count = 0;
        fds[count++] = {wake_fd_, POLLIN, 0};
        int const pipe_index = pipe_fd_ >= 0 ? static_cast<int>(count) : -1;
        if (pipe_fd_ >= 0) {
            fds[count++] = {pipe_fd_, POLLIN, 0};
        }
        bool const watch_pid = !exit_status_ && pid_fd_ >= 0;
        if (watch_pid) {
            fds[count++] = {pid_fd_, POLLIN, 0};
        }
        int const timeout = (!exit_status_ && pid_fd_ < 0) ? reap_check_ms : -1;
        if (::poll(fds.data(), count, timeout) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[0].revents != 0) {
            return;  // the destructor wants us gone
        }
        if (pipe_index >= 0 && fds[pipe_index].revents != 0) {
            drain_pipe();
        }
        if (!exit_status_ && (!watch_pid || fds[count - 1].revents != 0)) {
            try_reap();
        }
    }
}

void server_process::drain_pipe() {
    std::array<char, 64 * 1024> buffer;
    for (;;) {
        auto const n = ::read(pipe_fd_, buffer.data(), buffer.size());
        if (n > 0) {
            std::lock_guard lock(mutex_);
            output_.append(buffer.data(), static_cast<std::size_t>(n));
            changed_.notify_all();
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        // End of output: every copy of the write end (the child's, its children's) is closed.
        ::close(pipe_fd_);
        std::lock_guard lock(mutex_);
        pipe_fd_ = -1;
        output_ended_ = true;
        changed_.notify_all();
        return;
    }
}

void server_process::try_reap() {
    // Under the lock, so signal() never sends to a PID that was reaped (and maybe reused) meanwhile.
    std::lock_guard lock(mutex_);
    int status = 0;
    auto const r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        exit_status_ = decode_status(status);
    } else if (r < 0 && errno != EINTR) {
        exit_status_ = -1;  // not our child any more: nothing left to wait for
    }
    if (exit_status_) {
        changed_.notify_all();
    }
}

bool server_process::running() const {
    std::lock_guard lock(mutex_);
    return !exit_status_;
}

std::string server_process::output() const {
    std::lock_guard lock(mutex_);
    return output_;
}

bool server_process::wait_for_output(std::string_view text, duration deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return output_.find(text) != std::string::npos || output_ended_; }) &&
           output_.find(text) != std::string::npos;
}

bool server_process::wait_for_output(std::regex const& pattern, duration deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return std::regex_search(output_, pattern) || output_ended_; }) &&
           std::regex_search(output_, pattern);
}

std::optional<std::uint16_t> server_process::port() const {
    std::lock_guard lock(mutex_);
    return find_listening_port(output_);
}

std::optional<std::uint16_t> server_process::wait_for_port(duration deadline) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, deadline, [&] { return find_listening_port(output_) || output_ended_; });
    return find_listening_port(output_);
}

void server_process::signal(int sig) {
    std::lock_guard lock(mutex_);
    if (!exit_status_) {
        ::kill(pid_, sig);
    }
}

std::optional<int> server_process::wait_exit(duration deadline) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, deadline, [&] { return exit_status_.has_value(); });
    return exit_status_;
}

std::optional<int> server_process::exit_status() const {
    std::lock_guard lock(mutex_);
    return exit_status_;
}

}  // namespace switchboard::test
