#pragma once
// The authorize hook as a remote authorization service answers it: the decisions on publishes wait until the test
// lets them go (subscribes are allowed at once). What a test sees through it: how many publishes the server has
// asked about, how many wait at once, and the order the server asked in.

#include "support/live_server.hpp"

#include <switchboard/hooks.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace switchboard::test {

class held_decisions {
public:
    explicit held_decisions(live_server& srv)
    {
        (*srv).hooks().authorize = [this](authorize_request const& r, decision_handler done) {
            if (r.action != authorize_request::kind::publish)
                return done({});
            asked.push_back(r.topic);
            waiting_.push_back(std::move(done));
            most_waiting = std::max(most_waiting, waiting_.size());
        };
    }

    std::size_t waiting() const noexcept { return waiting_.size(); }

    /// Allows the `n` longest waiting (all: every one), oldest first, or newest first when `newest_first`.
    void allow(std::size_t n = static_cast<std::size_t>(-1), bool newest_first = false)
    {
        n = std::min(n, waiting_.size());
        std::vector<decision_handler> now;
        for (std::size_t i = 0; i < n; ++i) {
            now.push_back(std::move(waiting_.front()));
            waiting_.pop_front();
        }
        if (newest_first)
            std::reverse(now.begin(), now.end());
        for (auto& done : now)
            done({});
    }

    std::vector<std::string> asked;  // the topics of the publishes asked about, in order
    std::size_t most_waiting = 0;    // the most that waited at once

private:
    std::deque<decision_handler> waiting_;
};

}  // namespace switchboard::test
