#pragma once
// One system call for a loop turn's sends. Every delivery to a connection is a send; at a fixed publish rate
// each connection has one frame per turn, so a fan-out to N connections was N sendmsg calls, each crossing
// into the kernel on its own. Where io_uring is available, the turn's flush collects those sends as io_uring
// entries and submits them together: the kernel runs each one inline as sendmsg would (MSG_DONTWAIT: a full
// socket answers EAGAIN at once rather than waiting), then each connection learns its result. Same sends, same
// order per connection, one crossing. Measured in bench/micro (send_batch_bench) and docs/benchmarks.md.
//
// Loop-thread only, like the rest of the write path. Without io_uring (an old kernel, a seccomp profile that
// forbids it, the option turned off) open() gives nothing and every connection sends for itself.

#include "write_path/frame_queue.hpp"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <memory>
#include <vector>

struct io_uring;

namespace switchboard::detail {

/// A connection whose send went into a batch: told its result once the batch is submitted.
class batched_sender {
public:
    /// What sendmsg would have returned: bytes sent, or -errno.
    virtual void on_batch_sent(ssize_t result) = 0;

protected:
    ~batched_sender() = default;
};

class send_batch {
public:
    /// The loop's batch, or null when io_uring cannot be used here (then the reason is logged once).
    static std::unique_ptr<send_batch> open();
    ~send_batch();
    send_batch(send_batch const&) = delete;
    send_batch& operator=(send_batch const&) = delete;

    /// Blocks one send takes. A connection at a fixed rate has one or two frames per turn; one with more than this
    /// sends by itself (plain_io): a send from the batch would take only these, and a sendmsg the rest.
    static constexpr std::size_t max_blocks = 16;

    /// Between begin() and submit(), connections add their sends instead of making them.
    void begin() noexcept { collecting_ = true; }
    bool collecting() const noexcept { return collecting_; }
    /// Queues one gathered send of `queue`'s unsent bytes (its first blocks) on `fd`. The queue's gathered bytes
    /// must stay as they are until `sender` is told; `sender` is held alive until then.
    void add(int fd, frame_queue const& queue, std::shared_ptr<batched_sender> sender);
    /// The same for one buffer (an HTTP answer), which must stay as it is until `sender` is told.
    void add(int fd, void const* data, std::size_t size, std::shared_ptr<batched_sender> sender);
    /// Sends what was added, in one system call, tells each sender its result, and stops collecting.
    void submit();

private:
    struct entry {
        std::shared_ptr<batched_sender> sender;
        msghdr msg{};
    };

    explicit send_batch(std::unique_ptr<::io_uring> ring);
    /// The next slot's message, its iovecs at msg_iov (max_blocks of them), to fill before queue_send.
    msghdr& next_slot(std::shared_ptr<batched_sender> sender);
    void queue_send(int fd);
    void send_added();

    std::unique_ptr<::io_uring> ring_;
    std::vector<entry> entries_;  // one per ring slot, reused
    std::vector<iovec> iov_;      // max_blocks per slot
    struct result {
        unsigned index;
        int res;
    };
    std::vector<result> results_;  // one submission's, reaped before anyone is told
    unsigned added_ = 0;
    bool collecting_ = false;
};

}  // namespace switchboard::detail
