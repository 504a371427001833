#include "write_path/frame_queue.hpp"

namespace switchboard::detail {

bool frame_queue::push(shared_bytes frame, queue_limits const& limits)
{
    if (frames() + 1 > limits.max_frames || bytes_ + frame->size() > limits.max_bytes)
        return false;
    force_push(std::move(frame));
    return true;
}

void frame_queue::force_push(shared_bytes frame)
{
    if (frame->empty())
        return;
    bytes_ += frame->size();
    frames_.push_back(std::move(frame));
}

std::size_t frame_queue::gather(iovec* out, std::size_t max) const
{
    std::size_t n = 0;
    for (std::size_t i = head_; i < frames_.size() && n < max; ++i, ++n) {
        std::size_t const skip = i == head_ ? head_offset_ : 0;
        out[n].iov_base = const_cast<char*>(frames_[i]->data() + skip);
        out[n].iov_len = frames_[i]->size() - skip;
    }
    return n;
}

void frame_queue::consume(std::size_t n)
{
    bytes_ -= n;
    while (n > 0) {
        std::size_t const left = frames_[head_]->size() - head_offset_;
        if (n < left) {
            head_offset_ += n;
            return;
        }
        n -= left;
        frames_[head_].reset();
        ++head_;
        head_offset_ = 0;
    }
    if (head_ == frames_.size()) {
        frames_.clear();
        head_ = 0;
    } else if (head_ > 64 && head_ * 2 > frames_.size()) {
        // Reclaim the sent prefix once it dominates, so a queue that never fully drains stays compact.
        frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

void frame_queue::drop_unsent()
{
    std::size_t const keep = head_offset_ > 0 ? head_ + 1 : head_;
    for (std::size_t i = keep; i < frames_.size(); ++i)
        bytes_ -= frames_[i]->size();
    frames_.resize(keep);
}

void frame_queue::clear()
{
    frames_.clear();
    head_ = head_offset_ = bytes_ = 0;
}

void frame_queue::trim()
{
    if (empty())
        std::vector<shared_bytes>().swap(frames_);
}

}  // namespace switchboard::detail
