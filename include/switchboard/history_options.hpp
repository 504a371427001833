#pragma once
// How much of each topic's stream a backplane keeps for resuming clients. Every backplane reads the same
// options (the memory backplane in this process, the Redis backplane in Redis), so a node behaves alike on both.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard {

/// How much of a topic's stream is kept for resuming clients.
struct history_limits {
    std::size_t max_messages = 10'000;            // per topic; 0 keeps no history
    std::chrono::seconds max_age{300};            // per message
};

struct history_options {
    history_limits limits;                         // the server-wide default
    struct prefix_rule {
        std::string prefix;                        // topics starting with this (longest prefix wins)
        history_limits limits;
    };
    std::vector<prefix_rule> overrides;

    // The memory backplane's bounds across topics (Redis is bounded by its own maxmemory, docs/scaling.md).
    // Bytes of every topic's history together: past it the oldest messages of all topics go first, and a
    // client resuming from before them learns it (recovered:false). Counted per message as its envelope plus
    // 256 bytes of bookkeeping.
    std::size_t max_bytes = 256 * 1024 * 1024;
    // Topics with state (history, subscribers, or an idle position kept for resuming clients). An idle topic
    // (no subscriber, no history) gives its room to a new one at once; past it, with none idle, a publish or
    // subscribe to a new topic gets too_many_topics.
    std::size_t max_topics = 100'000;
    // Topics with state that one client (its user when authenticated, else its IP address) made by a publish or
    // a subscribe; its idle ones give their room first, then that client's publish or subscribe to a new topic
    // gets too_many_topics, and nobody else's. 0: no bound per client.
    std::size_t max_topics_per_client = 1'000;
    std::chrono::seconds sweep_interval{10};       // how often expired history and idle topics are dropped

    // Idempotent publish (publish_options.hpp): how long a topic remembers a publish's idempotency key, so that a
    // retry with it within this window is answered with the first publish's position and not published again.
    // Every backplane reads it (memory: its store; Redis: each key's expiry; NATS: the stream's duplicate window,
    // at most its max_age). 0: keys are not remembered (a retry publishes again).
    std::chrono::milliseconds idempotency_window{300'000};
    // The memory backplane's bound on keys remembered across topics (each costs about its topic, its key and
    // 200 bytes): past it the oldest key is forgotten first, and a retry with it publishes again. Redis and NATS
    // hold keys in the broker, bounded by the window (and Redis' maxmemory).
    std::size_t max_idempotency_keys = 100'000;

    /// The limits that apply to `topic`: the longest matching prefix rule, else the default.
    history_limits const& limits_for(std::string_view topic) const noexcept
    {
        history_limits const* best = &limits;
        std::size_t best_length = 0;
        for (auto const& rule : overrides)
            if (topic.starts_with(rule.prefix) && rule.prefix.size() >= best_length) {
                best = &rule.limits;
                best_length = rule.prefix.size();
            }
        return *best;
    }
};

}  // namespace switchboard
