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
    std::size_t max_topics = 100'000;              // topics with state (history or subscribers); publish beyond: error
    std::chrono::seconds sweep_interval{10};       // how often expired history and idle topics are dropped

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
