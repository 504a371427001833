#include "core/base64.hpp"

#include <array>
#include <cstdint>

namespace switchboard::detail {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_values()
{
    std::array<std::int8_t, 256> v{};
    for (auto& x : v)
        x = -1;
    for (int i = 0; i < 64; ++i)
        v[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return v;
}

constexpr auto values = make_values();

}  // namespace

std::string base64_encode(std::string_view bytes)
{
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto const at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t const n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += alphabet[(n >> 6) & 63];
        out += alphabet[n & 63];
    }
    if (std::size_t const rest = bytes.size() - i; rest > 0) {
        std::uint32_t const n = (at(i) << 16) | (rest == 2 ? at(i + 1) << 8 : 0);
        out += alphabet[n >> 18];
        out += alphabet[(n >> 12) & 63];
        out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text)
{
    if (text.size() % 4 != 0)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        bool const last = i + 4 == text.size();
        std::size_t const pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
        if (pad == 1 && text[i + 2] == '=')
            return std::nullopt;  // "x=y=" is not padding
        std::uint32_t n = 0;
        for (std::size_t k = 0; k < 4 - pad; ++k) {
            auto const v = values[static_cast<unsigned char>(text[i + k])];
            if (v < 0)
                return std::nullopt;
            n |= static_cast<std::uint32_t>(v) << (18 - 6 * k);
        }
        // Canonical: the bits padding leaves over are zero, so one payload has one encoding.
        if ((pad == 1 && (n & 0xFF)) || (pad == 2 && (n & 0xFFFF)))
            return std::nullopt;
        out += static_cast<char>(n >> 16);
        if (pad < 2)
            out += static_cast<char>((n >> 8) & 0xFF);
        if (pad < 1)
            out += static_cast<char>(n & 0xFF);
    }
    return out;
}

}  // namespace switchboard::detail
