#pragma once
// A channel's outbound queue: shared, immutable byte blocks waiting for the socket, bounded in bytes and blocks.
// Frames made once per message are queued by pointer, so a fan-out to N channels copies no payload. An empty queue
// is one null pointer: every idle connection holds one. Its memory lives from the first push to the last byte
// sent, most often within one loop turn, so a storm of connections being set up leaves no block per connection
// behind (freed at a later tick, they were holes between the connections' long-lived objects).

#include <switchboard/message.hpp>

#include <boost/container/small_vector.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <memory>

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

    bool empty() const noexcept { return !q_ || q_->head == q_->frames.size(); }
    std::size_t bytes() const noexcept { return q_ ? q_->bytes : 0; }
    std::size_t frames() const noexcept { return q_ ? q_->frames.size() - q_->head : 0; }
    void clear();

private:
    // Made by the first push into an empty queue: one allocation per burst (up to two frames), not per frame.
    struct state {
        boost::container::small_vector<shared_bytes, 2> frames;
        std::size_t head = 0;         // first unsent frame
        std::size_t head_offset = 0;  // bytes of frames[head] already sent
        std::size_t bytes = 0;        // unsent bytes
    };
    std::unique_ptr<state> q_;
};

}  // namespace switchboard::detail
