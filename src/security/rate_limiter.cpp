#include "security/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace switchboard::detail {
namespace {

double capacity(rate_limit const& limit)
{
    return limit.burst > 0 ? static_cast<double>(limit.burst) : std::max(1.0, std::floor(limit.per_second));
}

double refilled(double tokens, rate_limit const& limit, rate_clock::time_point last, rate_clock::time_point now)
{
    if (tokens < 0)
        return capacity(limit);
    double const elapsed = std::chrono::duration<double>(now - last).count();
    return std::min(capacity(limit), tokens + std::max(0.0, elapsed) * limit.per_second);
}

}  // namespace

bool token_bucket::take(rate_limit const& limit, rate_clock::time_point now, std::chrono::milliseconds& retry_after)
{
    if (!limit.enabled())
        return true;
    tokens_ = static_cast<float>(refilled(tokens_, limit, last_, now));
    last_ = now;
    if (tokens_ >= 1) {
        tokens_ -= 1;
        return true;
    }
    retry_after = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil((1 - tokens_) / limit.per_second * 1000)));
    return false;
}

bool token_bucket::full(rate_limit const& limit, rate_clock::time_point now) const
{
    return !limit.enabled() || refilled(tokens_, limit, last_, now) >= capacity(limit);
}

bool keyed_rate_limiter::take(std::string const& key, rate_limit const& limit, std::size_t max_keys,
                              rate_clock::time_point now, std::chrono::milliseconds& retry_after)
{
    if (!limit.enabled())
        return true;
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_keys)
            sweep(limit, now);
        if (buckets_.size() >= max_keys)
            return true;
        it = buckets_.emplace(key, token_bucket{}).first;
    }
    return it->second.take(limit, now, retry_after);
}

void keyed_rate_limiter::sweep(rate_limit const& limit, rate_clock::time_point now)
{
    if (now - last_sweep_ < std::chrono::seconds(1))
        return;
    last_sweep_ = now;
    std::erase_if(buckets_, [&](auto const& entry) { return entry.second.full(limit, now); });
}

}  // namespace switchboard::detail
