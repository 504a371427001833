#pragma once
// A channel's outbound queue: shared, immutable byte blocks waiting for the socket, bounded in bytes and blocks.
// Frames made once per message are queued by pointer, so a fan-out to N channels copies no payload.

#include <switchboard/message.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <vector>

namespace switchboard::detail {

struct queue_limits {
    std::size_t max_bytes;
    std::size_t max_frames;
};

class frame_queue {
public:
    /// Appends `frame`; returns false (and queues nothing) when that would pass `limits`.
    bool push(shared_bytes frame, queue_limits const& limits);
    /// Appends regardless of limits: for the few control bytes (a close frame or event, an HTTP refusal) that
    /// must not be refused. Pongs and command replies are bounded like messages.
    void force_push(shared_bytes frame);

    /// Fills up to `max` iovecs with the queued bytes, oldest first; returns how many.
    std::size_t gather(iovec* out, std::size_t max) const;
    /// Drops `n` bytes from the front (after a write).
    void consume(std::size_t n);

    /// Drops every frame not yet begun, keeping a partly sent one (cutting it would corrupt the stream).
    void drop_unsent();

    bool empty() const noexcept { return head_ == frames_.size(); }
    std::size_t bytes() const noexcept { return bytes_; }
    std::size_t frames() const noexcept { return frames_.size() - head_; }
    void clear();
    /// Frees the block list's own memory if nothing is queued: a connection that went quiet holds no queue.
    void trim();

private:
    std::vector<shared_bytes> frames_;
    std::size_t head_ = 0;         // first unsent frame
    std::size_t head_offset_ = 0;  // bytes of frames_[head_] already sent
    std::size_t bytes_ = 0;        // unsent bytes
};

}  // namespace switchboard::detail
