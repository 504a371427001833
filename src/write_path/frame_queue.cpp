#include "write_path/frame_queue.hpp"

namespace switchboard::detail {

bool frame_queue::push(shared_bytes frame, queue_limits const& limits)
{
    if (frames() + 1 > limits.max_frames || bytes() + frame->size() > limits.max_bytes)
        return false;
    force_push(std::move(frame));
    return true;
}

void frame_queue::force_push(shared_bytes frame)
{
    if (frame->empty())
        return;
    if (!q_)
        q_ = std::make_unique<state>();
    q_->bytes += frame->size();
    q_->frames.push_back(std::move(frame));
}

std::size_t frame_queue::gather(iovec* out, std::size_t max) const
{
    if (!q_)
        return 0;
    auto const& frames = q_->frames;
    std::size_t n = 0;
    for (std::size_t i = q_->head; i < frames.size() && n < max; ++i, ++n) {
        std::size_t const skip = i == q_->head ? q_->head_offset : 0;
        out[n].iov_base = const_cast<char*>(frames[i]->data() + skip);
        out[n].iov_len = frames[i]->size() - skip;
    }
    return n;
}

void frame_queue::consume(std::size_t n)
{
    if (n == 0)
        return;
    auto& q = *q_;
    q.bytes -= n;
    while (n > 0) {
        std::size_t const left = q.frames[q.head]->size() - q.head_offset;
        if (n < left) {
            q.head_offset += n;
            return;
        }
        n -= left;
        q.frames[q.head].reset();
        ++q.head;
        q.head_offset = 0;
    }
    if (q.head == q.frames.size()) {
        q_.reset();
    } else if (q.head > 64 && q.head * 2 > q.frames.size()) {
        // Reclaim the sent prefix once it dominates, so a queue that never fully drains stays compact.
        q.frames.erase(q.frames.begin(), q.frames.begin() + static_cast<std::ptrdiff_t>(q.head));
        q.head = 0;
    }
}

void frame_queue::drop_unsent()
{
    if (!q_)
        return;
    auto& q = *q_;
    std::size_t const keep = q.head_offset > 0 ? q.head + 1 : q.head;
    for (std::size_t i = keep; i < q.frames.size(); ++i)
        q.bytes -= q.frames[i]->size();
    q.frames.resize(keep);
    if (q.head == keep)
        q_.reset();
}

void frame_queue::clear()
{
    q_.reset();
}

}  // namespace switchboard::detail
