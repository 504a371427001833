#pragma once
// The last messages a node delivered of one topic it follows through a broker (Redis, NATS), kept so that a
// history read from among them is answered by the node itself, without a round trip to the broker. A long poll
// reads its topic's history with every request, from its cursor; so does a client that reconnects.
//
// What a topic keeps has consecutive offsets and ends at the last message the node delivered, or is empty: the
// backplane calls remember() for every message it delivers, in order, and forget() on a gap, an epoch change or
// the end of its subscription. Bounded per topic (a count) and across the node's topics (one recent_budget, in
// bytes, each message counted as its envelope plus 256 bytes): past the budget a topic makes room from its own
// oldest messages, or keeps nothing until there is room. Loop thread only.

#include <switchboard/backplane.hpp>
#include <switchboard/history_options.hpp>
#include <switchboard/message.hpp>
#include <switchboard/position.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

namespace switchboard::detail {

/// Bytes of recent messages every topic of one node keeps together.
struct recent_budget {
    std::size_t limit = 0;
    std::size_t used = 0;
};

class recent_messages {
public:
    /// What a topic keeps: at most 64 messages, and no more than its history holds (`limits`).
    static std::size_t per_topic(history_limits const& limits) noexcept;

    /// Keeps nothing until keep().
    recent_messages() = default;
    recent_messages(std::size_t max_messages, recent_budget& budget) { keep(max_messages, budget); }
    ~recent_messages() { forget(); }
    recent_messages(recent_messages const&) = delete;
    recent_messages& operator=(recent_messages const&) = delete;

    /// From now on keeps up to `max_messages` (0: none) within `budget`, which outlives this.
    void keep(std::size_t max_messages, recent_budget& budget);
    /// `m` was delivered. Not the next offset after what is kept: that is dropped first (a guard; the
    /// backplane forgets at every gap).
    void remember(message_ptr const& m);
    /// Drops what is kept, its bytes back to the budget.
    void forget();

    /// What a history read after `since` returns, when every message after it is kept: `last` is the position
    /// of the last message the node delivered (or where its stream started, with nothing kept yet); a page of
    /// at most `max_bytes` of envelopes, one message at least. Nothing when the read needs the broker: another
    /// epoch, a position before what is kept or past `last`, or a message to return older than `oldest` (the
    /// broker knows what is left of a topic's history past its max_age), or when it keeps none.
    std::optional<history_result> after(position const& since, position const& last, std::size_t max_bytes,
                                        std::chrono::steady_clock::time_point oldest) const;

    std::size_t size() const noexcept { return kept_.size(); }

private:
    std::size_t max_messages_ = 0;
    recent_budget* budget_ = nullptr;
    std::deque<message_ptr> kept_;  // consecutive offsets, the last delivered last
    std::size_t bytes_ = 0;         // their share of the budget
};

}  // namespace switchboard::detail
