#pragma once
// Raw HTTP/2 frames (RFC 9113 4.1) and HPACK literals (RFC 7541) for tests that must send what no well-behaved
// client would (attacks, the frame fuzzer), and a reader of the frames a server sends back. Header-only.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::test::h2 {


inline constexpr std::uint8_t DATA = 0x0, HEADERS = 0x1, PRIORITY = 0x2, RST_STREAM = 0x3, SETTINGS = 0x4,
                                PUSH_PROMISE = 0x5, PING = 0x6, GOAWAY = 0x7, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
inline constexpr std::uint8_t END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;
inline std::string const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

inline std::string be32(std::uint32_t v)
{
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

inline std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream, std::string_view payload)
{
    auto const n = payload.size();
    std::string f{char(n >> 16), char(n >> 8), char(n), char(type), char(flags)};
    return f + be32(stream) + std::string(payload);
}

inline std::string settings(std::vector<std::pair<std::uint16_t, std::uint32_t>> entries = {})
{
    std::string payload;
    for (auto [id, value] : entries)
        payload += std::string{char(id >> 8), char(id)} + be32(value);
    return frame(SETTINGS, 0, 0, payload);
}

// An HPACK integer with an n-bit prefix (RFC 7541 5.1).
inline std::string hpack_int(unsigned prefix_bits, std::size_t v)
{
    std::size_t const max = (1u << prefix_bits) - 1;
    if (v < max)
        return std::string(1, char(v));
    std::string out(1, char(max));
    v -= max;
    for (; v >= 128; v /= 128)
        out += char(v % 128 + 128);
    return out + char(v);
}

// A literal field without indexing, its name from the static table (index < 15) or given.
inline std::string literal(std::size_t name_index, std::string_view value)
{
    return hpack_int(4, name_index) + hpack_int(7, value.size()) + std::string(value);
}
inline std::string literal(std::string_view name, std::string_view value)
{
    return std::string(1, '\0') + hpack_int(7, name.size()) + std::string(name) + hpack_int(7, value.size()) +
           std::string(value);
}

// HEADERS for `method` (GET or POST) `path`, with END_STREAM when `ends`.
inline std::string request(std::uint32_t stream, std::string_view method, std::string_view path, bool ends = true,
                    std::string extra_fields = {})
{
    std::string block = method == "POST" ? "\x83" : "\x82";  // :method from the static table
    block += "\x86";                                          // :scheme http
    block += literal(4, path) + literal(1, "localhost") + extra_fields;
    return frame(HEADERS, END_HEADERS | (ends ? END_STREAM : 0), stream, block);
}

struct received_frame {
    std::uint8_t type = 0;
    std::uint8_t flags = 0;
    std::uint32_t stream = 0;
    std::string payload;
};

inline std::vector<received_frame> frames_in(std::string_view bytes)
{
    std::vector<received_frame> out;
    while (bytes.size() >= 9) {
        auto const u = [&](std::size_t i) { return std::uint32_t(std::uint8_t(bytes[i])); };
        std::size_t const n = (u(0) << 16) | (u(1) << 8) | u(2);
        if (bytes.size() < 9 + n)
            break;
        out.push_back({std::uint8_t(bytes[3]), std::uint8_t(bytes[4]),
                       ((u(5) & 0x7f) << 24) | (u(6) << 16) | (u(7) << 8) | u(8), std::string(bytes.substr(9, n))});
        bytes.remove_prefix(9 + n);
    }
    return out;
}

inline std::uint32_t code_of(received_frame const& f)  // RST_STREAM's error code; GOAWAY's after the last stream id
{
    auto const& p = f.payload;
    std::size_t const at = f.type == GOAWAY ? 4 : 0;
    if (p.size() < at + 4)
        return ~0u;
    return (std::uint32_t(std::uint8_t(p[at])) << 24) | (std::uint32_t(std::uint8_t(p[at + 1])) << 16) |
           (std::uint32_t(std::uint8_t(p[at + 2])) << 8) | std::uint32_t(std::uint8_t(p[at + 3]));
}

inline bool has(std::string const& bytes, std::uint8_t type, std::uint32_t stream)
{
    for (auto const& f : frames_in(bytes))
        if (f.type == type && f.stream == stream)
            return true;
    return false;
}

inline std::string data_of(std::string const& bytes, std::uint32_t stream)
{
    std::string out;
    for (auto const& f : frames_in(bytes))
        if (f.type == DATA && f.stream == stream)
            out += f.payload;
    return out;
}

inline std::string shown(std::string const& bytes)
{
    std::string out;
    for (auto const& f : frames_in(bytes))
        out += "[type " + std::to_string(f.type) + " stream " + std::to_string(f.stream) + " flags " +
               std::to_string(f.flags) + " " + std::to_string(f.payload.size()) + " bytes]";
    return out;
}

}  // namespace switchboard::test::h2
