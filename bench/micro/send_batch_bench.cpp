// One fan-out's sends: a system call per subscriber (what the write path does: a non-blocking sendmsg per
// connection with frames) against one io_uring submission for all of them (#17: "measure whether it pays").
// Real loopback TCP connections, 100-byte frames; the receivers are drained between iterations, outside the
// timed part. The kernel's TCP work is the same either way; what io_uring can save is the crossings.
//   build-bench/bench/micro/switchboard-send-batch --benchmark_min_time=1

#include <benchmark/benchmark.h>
#include <liburing.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// `count` connected loopback TCP pairs: the server's ends (written to) and the clients' (drained).
struct connections {
    std::vector<int> server;
    std::vector<int> client;

    explicit connections(std::size_t count)
    {
        int const listener = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener, 4096) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error(std::string("listener: ") + std::strerror(errno));
        for (std::size_t i = 0; i < count; ++i) {
            int const c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // completes on loopback before accept
            int const s = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
            if (c < 0 || s < 0)
                throw std::runtime_error(std::string("connect/accept: ") + std::strerror(errno));
            int one = 1;
            ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as the server's channels are
            client.push_back(c);
            server.push_back(s);
        }
        ::close(listener);
    }
    ~connections()
    {
        for (int fd : server)
            ::close(fd);
        for (int fd : client)
            ::close(fd);
    }
    void drain(std::size_t expected_each)
    {
        std::array<char, 4096> buf;
        for (int fd : client) {
            std::size_t got = 0;
            while (got < expected_each) {
                auto const n = ::recv(fd, buf.data(), buf.size(), 0);
                if (n > 0)
                    got += static_cast<std::size_t>(n);
                else if (n < 0 && errno != EAGAIN)
                    throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
            }
        }
    }
};

constexpr std::size_t frame_bytes = 100;

void sendmsg_each(benchmark::State& state)
{
    connections conns(static_cast<std::size_t>(state.range(0)));
    std::string const frame(frame_bytes, 'x');
    for (auto _ : state) {
        for (int fd : conns.server) {
            iovec iov{const_cast<char*>(frame.data()), frame.size()};
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            if (::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size()))
                state.SkipWithError("short send");
        }
        state.PauseTiming();
        conns.drain(frame.size());
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

void io_uring_batch(benchmark::State& state)
{
    auto const count = static_cast<unsigned>(state.range(0));
    connections conns(count);
    std::string const frame(frame_bytes, 'x');
    io_uring ring;
    if (int const rc = io_uring_queue_init(count, &ring, 0); rc < 0) {
        state.SkipWithError(("io_uring_queue_init: " + std::string(std::strerror(-rc))).c_str());
        return;
    }
    std::vector<iovec> iov(count, iovec{const_cast<char*>(frame.data()), frame.size()});
    std::vector<msghdr> msgs(count);
    for (unsigned i = 0; i < count; ++i) {
        msgs[i].msg_iov = &iov[i];
        msgs[i].msg_iovlen = 1;
    }
    for (auto _ : state) {
        for (unsigned i = 0; i < count; ++i) {
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            io_uring_prep_sendmsg(sqe, conns.server[i], &msgs[i], MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        // One crossing submits every send and waits for them all (loopback sends complete inline).
        io_uring_submit_and_wait(&ring, count);
        io_uring_cqe* cqe = nullptr;
        unsigned head = 0;
        unsigned seen = 0;
        bool short_send = false;
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            short_send = short_send || cqe->res != static_cast<int>(frame.size());
            ++seen;
        }
        io_uring_cq_advance(&ring, seen);
        if (short_send || seen != count)
            state.SkipWithError("short send");
        state.PauseTiming();
        conns.drain(frame.size());
        state.ResumeTiming();
    }
    io_uring_queue_exit(&ring);
    state.SetItemsProcessed(state.iterations() * state.range(0));
}

}  // namespace

BENCHMARK(sendmsg_each)->Arg(100)->Arg(1000)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(io_uring_batch)->Arg(100)->Arg(1000)->MeasureProcessCPUTime()->UseRealTime();
