#include "write_path/send_batch.hpp"

#include <liburing.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace switchboard::detail {
namespace {

// Sends one submission carries; a larger turn is submitted in several.
constexpr unsigned slots = 1024;

// Whether a send with MSG_DONTWAIT on a full socket completes at once with EAGAIN, as submit() counts on (a
// kernel that instead waited for room would stall the loop): fills a socket pair through `ring` and sees.
bool completes_at_once(::io_uring& ring)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
        return false;
    static char chunk[64 * 1024];
    iovec iov{chunk, sizeof chunk};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    bool answered_eagain = false;
    bool stalled = false;
    for (int i = 0; i < 256 && !answered_eagain && !stalled; ++i) {
        ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring);
        ::io_uring_prep_sendmsg(sqe, fds[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        ::__kernel_timespec timeout{0, 200'000'000};
        ::io_uring_cqe* cqe = nullptr;
        if (::io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &timeout, nullptr) < 0 || !cqe) {
            stalled = true;  // still in flight: the ring is closed with it below
            break;
        }
        answered_eagain = cqe->res == -EAGAIN;
        stalled = cqe->res < 0 && !answered_eagain;
        ::io_uring_cqe_seen(&ring, cqe);
    }
    ::close(fds[0]);
    ::close(fds[1]);
    return answered_eagain && !stalled;
}

}  // namespace

std::unique_ptr<send_batch> send_batch::open()
{
    auto ring = std::make_unique<::io_uring>();
    if (int const rc = ::io_uring_queue_init(slots, ring.get(), 0); rc < 0) {
        spdlog::info("io_uring unavailable ({}): each connection sends with its own sendmsg", std::strerror(-rc));
        return nullptr;
    }
    if (!completes_at_once(*ring)) {
        ::io_uring_queue_exit(ring.get());
        spdlog::info("io_uring does not complete a send to a full socket at once here: each connection sends "
                     "with its own sendmsg");
        return nullptr;
    }
    return std::unique_ptr<send_batch>(new send_batch(std::move(ring)));
}

send_batch::send_batch(std::unique_ptr<::io_uring> ring)
    : ring_(std::move(ring)), entries_(slots), iov_(slots * max_blocks)
{
    results_.reserve(slots);
}

send_batch::~send_batch()
{
    ::io_uring_queue_exit(ring_.get());
}

void send_batch::add(int fd, frame_queue const& queue, std::shared_ptr<batched_sender> sender)
{
    auto& msg = next_slot(std::move(sender));
    msg.msg_iovlen = queue.gather(msg.msg_iov, max_blocks);
    queue_send(fd);
}

void send_batch::add(int fd, void const* data, std::size_t size, std::shared_ptr<batched_sender> sender)
{
    auto& msg = next_slot(std::move(sender));
    msg.msg_iov[0] = iovec{const_cast<void*>(data), size};
    msg.msg_iovlen = 1;
    queue_send(fd);
}

msghdr& send_batch::next_slot(std::shared_ptr<batched_sender> sender)
{
    if (added_ == slots)
        send_added();  // a full ring: these go now, the rest in the next submission
    auto& e = entries_[added_];
    e.sender = std::move(sender);
    e.msg = msghdr{};
    e.msg.msg_iov = &iov_[added_ * max_blocks];
    return e.msg;
}

void send_batch::queue_send(int fd)
{
    ::io_uring_sqe* sqe = ::io_uring_get_sqe(ring_.get());  // never null: as many slots as entries
    // MSG_DONTWAIT: a full socket completes with EAGAIN at once instead of being retried by the kernel later,
    // so every send has its result when the submission returns.
    ::io_uring_prep_sendmsg(sqe, fd, &entries_[added_].msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    ::io_uring_sqe_set_data64(sqe, added_);
    ++added_;
}

void send_batch::submit()
{
    send_added();
    collecting_ = false;
}

void send_batch::send_added()
{
    if (added_ == 0)
        return;
    unsigned const count = added_;
    int rc;
    do
        rc = ::io_uring_submit_and_wait(ring_.get(), count);
    while (rc == -EINTR);
    // Reap before telling anyone: a sender told may add again (ring slots must be free by then).
    results_.clear();
    ::io_uring_cqe* cqe = nullptr;
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_for_each_cqe(ring_.get(), head, cqe)
    {
        results_.push_back({static_cast<unsigned>(::io_uring_cqe_get_data64(cqe)), cqe->res});
        ++seen;
    }
    ::io_uring_cq_advance(ring_.get(), seen);
    added_ = 0;
    if (rc < 0)
        spdlog::warn("io_uring submission failed: {}", std::strerror(-rc));
    // What a sender does when told (sends the rest of its queue, closes, refills from a replay) goes straight
    // to the socket: the entries are being read.
    bool const collecting = collecting_;
    collecting_ = false;
    for (auto [index, res] : results_)
        if (index < count && entries_[index].sender) {
            auto sender = std::move(entries_[index].sender);
            sender->on_batch_sent(res);
        }
    // Not completed (a submission that failed as a whole; never a send, with MSG_DONTWAIT): each sender
    // retries by itself, as if its socket had been full.
    for (unsigned i = 0; i < count; ++i)
        if (auto sender = std::move(entries_[i].sender))
            sender->on_batch_sent(-EAGAIN);
    collecting_ = collecting;
}

}  // namespace switchboard::detail
