#include "ops/metrics.hpp"

#include <switchboard/disconnect.hpp>

#include <algorithm>
#include <cstdio>

namespace switchboard::detail {
namespace {

std::string number(double v)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    return buffer;
}

}  // namespace

void histogram::observe(double seconds) noexcept
{
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i])
        ++i;
    ++counts_[i];
    sum_ += seconds;
    ++count_;
}

void histogram::render(std::string& out, std::string_view name, std::string_view help) const
{
    std::string const n(name);
    out += "# HELP " + n + " " + std::string(help) + "\n# TYPE " + n + " histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += counts_[i];
        out += n + "_bucket{le=\"" + number(bounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    cumulative += counts_.back();
    out += n + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
    out += n + "_sum " + number(sum_) + "\n";
    out += n + "_count " + std::to_string(count_) + "\n";
}

double histogram::quantile(double q) const noexcept
{
    if (count_ == 0)
        return 0;
    auto const rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += counts_[i];
        if (cumulative > rank)
            return bounds[i];
    }
    return bounds.back();
}

std::string disconnect_label(std::uint16_t code)
{
    static std::array<std::uint16_t, 20> const named = [] {
        std::array<std::uint16_t, 20> codes{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,  // RFC 6455
                                            disconnect::slow_consumer().code,   disconnect::write_failed().code,
                                            disconnect::internal_error().code,  disconnect::no_pong().code,
                                            disconnect::token_expired().code,   disconnect::rate_limited().code,
                                            disconnect::by_operator().code,     disconnect::stream_gap().code,
                                            disconnect::rejected().code,        disconnect::shutdown().code,
                                            disconnect::invalid_utf8().code};
        return codes;
    }();
    if (std::find(named.begin(), named.end(), code) != named.end())
        return std::to_string(code);
    if (code >= 1000 && code <= 2999)
        return "1000-2999";
    if (code >= 3000 && code <= 3999)
        return "3000-3999";
    if (code >= 4000 && code <= 4999)
        return "4000-4999";
    return "other";
}

std::size_t transport_index(std::string_view transport) noexcept
{
    if (transport == "websocket")
        return 0;
    if (transport == "sse")
        return 1;
    return 2;
}

}  // namespace switchboard::detail
