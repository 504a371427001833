#pragma once
// Helpers shared by the randomized-test generators: a seeded engine with a few ways of drawing from it,
// UTF-8 encoding, and the alphabets of valid topics and epochs. Header-only.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace switchboard::test {

// The characters a valid topic is made of, and those of a valid epoch.
inline constexpr std::string_view topic_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@/-";
inline constexpr std::string_view epoch_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// Appends the UTF-8 encoding of `cp` (surrogates are encoded like any other value, not refused).
inline void append_utf8(std::string& out, std::uint32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// A seeded std::mt19937 and the draws the generators are built from; a generator derives from it. Every
// draw goes through pick(), so a seed always gives the same sequence of inputs.
class random_input {
public:
    explicit random_input(std::uint32_t seed) : engine_(seed) {}

    // Uniform in [0, n); n must not be 0.
    std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(engine_); }

    // n arbitrary bytes.
    std::string random_bytes(std::size_t n)
    {
        std::string out(n, '\0');
        for (auto& c : out)
            c = static_cast<char>(pick(256));
        return out;
    }

    // n characters drawn from `alphabet`.
    std::string random_from(std::string_view alphabet, std::size_t n)
    {
        std::string out(n, '\0');
        for (auto& c : out)
            c = alphabet[pick(alphabet.size())];
        return out;
    }

    // For standard algorithms that take an engine (std::shuffle).
    std::mt19937& engine() { return engine_; }

private:
    std::mt19937 engine_;
};

}  // namespace switchboard::test
