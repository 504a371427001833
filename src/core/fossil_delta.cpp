#include "core/fossil_delta.hpp"

#include <cstdint>
#include <vector>

namespace switchboard::detail {
namespace {

constexpr std::string_view digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~";

// Matches shorter than a block are not worth a copy: its command takes a few bytes itself.
constexpr std::size_t block = 16;
// Candidates looked at per target position: bounds the work on sources that repeat one block many times.
constexpr int max_candidates = 64;

void put_number(std::string& out, std::uint64_t n)
{
    char buf[16];
    int len = 0;
    do {
        buf[len++] = digits[n & 63];
        n >>= 6;
    } while (n != 0);
    while (len > 0)
        out += buf[--len];
}

int digit_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    if (c == '_')
        return 36;
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 37;
    if (c == '~')
        return 63;
    return -1;
}

// Reads a number at `pos`; nothing when there is no digit or it overflows.
std::optional<std::uint64_t> get_number(std::string_view text, std::size_t& pos)
{
    std::uint64_t n = 0;
    std::size_t const start = pos;
    for (; pos < text.size(); ++pos) {
        int const v = digit_value(text[pos]);
        if (v < 0)
            break;
        if (n >> 58)
            return std::nullopt;
        n = (n << 6) | static_cast<std::uint64_t>(v);
    }
    if (pos == start)
        return std::nullopt;
    return n;
}

std::uint32_t checksum(std::string_view s) noexcept
{
    std::uint32_t sum = 0;
    std::size_t i = 0;
    for (; i + 4 <= s.size(); i += 4)
        sum += (std::uint32_t(std::uint8_t(s[i])) << 24) | (std::uint32_t(std::uint8_t(s[i + 1])) << 16) |
               (std::uint32_t(std::uint8_t(s[i + 2])) << 8) | std::uint32_t(std::uint8_t(s[i + 3]));
    for (int shift = 24; i < s.size(); ++i, shift -= 8)
        sum += std::uint32_t(std::uint8_t(s[i])) << shift;
    return sum;
}

bool continuation(char c) noexcept
{
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// A polynomial hash of `block` bytes that rolls one byte forward in O(1).
struct rolling_hash {
    static constexpr std::uint32_t base = 257;
    static constexpr std::uint32_t top = [] {
        std::uint32_t p = 1;
        for (std::size_t i = 1; i < block; ++i)
            p *= base;
        return p;
    }();
    std::uint32_t value = 0;

    void init(std::string_view s) noexcept
    {
        value = 0;
        for (std::size_t i = 0; i < block; ++i)
            value = value * base + std::uint8_t(s[i]);
    }
    void roll(char out, char in) noexcept { value = (value - std::uint8_t(out) * top) * base + std::uint8_t(in); }
};

void put_literal(std::string& out, std::string_view bytes)
{
    if (bytes.empty())
        return;
    put_number(out, bytes.size());
    out += ':';
    out += bytes;
}

}  // namespace

std::string make_delta(std::string_view source, std::string_view target)
{
    std::string out;
    put_number(out, target.size());
    out += '\n';

    if (source.size() >= block && target.size() >= block) {
        // The source's blocks at multiples of `block`, chained by hash.
        std::size_t const blocks = source.size() / block;
        std::size_t buckets = 1;
        while (buckets < blocks)
            buckets <<= 1;
        std::vector<std::int64_t> head(buckets, -1);
        std::vector<std::int64_t> next(blocks, -1);
        rolling_hash h;
        for (std::size_t b = 0; b < blocks; ++b) {
            h.init(source.substr(b * block, block));
            auto const bucket = h.value & (buckets - 1);
            next[b] = head[bucket];
            head[bucket] = static_cast<std::int64_t>(b);
        }

        std::size_t literal_from = 0;  // target bytes not yet written
        std::size_t i = 0;
        h.init(target.substr(0, block));
        while (i + block <= target.size()) {
            std::size_t best_len = 0, best_t = 0, best_s = 0;
            int looked = 0;
            for (auto b = head[h.value & (buckets - 1)]; b >= 0 && looked < max_candidates; b = next[b], ++looked) {
                std::size_t const s = static_cast<std::size_t>(b) * block;
                std::size_t forward = 0;
                while (i + forward < target.size() && s + forward < source.size() &&
                       target[i + forward] == source[s + forward])
                    ++forward;
                if (forward < block)
                    continue;  // a hash collision
                std::size_t back = 0;
                while (back < i - literal_from && back < s && target[i - back - 1] == source[s - back - 1])
                    ++back;
                if (back + forward > best_len) {
                    best_len = back + forward;
                    best_t = i - back;
                    best_s = s - back;
                }
            }
            // Whole UTF-8 sequences only, at both ends, so that literals are whole characters.
            while (best_len > 0 && continuation(target[best_t])) {
                ++best_t;
                ++best_s;
                --best_len;
            }
            while (best_len > 0 && best_t + best_len < target.size() && continuation(target[best_t + best_len]))
                --best_len;
            if (best_len < block) {
                if (i + block < target.size())
                    h.roll(target[i], target[i + block]);
                ++i;
                continue;
            }
            put_literal(out, target.substr(literal_from, best_t - literal_from));
            put_number(out, best_len);
            out += '@';
            put_number(out, best_s);
            out += ',';
            i = literal_from = best_t + best_len;
            if (i + block <= target.size())
                h.init(target.substr(i, block));
        }
        put_literal(out, target.substr(literal_from));
    } else {
        put_literal(out, target);
    }
    put_number(out, checksum(target));
    out += ';';
    return out;
}

std::optional<std::string> apply_delta(std::string_view source, std::string_view delta)
{
    std::size_t pos = 0;
    auto const size = get_number(delta, pos);
    if (!size || pos >= delta.size() || delta[pos] != '\n')
        return std::nullopt;
    ++pos;
    // Every segment is checked against the size the delta names before it is appended, so a lying delta costs
    // at most that size (and the caller bounds the size by what it accepts).
    std::string out;
    while (pos < delta.size()) {
        auto const n = get_number(delta, pos);
        if (!n || pos >= delta.size())
            return std::nullopt;
        char const op = delta[pos++];
        if (op == '@') {
            auto const offset = get_number(delta, pos);
            if (!offset || pos >= delta.size() || delta[pos] != ',')
                return std::nullopt;
            ++pos;
            if (*offset > source.size() || *n > source.size() - *offset || out.size() + *n > *size)
                return std::nullopt;
            out.append(source.substr(*offset, *n));
        } else if (op == ':') {
            if (*n > delta.size() - pos || out.size() + *n > *size)
                return std::nullopt;
            out.append(delta.substr(pos, *n));
            pos += *n;
        } else if (op == ';') {
            if (pos != delta.size() || out.size() != *size || checksum(out) != *n)
                return std::nullopt;
            return out;
        } else {
            return std::nullopt;
        }
    }
    return std::nullopt;  // no checksum
}

}  // namespace switchboard::detail
