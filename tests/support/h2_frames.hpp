#pragma once
// HTTP/2 as exact bytes, for tests that speak it over a raw_connection and must send what no well-behaved client
// would (attacks, the frame fuzzer): frames (RFC 9113 4.1), HPACK literals (RFC 7541) for the requests, and what
// came back read frame by frame, its header blocks decoded with nghttp2's own HPACK inflater (the server's answers
// are Huffman-coded and indexed). Also RFC 6455 frames as a client sends them (masked) and as a server does, for
// WebSocket over HTTP/2 (RFC 8441). Header-only.

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::test::h2_frames {

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

// An extended CONNECT (RFC 8441 4): :method CONNECT, :protocol, :scheme, :path, :authority, then `extra_fields`
// (literal(...)); the stream stays open.
inline std::string extended_connect(std::uint32_t stream, std::string_view path, std::string_view protocol = "websocket",
                                    std::string extra_fields = literal("sec-websocket-version", "13"))
{
    std::string block = literal(2, "CONNECT") + literal(":protocol", protocol) + "\x86" + literal(4, path) +
                        literal(1, "localhost") + extra_fields;
    return frame(HEADERS, END_HEADERS, stream, block);
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

// Whether `stream` got a DATA frame with END_STREAM.
inline bool ended(std::string const& bytes, std::uint32_t stream)
{
    for (auto const& f : frames_in(bytes))
        if (f.stream == stream && (f.type == DATA || f.type == HEADERS) && (f.flags & END_STREAM))
            return true;
    return false;
}

inline std::string shown(std::string const& bytes)
{
    std::string out;
    for (auto const& f : frames_in(bytes))
        out += "[type " + std::to_string(f.type) + " stream " + std::to_string(f.stream) + " flags " +
               std::to_string(f.flags) + " " + std::to_string(f.payload.size()) + " bytes]";
    return out;
}

using header_list = std::vector<std::pair<std::string, std::string>>;

// The header fields the server sent on `stream` (every header block of the connection is decoded, in order, as
// HPACK's dynamic table requires; CONTINUATION is not used by the server for these small blocks).
inline header_list headers_of(std::string const& bytes, std::uint32_t stream)
{
    header_list out;
    nghttp2_hd_inflater* inflater = nullptr;
    if (nghttp2_hd_inflate_new(&inflater) != 0)
        return out;
    for (auto const& f : frames_in(bytes)) {
        if (f.type != HEADERS)
            continue;
        std::string_view block = f.payload;
        if (f.flags & PADDED) {
            auto const pad = std::uint8_t(block.front());
            block = block.substr(1, block.size() - 1 - pad);
        }
        if (f.flags & PRIORITY_FLAG)
            block.remove_prefix(5);
        auto const* in = reinterpret_cast<std::uint8_t const*>(block.data());
        std::size_t left = block.size();
        for (;;) {
            nghttp2_nv nv;
            int flags = 0;
            auto const n = nghttp2_hd_inflate_hd2(inflater, &nv, &flags, in, left, 1);
            if (n < 0)
                break;
            in += n;
            left -= static_cast<std::size_t>(n);
            if (flags & NGHTTP2_HD_INFLATE_EMIT && f.stream == stream)
                out.emplace_back(std::string(reinterpret_cast<char const*>(nv.name), nv.namelen),
                                 std::string(reinterpret_cast<char const*>(nv.value), nv.valuelen));
            if (flags & NGHTTP2_HD_INFLATE_FINAL) {
                nghttp2_hd_inflate_end_headers(inflater);
                break;
            }
            if (n == 0 && !(flags & NGHTTP2_HD_INFLATE_EMIT))
                break;
        }
    }
    nghttp2_hd_inflate_del(inflater);
    return out;
}

inline std::optional<std::string> header(header_list const& fields, std::string_view name)
{
    for (auto const& [n, v] : fields)
        if (n == name)
            return v;
    return std::nullopt;
}

// The :status the server answered `stream` with, or 0.
inline int status_of(std::string const& bytes, std::uint32_t stream)
{
    auto const s = header(headers_of(bytes, stream), ":status");
    return s ? std::stoi(*s) : 0;
}

// ---- RFC 6455 frames ------------------------------------------------------------------------------------------

// A client's frame: FIN, `opcode`, masked (RFC 6455 5.3) with a fixed key.
inline std::string ws_frame(std::uint8_t opcode, std::string_view payload, bool fin = true)
{
    std::string f(1, char((fin ? 0x80 : 0) | opcode));
    auto const n = payload.size();
    if (n < 126)
        f += char(0x80 | n);
    else if (n < 65536)
        f += {char(0x80 | 126), char(n >> 8), char(n)};
    else {
        f += char(0x80 | 127);
        for (int i = 7; i >= 0; --i)
            f += char(std::uint64_t(n) >> (8 * i));
    }
    char const key[4] = {0x11, 0x22, 0x33, 0x44};
    f.append(key, 4);
    for (std::size_t i = 0; i < n; ++i)
        f += char(payload[i] ^ key[i % 4]);
    return f;
}

struct ws_message {
    std::uint8_t opcode = 0;
    std::string payload;
    std::string bytes;  // the whole frame as it came
};

// The server's frames (unmasked, unfragmented) in `bytes`, complete ones only.
inline std::vector<ws_message> ws_frames_in(std::string_view bytes)
{
    std::vector<ws_message> out;
    while (bytes.size() >= 2) {
        std::uint64_t n = std::uint8_t(bytes[1]) & 0x7f;
        std::size_t at = 2;
        if (n == 126) {
            if (bytes.size() < 4)
                break;
            n = (std::uint64_t(std::uint8_t(bytes[2])) << 8) | std::uint8_t(bytes[3]);
            at = 4;
        } else if (n == 127) {
            if (bytes.size() < 10)
                break;
            n = 0;
            for (int i = 0; i < 8; ++i)
                n = (n << 8) | std::uint8_t(bytes[2 + i]);
            at = 10;
        }
        if (bytes.size() < at + n)
            break;
        out.push_back({std::uint8_t(bytes[0] & 0x0f), std::string(bytes.substr(at, n)), std::string(bytes.substr(0, at + n))});
        bytes.remove_prefix(at + n);
    }
    return out;
}

}  // namespace switchboard::test::h2_frames
