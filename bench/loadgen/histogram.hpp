#pragma once
// Latency histogram: log-linear buckets in microseconds, 128 per power of two (< 1% error), exact below 128 us.
// Header-only: record() runs once per delivery.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace loadgen {

class histogram {
public:
    void record(std::uint64_t us)
    {
        ++buckets_[index(us)];
        ++count_;
        max_ = std::max(max_, us);
        sum_ += us;
    }
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
    std::uint64_t percentile(double p) const
    {
        if (count_ == 0)
            return 0;
        auto const rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(count_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            seen += buckets_[i];
            if (seen >= rank)
                return std::min(upper(i), max_);
        }
        return max_;
    }

private:
    static constexpr int sub_bits = 7;
    static std::size_t index(std::uint64_t v)
    {
        if (v < (1u << sub_bits))
            return static_cast<std::size_t>(v);
        int const e = 63 - __builtin_clzll(v);
        auto const sub = (v >> (e - sub_bits)) & ((1u << sub_bits) - 1);
        return static_cast<std::size_t>((e - sub_bits + 1) << sub_bits) + sub;
    }
    static std::uint64_t upper(std::size_t i)
    {
        if (i < (1u << sub_bits))
            return i;
        int const e = static_cast<int>(i >> sub_bits) + sub_bits - 1;
        auto const sub = i & ((1u << sub_bits) - 1);
        return ((std::uint64_t{1} << sub_bits | sub) << (e - sub_bits)) + ((std::uint64_t{1} << (e - sub_bits)) - 1);
    }
    std::array<std::uint64_t, (64 - sub_bits + 1) << sub_bits> buckets_{};
    std::uint64_t count_ = 0, max_ = 0, sum_ = 0;
};

}  // namespace loadgen
