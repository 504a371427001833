#include "backplanes/recent_messages.hpp"

#include <algorithm>

namespace switchboard::detail {

namespace {

// A kept message's cost: its envelope (what a reader is sent), and the message object with its topic and
// encodings' bookkeeping, as the memory backplane counts its history.
std::size_t footprint(message const& m)
{
    return m.envelope()->size() + 256;
}

}  // namespace

std::size_t recent_messages::per_topic(history_limits const& limits) noexcept
{
    return std::min<std::size_t>(64, limits.max_messages);
}

void recent_messages::keep(std::size_t max_messages, recent_budget& budget)
{
    forget();
    max_messages_ = max_messages;
    budget_ = &budget;
}

void recent_messages::remember(message_ptr const& m)
{
    if (max_messages_ == 0)
        return;
    if (!kept_.empty() && kept_.back()->offset() + 1 != m->offset())
        forget();
    auto const cost = footprint(*m);
    while (!kept_.empty() && (kept_.size() >= max_messages_ || budget_->used + cost > budget_->limit)) {
        auto const freed = footprint(*kept_.front());
        kept_.pop_front();
        bytes_ -= freed;
        budget_->used -= freed;
    }
    if (budget_->used + cost > budget_->limit)
        return;  // the node's other topics hold the budget: this one keeps nothing, and its reads go to the broker
    kept_.push_back(m);
    bytes_ += cost;
    budget_->used += cost;
}

void recent_messages::forget()
{
    if (budget_)
        budget_->used -= bytes_;
    bytes_ = 0;
    kept_.clear();
}

std::optional<history_result> recent_messages::after(position const& since, position const& last,
                                                     std::size_t max_bytes,
                                                     std::chrono::steady_clock::time_point oldest) const
{
    if (max_messages_ == 0 || since.epoch.empty() || since.epoch != last.epoch || since.offset > last.offset)
        return std::nullopt;  // keeping none (recent_bytes 0, or a topic followed for a pattern), every read goes out
    // Kept: (first - 1, last]. Nothing kept still answers a reader already at the end.
    std::uint64_t const first = kept_.empty() ? last.offset + 1 : kept_.front()->offset();
    if (since.offset + 1 < first)
        return std::nullopt;
    history_result out;
    out.latest = last;
    std::size_t bytes = 0;
    for (auto it = kept_.begin() + static_cast<std::ptrdiff_t>(since.offset + 1 - first); it != kept_.end(); ++it) {
        if ((*it)->published_at() < oldest)
            return std::nullopt;
        bytes += (*it)->envelope()->size();
        if (!out.messages.empty() && bytes > max_bytes)
            break;  // a page: the reader asks for the rest after its last message
        out.messages.push_back(*it);
    }
    return out;
}

}  // namespace switchboard::detail
