#pragma once
// Token buckets for the rate limits: one per channel (a member), and a bounded map of them keyed by user or
// address. Loop thread only.

#include <switchboard/security_options.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace switchboard::detail {

using rate_clock = std::chrono::steady_clock;

class token_bucket {
public:
    /// Takes one token under `limit` at `now`; false (and the wait until one is there in `retry_after`) when
    /// the bucket is empty. A disabled limit always allows.
    bool take(rate_limit const& limit, rate_clock::time_point now, std::chrono::milliseconds& retry_after);
    /// True when the bucket has refilled completely by `now`, so forgetting it changes nothing.
    bool full(rate_limit const& limit, rate_clock::time_point now) const;

private:
    rate_clock::time_point last_{};
    // < 0: not used yet (full). A float is precise enough for fractions of a token, and leaves channel_rate room.
    float tokens_ = -1;
};

class keyed_rate_limiter {
public:
    /// Takes one token from `key`'s bucket. With `max_keys` buckets held, new keys pass unlimited until a
    /// sweep (at most once a second) forgets the refilled ones: memory stays bounded, and many addresses at
    /// once still meet the connection limits.
    bool take(std::string const& key, rate_limit const& limit, std::size_t max_keys, rate_clock::time_point now,
              std::chrono::milliseconds& retry_after);
    std::size_t size() const noexcept { return buckets_.size(); }

private:
    void sweep(rate_limit const& limit, rate_clock::time_point now);

    std::unordered_map<std::string, token_bucket> buckets_;
    rate_clock::time_point last_sweep_{};
};

/// The rate-limit state of one channel: its bucket and how many times in a row it was refused.
struct channel_rate {
    // The strikes take the bucket's tail padding: 16 bytes of every WebSocket, where they took 24.
    [[no_unique_address]] token_bucket bucket;
    std::uint32_t strikes = 0;
};

}  // namespace switchboard::detail
