// frame_parser: RFC 6455 client frames, parsed incrementally. The tests build masked client frames byte by byte
// and check what a recording sink is told.

#include "websocket/frame_parser.hpp"

#include "support/random_input.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using switchboard::websocket::close_payload;
using switchboard::websocket::frame_parser;
using switchboard::websocket::frame_sink;
using switchboard::websocket::is_valid_utf8;
using switchboard::websocket::make_frame;
using switchboard::websocket::opcode;
using switchboard::websocket::parse_failure;
using switchboard::test::append_utf8;
using switchboard::test::random_input;

// ---- building client frames -------------------------------------------------------------------------------

constexpr std::uint8_t fin = 0x80;
constexpr std::array<std::uint8_t, 4> default_mask{0x37, 0xFA, 0x21, 0x3D};

enum class length_form { shortest, bits16, bits64 };

struct raw_frame {
    std::uint8_t first;  // FIN, RSV1-3 and the opcode
    std::string payload;
    bool masked = true;
    length_form form = length_form::shortest;
    std::optional<std::uint64_t> declared_length;  // the length written in the header, if not payload.size()
    std::array<std::uint8_t, 4> mask = default_mask;

    raw_frame(std::uint8_t first_byte, std::string_view p) : first(first_byte), payload(p) {}
    raw_frame unmasked() const { auto f = *this; f.masked = false; return f; }
    raw_frame in_form(length_form how) const { auto f = *this; f.form = how; return f; }
    raw_frame declaring(std::uint64_t n) const { auto f = *this; f.declared_length = n; return f; }
    raw_frame masked_with(std::array<std::uint8_t, 4> key) const { auto f = *this; f.mask = key; return f; }
};

std::string encode(raw_frame const& f)
{
    std::string out;
    out += static_cast<char>(f.first);
    std::uint64_t const n = f.declared_length.value_or(f.payload.size());
    std::uint8_t const mask_bit = f.masked ? 0x80 : 0;
    auto form = f.form;
    if (form == length_form::shortest)
        form = n < 126 ? form : n <= 0xFFFF ? length_form::bits16 : length_form::bits64;
    if (form == length_form::shortest) {
        out += static_cast<char>(mask_bit | n);
    } else if (form == length_form::bits16) {
        out += static_cast<char>(mask_bit | 126);
        out += static_cast<char>((n >> 8) & 0xFF);
        out += static_cast<char>(n & 0xFF);
    } else {
        out += static_cast<char>(mask_bit | 127);
        for (int shift = 56; shift >= 0; shift -= 8)
            out += static_cast<char>((n >> shift) & 0xFF);
    }
    if (!f.masked)
        return out + f.payload;
    for (auto b : f.mask)
        out += static_cast<char>(b);
    for (std::size_t i = 0; i < f.payload.size(); ++i)
        out += static_cast<char>(static_cast<std::uint8_t>(f.payload[i]) ^ f.mask[i % 4]);
    return out;
}

std::string client_frame(opcode op, std::string_view payload, bool final = true)
{
    return encode(raw_frame(static_cast<std::uint8_t>((final ? fin : 0) | static_cast<std::uint8_t>(op)), payload));
}

std::string text(std::string_view payload, bool final = true)
{
    return client_frame(opcode::text, payload, final);
}

std::string continuation(std::string_view payload, bool final = true)
{
    return client_frame(opcode::continuation, payload, final);
}

std::string ping(std::string_view payload)
{
    return client_frame(opcode::ping, payload);
}

std::string close_frame(std::uint16_t code, std::string_view reason)
{
    std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    return client_frame(opcode::close, payload + std::string(reason));
}

// ---- recording what the parser reports --------------------------------------------------------------------

struct event {
    std::string kind;  // "text", "binary", "compressed text", "compressed binary", "too_large", "ping", "pong", "close"
    std::string payload;
    std::uint16_t code = 0;

    friend bool operator==(event const&, event const&) = default;
    friend std::ostream& operator<<(std::ostream& os, event const& e)
    {
        os << e.kind << "(" << e.payload.size() << " bytes";
        if (e.payload.size() <= 40)
            os << " \"" << e.payload << "\"";
        if (e.kind == "close")
            os << ", code " << e.code;
        return os << ")";
    }
};

event text_event(std::string_view payload)
{
    return {"text", std::string(payload)};
}

class recording_sink final : public frame_sink {
public:
    std::vector<event> events;

    void on_message(opcode kind, std::string_view payload, bool compressed) override
    {
        std::string name = kind == opcode::text ? "text" : kind == opcode::binary ? "binary" : "other";
        events.push_back({compressed ? "compressed " + name : name, std::string(payload)});
    }
    void on_message_too_large() override { events.push_back({"too_large", {}}); }
    void on_ping(std::string_view payload) override { events.push_back({"ping", std::string(payload)}); }
    void on_pong(std::string_view payload) override { events.push_back({"pong", std::string(payload)}); }
    void on_close(std::uint16_t code, std::string_view reason) override
    {
        events.push_back({"close", std::string(reason), code});
    }
};

constexpr std::size_t max_message = 1 << 20;

struct outcome {
    std::vector<event> events;
    parse_failure failure = parse_failure::none;
    bool done = false;
};

outcome parse_frames(std::string_view bytes, std::size_t max_message_size = max_message)
{
    frame_parser parser(max_message_size);
    recording_sink sink;
    parser.feed(bytes, sink);
    return {sink.events, parser.failure(), parser.done()};
}

outcome parse_in_chunks(std::string_view bytes, std::size_t chunk, std::size_t max_message_size = max_message)
{
    frame_parser parser(max_message_size);
    recording_sink sink;
    for (std::size_t at = 0; at < bytes.size(); at += chunk)
        parser.feed(bytes.substr(at, chunk), sink);
    return {sink.events, parser.failure(), parser.done()};
}

// A protocol failure: the close code, nothing reported for the offending frame, and no more parsing.
void expect_failure(std::string_view bytes, parse_failure expected, std::vector<event> const& before = {})
{
    frame_parser parser(max_message);
    recording_sink sink;
    parser.feed(bytes, sink);
    EXPECT_EQ(parser.failure(), expected);
    EXPECT_TRUE(parser.done());
    EXPECT_FALSE(parser.failure_reason().empty());
    EXPECT_EQ(sink.events, before);
    // Whatever follows is ignored.
    parser.feed(text("after"), sink);
    EXPECT_EQ(sink.events, before);
    EXPECT_EQ(parser.failure(), expected);
}

// ---- data frames ------------------------------------------------------------------------------------------

TEST(frame_parser, parses_a_single_text_frame)
{
    auto const r = parse_frames(text("hello"));
    EXPECT_EQ(r.events, std::vector<event>{text_event("hello")});
    EXPECT_EQ(r.failure, parse_failure::none);
    EXPECT_FALSE(r.done);
}

TEST(frame_parser, parses_binary_pong_and_several_frames_in_one_feed)
{
    std::string const binary_payload("\x00\xFF\xC0\x80", 4);  // not UTF-8, and need not be
    auto const r = parse_frames(text("one") + client_frame(opcode::binary, binary_payload) +
                         client_frame(opcode::pong, "p") + text("two"));
    EXPECT_EQ(r.events, (std::vector<event>{text_event("one"), {"binary", binary_payload}, {"pong", "p"},
                                            text_event("two")}));
    EXPECT_EQ(r.failure, parse_failure::none);
}

TEST(frame_parser, unmasks_with_any_mask_key)
{
    using key = std::array<std::uint8_t, 4>;
    for (auto const& mask : {key{0, 0, 0, 0}, key{0xFF, 0xFF, 0xFF, 0xFF}, key{1, 2, 3, 4}}) {
        auto const r = parse_frames(encode(raw_frame(fin | 1, "masked payload").masked_with(mask)));
        EXPECT_EQ(r.events, std::vector<event>{text_event("masked payload")});
    }
}

TEST(frame_parser, reads_7_16_and_64_bit_payload_lengths)
{
    for (std::size_t size : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
        SCOPED_TRACE(size);
        std::string payload(size, 'x');
        for (std::size_t i = 0; i < size; ++i)
            payload[i] = static_cast<char>('a' + i % 26);
        std::string const frame = text(payload);
        std::size_t const header = size < 126 ? 2 : size <= 0xFFFF ? 4 : 10;
        ASSERT_EQ(frame.size(), header + 4 + size);
        auto const r = parse_frames(frame);
        ASSERT_EQ(r.events.size(), 1u);
        EXPECT_EQ(r.events[0].kind, "text");
        EXPECT_TRUE(r.events[0].payload == payload);
        EXPECT_EQ(r.failure, parse_failure::none);
    }
}

std::string mixed_stream()
{
    return text("first") + text("frag-", false) + ping("in between") + continuation("ment-", false) +
           client_frame(opcode::pong, "") + continuation("ed") + client_frame(opcode::binary, std::string(300, 'b')) +
           text("") + text("\xF0\x9D\x84\x9E caf\xC3\xA9") + close_frame(1000, "bye");
}

std::vector<event> const mixed_stream_events{
    text_event("first"),
    {"ping", "in between"},
    {"pong", ""},
    text_event("frag-ment-ed"),
    {"binary", std::string(300, 'b')},
    text_event(""),
    text_event("\xF0\x9D\x84\x9E caf\xC3\xA9"),
    {"close", "bye", 1000},
};

TEST(frame_parser, parses_a_stream_fed_whole)
{
    auto const r = parse_frames(mixed_stream());
    EXPECT_EQ(r.events, mixed_stream_events);
    EXPECT_EQ(r.failure, parse_failure::none);
    EXPECT_TRUE(r.done);
}

TEST(frame_parser, parses_a_stream_fed_one_byte_at_a_time)
{
    auto const r = parse_in_chunks(mixed_stream(), 1);
    EXPECT_EQ(r.events, mixed_stream_events);
    EXPECT_EQ(r.failure, parse_failure::none);
    EXPECT_TRUE(r.done);
}

TEST(frame_parser, parses_a_stream_fed_in_chunks_of_every_small_size)
{
    for (std::size_t chunk = 2; chunk <= 20; ++chunk) {
        SCOPED_TRACE(chunk);
        auto const r = parse_in_chunks(mixed_stream(), chunk);
        EXPECT_EQ(r.events, mixed_stream_events);
    }
}

TEST(frame_parser, parses_a_64_bit_length_message_fed_one_byte_at_a_time)
{
    std::string const payload(65536, 'q');
    auto const r = parse_in_chunks(text(payload) + text("next"), 1);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_TRUE(r.events[0].payload == payload);
    EXPECT_EQ(r.events[1], text_event("next"));
}

TEST(frame_parser, reassembles_fragmented_text_with_a_ping_between_fragments)
{
    auto const r = parse_frames(text("Hel", false) + continuation("lo, ", false) + ping("are you there") +
                         continuation("world") + text("after"));
    EXPECT_EQ(r.events, (std::vector<event>{{"ping", "are you there"}, text_event("Hello, world"),
                                            text_event("after")}));
    EXPECT_EQ(r.failure, parse_failure::none);
}

TEST(frame_parser, reassembles_fragmented_binary_and_empty_fragments)
{
    auto const r = parse_frames(client_frame(opcode::binary, "", false) + continuation("ab", false) + continuation("", false) +
                         continuation(""));
    EXPECT_EQ(r.events, (std::vector<event>{{"binary", "ab"}}));
}

// ---- protocol errors (1002) -------------------------------------------------------------------------------

TEST(frame_parser, refuses_an_unmasked_frame)
{
    expect_failure(encode(raw_frame(fin | 1, "hello").unmasked()), parse_failure::protocol_error);
    expect_failure(text("ok") + encode(raw_frame(fin | 1, "hello").unmasked()), parse_failure::protocol_error,
                   {text_event("ok")});
}

TEST(frame_parser, refuses_reserved_bits)
{
    for (std::uint8_t rsv : {0x40, 0x20, 0x10, 0x70}) {
        SCOPED_TRACE(int{rsv});
        expect_failure(encode(raw_frame(static_cast<std::uint8_t>(fin | rsv | 1), "x")),
                       parse_failure::protocol_error);
    }
}

// ---- permessage-deflate (RFC 7692): RSV1 once negotiated ------------------------------------------------------

outcome parse_compressed(std::string_view bytes)
{
    frame_parser parser(max_message);
    parser.allow_compression();
    recording_sink sink;
    parser.feed(bytes, sink);
    return {sink.events, parser.failure(), parser.done()};
}

constexpr std::uint8_t rsv1 = 0x40;

TEST(frame_parser, reports_rsv1_messages_as_compressed_once_negotiated)
{
    // The payload is passed on as it came (the channel inflates it), so bytes that are not UTF-8 are no failure.
    std::string const deflated("\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
    auto const r = parse_compressed(encode(raw_frame(fin | rsv1 | 1, deflated)) + text("plain") +
                                    encode(raw_frame(fin | rsv1 | 2, "\xff")));
    EXPECT_EQ(r.failure, parse_failure::none);
    EXPECT_EQ(r.events, (std::vector<event>{{"compressed text", deflated}, text_event("plain"),
                                            {"compressed binary", "\xff"}}));
}

TEST(frame_parser, a_compressed_message_sets_rsv1_on_its_first_frame_only)
{
    auto const r = parse_compressed(encode(raw_frame(rsv1 | 1, "ab")) + ping("p") + continuation("cd"));
    EXPECT_EQ(r.failure, parse_failure::none);
    EXPECT_EQ(r.events, (std::vector<event>{{"ping", "p"}, {"compressed text", "abcd"}}));

    for (auto const& bytes : {encode(raw_frame(rsv1 | 1, "ab")) + encode(raw_frame(fin | rsv1 | 0, "cd")),
                              encode(raw_frame(fin | rsv1 | 9, "p")), encode(raw_frame(fin | rsv1 | 8, "")),
                              encode(raw_frame(fin | 0x20 | 1, "x")), encode(raw_frame(fin | 0x10 | 1, "x"))}) {
        auto const bad = parse_compressed(bytes);
        EXPECT_EQ(bad.failure, parse_failure::protocol_error);
        EXPECT_TRUE(bad.done);
    }
}

TEST(frame_parser, refuses_unknown_opcodes)
{
    for (std::uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
        SCOPED_TRACE(int{op});
        expect_failure(encode(raw_frame(static_cast<std::uint8_t>(fin | op), "x")), parse_failure::protocol_error);
    }
}

TEST(frame_parser, refuses_a_control_frame_over_125_bytes)
{
    auto const r = parse_frames(ping(std::string(125, 'p')));
    EXPECT_EQ(r.events, (std::vector<event>{{"ping", std::string(125, 'p')}}));
    expect_failure(ping(std::string(126, 'p')), parse_failure::protocol_error);
    expect_failure(client_frame(opcode::pong, std::string(200, 'p')), parse_failure::protocol_error);
    expect_failure(client_frame(opcode::close, std::string(2, '\x03') + std::string(124, 'r')),
                   parse_failure::protocol_error);
}

TEST(frame_parser, refuses_a_fragmented_control_frame)
{
    expect_failure(client_frame(opcode::ping, "p", false), parse_failure::protocol_error);
    expect_failure(client_frame(opcode::pong, "p", false), parse_failure::protocol_error);
    expect_failure(client_frame(opcode::close, "\x03\xE8", false), parse_failure::protocol_error);
}

TEST(frame_parser, refuses_a_continuation_without_a_message)
{
    expect_failure(continuation("x"), parse_failure::protocol_error);
    expect_failure(continuation("x", false), parse_failure::protocol_error);
    // A finished message does not leave one open.
    expect_failure(text("a") + continuation("x"), parse_failure::protocol_error, {text_event("a")});
}

TEST(frame_parser, refuses_a_new_message_inside_a_fragmented_one)
{
    expect_failure(text("a", false) + text("b"), parse_failure::protocol_error);
    expect_failure(text("a", false) + client_frame(opcode::binary, "b"), parse_failure::protocol_error);
    expect_failure(client_frame(opcode::binary, "a", false) + ping("p") + text("b"), parse_failure::protocol_error,
                   {{"ping", "p"}});
}

TEST(frame_parser, refuses_lengths_not_in_their_shortest_form)
{
    auto const bits16 = [](std::size_t n) {
        return encode(raw_frame(fin | 1, std::string(n, 'a')).in_form(length_form::bits16));
    };
    auto const bits64 = [](std::size_t n) {
        return encode(raw_frame(fin | 1, std::string(n, 'a')).in_form(length_form::bits64));
    };
    expect_failure(bits16(5), parse_failure::protocol_error);
    expect_failure(bits16(125), parse_failure::protocol_error);
    expect_failure(bits64(5), parse_failure::protocol_error);
    expect_failure(bits64(126), parse_failure::protocol_error);
    expect_failure(bits64(65535), parse_failure::protocol_error);
    // The shortest forms at the boundaries are fine.
    EXPECT_EQ(parse_frames(bits16(126)).failure, parse_failure::none);
    EXPECT_EQ(parse_frames(bits64(65536)).failure, parse_failure::none);
}

TEST(frame_parser, refuses_a_64_bit_length_with_the_top_bit_set)
{
    auto const declaring = [](std::uint64_t n) {
        return encode(raw_frame(fin | 1, "").in_form(length_form::bits64).declaring(n));
    };
    expect_failure(declaring(std::uint64_t{1} << 63), parse_failure::protocol_error);
    expect_failure(declaring(~std::uint64_t{0}), parse_failure::protocol_error);
}

// ---- UTF-8 ------------------------------------------------------------------------------------------------

TEST(frame_parser, refuses_invalid_utf8_in_text)
{
    for (std::string_view bad : {
             "\xC0\xAF",              // overlong '/'
             "\xC1\xBF",              // overlong
             "\xE0\x80\xAF",          // overlong, 3 bytes
             "\xF0\x80\x80\xAF",      // overlong, 4 bytes
             "\xED\xA0\x80",          // a surrogate (U+D800)
             "\xED\xBF\xBF",          // a surrogate (U+DFFF)
             "\xE2\x82",              // a truncated sequence
             "ok\xC3",                // truncated at the very end
             "\xF5\x80\x80\x80",      // 0xF5 never starts a sequence
             "\xF4\x90\x80\x80",      // past U+10FFFF
             "\xF8\x88\x80\x80\x80",  // a 5-byte form
             "\x80",                  // a lone continuation byte
             "\xFF",
             "a\xC3(b",               // a lead byte followed by a non-continuation
         }) {
        SCOPED_TRACE(::testing::PrintToString(std::string(bad)));
        expect_failure(text(bad), parse_failure::invalid_utf8);
    }
}

TEST(frame_parser, refuses_invalid_utf8_across_fragments)
{
    expect_failure(text("ab", false) + continuation("\xED\xA0") + text("x"), parse_failure::invalid_utf8);
    expect_failure(text("\xE2\x82", false) + continuation("x"), parse_failure::invalid_utf8);
}

TEST(frame_parser, accepts_valid_multibyte_utf8)
{
    for (std::string_view good : {
             "caf\xC3\xA9",              // é, 2 bytes
             "\xC2\x80",                 // U+0080, the smallest 2-byte value
             "\xE2\x82\xAC",             // €
             "\xE0\xA0\x80",             // U+0800, the smallest 3-byte value
             "\xED\x9F\xBF",             // U+D7FF, just below the surrogates
             "\xEE\x80\x80",             // U+E000, just above them
             "\xEF\xBF\xBF",             // U+FFFF
             "\xF0\x90\x80\x80",         // U+10000, the smallest 4-byte value
             "\xF0\x9D\x84\x9E",         // 𝄞
             "\xF4\x8F\xBF\xBF",         // U+10FFFF, the largest
             "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5",  // κόσμε
         }) {
        SCOPED_TRACE(::testing::PrintToString(std::string(good)));
        auto const r = parse_frames(text(good));
        EXPECT_EQ(r.events, std::vector<event>{text_event(good)});
        EXPECT_EQ(r.failure, parse_failure::none);
    }
}

TEST(frame_parser, accepts_a_4_byte_character_split_across_fragments)
{
    auto const r = parse_frames(text("\xF0\x9D", false) + ping("") + continuation("\x84", false) + continuation("\x9E!"));
    EXPECT_EQ(r.events, (std::vector<event>{{"ping", ""}, text_event("\xF0\x9D\x84\x9E!")}));
    EXPECT_EQ(r.failure, parse_failure::none);
}

TEST(frame_parser, is_valid_utf8_agrees_with_the_rules)
{
    EXPECT_TRUE(is_valid_utf8(""));
    EXPECT_TRUE(is_valid_utf8("plain ascii \x01\x7F"));
    EXPECT_TRUE(is_valid_utf8(std::string_view("\0", 1)));
    EXPECT_TRUE(is_valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E"));
    EXPECT_FALSE(is_valid_utf8("\xC0\x80"));  // overlong NUL
    EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80\xED\xB0\x80"));  // a surrogate pair, CESU-8 style
    EXPECT_FALSE(is_valid_utf8("\xF0\x9D\x84"));
    EXPECT_FALSE(is_valid_utf8("\xF5"));
    EXPECT_FALSE(is_valid_utf8("\xFE\xFF"));
}

TEST(frame_parser, is_valid_utf8_matches_a_reference_on_every_two_byte_sequence)
{
    // A 2-byte string is valid UTF-8 exactly when it is two ASCII bytes or one 2-byte character C2-DF 80-BF.
    for (int a = 0; a < 256; ++a)
        for (int b = 0; b < 256; ++b) {
            std::string const s{static_cast<char>(a), static_cast<char>(b)};
            bool const expected = (a < 0x80 && b < 0x80) || (a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF);
            ASSERT_EQ(is_valid_utf8(s), expected) << std::hex << a << " " << b;
        }
}

TEST(frame_parser, is_valid_utf8_accepts_every_scalar_value_and_no_surrogate)
{
    auto const encode_utf8 = [](std::uint32_t cp) {
        std::string out;
        append_utf8(out, cp);
        return out;
    };
    for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        bool const surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        std::string const s = encode_utf8(cp);
        ASSERT_EQ(is_valid_utf8(s), !surrogate) << std::hex << cp;
        if (s.size() > 1) {
            ASSERT_FALSE(is_valid_utf8(s.substr(0, s.size() - 1))) << "truncated " << std::hex << cp;
        }
    }
}

// A bad first two bytes (unmasked, reserved bits, unknown opcode) are refused at once, not when a mask key that
// will never come has arrived.
TEST(frame_parser, refuses_an_unmasked_frame_as_soon_as_its_header_is_known)
{
    for (std::string_view bytes : {std::string_view("\x81\x00", 2), std::string_view("\xC1\x80", 2),
                                   std::string_view("\x83\x80", 2)}) {
        frame_parser parser(max_message);
        recording_sink sink;
        parser.feed(bytes, sink);
        EXPECT_TRUE(parser.done()) << ::testing::PrintToString(std::string(bytes));
        EXPECT_EQ(parser.failure(), parse_failure::protocol_error);
    }
}

// ---- message size -----------------------------------------------------------------------------------------

TEST(frame_parser, accepts_a_message_of_exactly_the_maximum_size)
{
    auto const r = parse_frames(text(std::string(16, 'a')), 16);
    EXPECT_EQ(r.events, std::vector<event>{text_event(std::string(16, 'a'))});
}

TEST(frame_parser, skips_a_message_over_the_maximum_and_parses_the_next)
{
    auto const r = parse_frames(text(std::string(17, 'a')) + text("next"), 16);
    EXPECT_EQ(r.events, (std::vector<event>{{"too_large", ""}, text_event("next")}));
    EXPECT_EQ(r.failure, parse_failure::none);
    EXPECT_FALSE(r.done);
}

TEST(frame_parser, skips_a_fragmented_message_that_grows_over_the_maximum)
{
    auto const stream = text("0123456789", false) + ping("p") + continuation("0123456789", false) +
                        client_frame(opcode::pong, "q") + continuation("0123456789") + text("next");
    std::vector<event> const expected{{"ping", "p"}, {"pong", "q"}, {"too_large", ""}, text_event("next")};
    EXPECT_EQ(parse_frames(stream, 16).events, expected);
    EXPECT_EQ(parse_in_chunks(stream, 1, 16).events, expected);
    EXPECT_EQ(parse_in_chunks(stream, 7, 16).events, expected);
}

TEST(frame_parser, skips_a_huge_declared_message_without_buffering_it)
{
    // 1 MiB of payload against a 1 KiB limit, fed in pieces: reported once, at its end.
    std::string const payload(1 << 20, 'z');
    auto const r = parse_in_chunks(text(payload) + client_frame(opcode::binary, "ok"), 4096, 1024);
    EXPECT_EQ(r.events, (std::vector<event>{{"too_large", ""}, {"binary", "ok"}}));
}

TEST(frame_parser, an_oversized_message_is_not_checked_for_utf8)
{
    // It is dropped anyway; its bytes must not take the connection down.
    auto const r = parse_frames(text(std::string(20, '\xFF')) + text("fine"), 16);
    EXPECT_EQ(r.events, (std::vector<event>{{"too_large", ""}, text_event("fine")}));
    EXPECT_EQ(r.failure, parse_failure::none);
}

TEST(frame_parser, a_protocol_error_inside_an_oversized_message_still_fails)
{
    expect_failure(text(std::string(20, 'a'), false) + text("b"), parse_failure::protocol_error);
}

// ---- close frames -----------------------------------------------------------------------------------------

TEST(frame_parser, reports_a_close_frame_with_code_and_reason)
{
    auto const r = parse_frames(close_frame(1000, "bye now"));
    EXPECT_EQ(r.events, (std::vector<event>{{"close", "bye now", 1000}}));
    EXPECT_EQ(r.failure, parse_failure::none);
    EXPECT_TRUE(r.done);
}

TEST(frame_parser, reports_a_close_frame_with_a_utf8_reason)
{
    auto const r = parse_frames(close_frame(4001, "au revoir, caf\xC3\xA9 \xF0\x9D\x84\x9E"));
    EXPECT_EQ(r.events, (std::vector<event>{{"close", "au revoir, caf\xC3\xA9 \xF0\x9D\x84\x9E", 4001}}));
}

TEST(frame_parser, reports_1005_for_a_close_frame_without_payload)
{
    auto const r = parse_frames(client_frame(opcode::close, ""));
    EXPECT_EQ(r.events, (std::vector<event>{{"close", "", 1005}}));
    EXPECT_EQ(r.failure, parse_failure::none);
    EXPECT_TRUE(r.done);
}

TEST(frame_parser, refuses_a_close_frame_with_a_one_byte_payload)
{
    expect_failure(client_frame(opcode::close, "\x03"), parse_failure::protocol_error);
}

TEST(frame_parser, refuses_close_codes_a_peer_may_not_send)
{
    for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
        SCOPED_TRACE(code);
        expect_failure(close_frame(code, ""), parse_failure::protocol_error);
        expect_failure(close_frame(code, "why"), parse_failure::protocol_error);
    }
}

TEST(frame_parser, accepts_close_codes_a_peer_may_send)
{
    for (std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
        SCOPED_TRACE(code);
        auto const r = parse_frames(close_frame(code, "r"));
        EXPECT_EQ(r.events, (std::vector<event>{{"close", "r", code}}));
        EXPECT_EQ(r.failure, parse_failure::none);
    }
}

TEST(frame_parser, refuses_a_close_reason_that_is_not_utf8)
{
    expect_failure(close_frame(1000, "bad \xC3"), parse_failure::invalid_utf8);
    expect_failure(close_frame(1000, "\xED\xA0\x80"), parse_failure::invalid_utf8);
}

TEST(frame_parser, ignores_bytes_after_a_close_frame)
{
    frame_parser parser(max_message);
    recording_sink sink;
    parser.feed(text("before") + close_frame(1000, "") + text("after") + std::string("\xFF\xFF\xFF"), sink);
    parser.feed(text("later") + ping("p"), sink);
    EXPECT_EQ(sink.events, (std::vector<event>{text_event("before"), {"close", "", 1000}}));
    EXPECT_TRUE(parser.done());
    EXPECT_EQ(parser.failure(), parse_failure::none);
}

TEST(frame_parser, a_close_frame_may_arrive_inside_a_fragmented_message)
{
    auto const r = parse_frames(text("part", false) + close_frame(1001, "going"));
    EXPECT_EQ(r.events, (std::vector<event>{{"close", "going", 1001}}));
    EXPECT_TRUE(r.done);
}

// ---- server frames ----------------------------------------------------------------------------------------

TEST(frame_parser, make_frame_writes_unmasked_final_frames_with_7_16_and_64_bit_lengths)
{
    struct header_case {
        std::size_t size;
        std::string header;
    };
    for (auto const& c : std::vector<header_case>{
             {0, std::string("\x81\x00", 2)},
             {5, "\x81\x05"},
             {125, "\x81\x7D"},
             {126, std::string("\x81\x7E\x00\x7E", 4)},
             {65535, "\x81\x7E\xFF\xFF"},
             {65536, std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10)},
             {70000, std::string("\x81\x7F\x00\x00\x00\x00\x00\x01\x11\x70", 10)},
         }) {
        SCOPED_TRACE(c.size);
        std::string const payload(c.size, 'm');
        std::string const frame = make_frame(opcode::text, payload);
        ASSERT_EQ(frame.size(), c.header.size() + c.size);
        EXPECT_EQ(frame.substr(0, c.header.size()), c.header);
        EXPECT_EQ(static_cast<std::uint8_t>(frame[1]) & 0x80, 0) << "server frames are never masked";
        EXPECT_TRUE(frame.substr(c.header.size()) == payload);
    }
}

TEST(frame_parser, make_frame_writes_each_opcode)
{
    EXPECT_EQ(make_frame(opcode::binary, "b"), "\x82\x01" "b");
    EXPECT_EQ(make_frame(opcode::close, "\x03\xE8"), "\x88\x02\x03\xE8");
    EXPECT_EQ(make_frame(opcode::ping, "p"), "\x89\x01p");
    EXPECT_EQ(make_frame(opcode::pong, "p"), "\x8A\x01p");
}

TEST(frame_parser, close_payload_holds_the_code_and_reason)
{
    EXPECT_EQ(close_payload(1000, "bye"), "\x03\xE8" "bye");
    EXPECT_EQ(close_payload(4500, ""), "\x11\x94");
    EXPECT_EQ(close_payload(1007, "caf\xC3\xA9"), "\x03\xEF" "caf\xC3\xA9");
}

TEST(frame_parser, close_payload_cuts_a_long_reason_to_125_bytes)
{
    EXPECT_EQ(close_payload(1000, std::string(123, 'r')).size(), 125u);
    std::string const cut = close_payload(1000, std::string(500, 'r'));
    EXPECT_EQ(cut.size(), 125u);
    EXPECT_EQ(cut.substr(2), std::string(123, 'r'));
}

TEST(frame_parser, close_payload_cuts_on_a_utf8_boundary)
{
    // A character of every length straddling byte 123 of the reason is dropped whole.
    for (std::string_view character : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E"}) {
        for (std::size_t before = 120; before <= 123; ++before) {
            std::string const reason = std::string(before, 'a') + std::string(character) + "tail";
            std::string const out = close_payload(1000, reason);
            SCOPED_TRACE(::testing::Message() << character.size() << "-byte char at " << before);
            EXPECT_LE(out.size(), 125u);
            EXPECT_TRUE(is_valid_utf8(out.substr(2)));
            bool const straddles = before < 123 && before + character.size() > 123;
            std::size_t const expected = straddles ? before : 123;  // the tail fills up to 123 otherwise
            EXPECT_EQ(out.size(), 2 + expected);
            EXPECT_EQ(out.substr(2), reason.substr(0, expected));
        }
    }
    // A close frame built from it passes the parser's own checks.
    std::string reason;
    while (reason.size() < 300)
        reason += "\xE2\x82\xAC";
    auto const payload = close_payload(1001, reason);
    auto const r = parse_frames(client_frame(opcode::close, payload));
    EXPECT_EQ(r.failure, parse_failure::none);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].code, 1001);
    EXPECT_EQ(r.events[0].payload.size(), 123u);
}

// ---- randomized -------------------------------------------------------------------------------------------

class frame_stream_generator : public random_input {
public:
    explicit frame_stream_generator(std::uint32_t seed) : random_input(seed) {}

    std::string next()
    {
        switch (pick(4)) {
        case 0: return random_bytes(pick(64));
        default: return mutate(valid_stream());
        }
    }

private:
    std::string random_payload()
    {
        static constexpr std::string_view pieces[] = {"a", "hello", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9D\x84\x9E",
                                                      "\xFF", "\xED\xA0\x80", "{\"type\":\"ping\"}"};
        std::string out;
        std::size_t const n = pick(8) == 0 ? 200 : pick(10);
        for (std::size_t i = 0; i < n; ++i)
            out += pieces[pick(std::size(pieces))];
        return out;
    }

    std::string valid_stream()
    {
        std::string out;
        std::size_t const frames = 1 + pick(6);
        for (std::size_t i = 0; i < frames; ++i) {
            switch (pick(6)) {
            case 0: out += text(random_payload()); break;
            case 1: out += client_frame(opcode::binary, random_payload()); break;
            case 2: out += ping(random_bytes(pick(20))); break;
            case 3:
                out += text(random_payload(), false) + ping("") + continuation(random_payload(), false) +
                       continuation(random_payload());
                break;
            case 4:
                out += close_frame(static_cast<std::uint16_t>(pick(2) ? 1000 : pick(6000)), random_payload());
                break;
            default: {
                raw_frame f(static_cast<std::uint8_t>(pick(256)), random_payload());
                out += encode(pick(8) == 0 ? f.unmasked() : f);
                break;
            }
            }
        }
        return out;
    }

    std::string mutate(std::string s)
    {
        std::size_t const edits = pick(4);
        for (std::size_t i = 0; i < edits && !s.empty(); ++i) {
            std::size_t const at = pick(s.size());
            switch (pick(4)) {
            case 0: s[at] = static_cast<char>(pick(256)); break;
            case 1: s[at] = static_cast<char>(s[at] ^ (1 << pick(8))); break;
            case 2: s.erase(at, 1 + pick(4)); break;
            default: s.insert(at, random_bytes(1 + pick(4))); break;
            }
        }
        return s;
    }
};

TEST(frame_parser, survives_random_and_mutated_input_in_random_chunks)
{
    frame_stream_generator generate(6455);
    std::size_t failures = 0, closes = 0, messages = 0;
    for (int i = 0; i < 100'000; ++i) {
        std::string const bytes = generate.next();
        std::size_t const max_size = generate.pick(2) ? 64 : max_message;

        frame_parser parser(max_size);
        recording_sink sink;
        for (std::size_t at = 0; at < bytes.size();) {
            std::size_t const chunk = 1 + generate.pick(generate.pick(2) ? 4 : 64);
            parser.feed(std::string_view(bytes).substr(at, chunk), sink);
            at += chunk;
        }

        if (parser.failure() != parse_failure::none) {
            ++failures;
            ASSERT_TRUE(parser.done()) << "input #" << i;
            ASSERT_FALSE(parser.failure_reason().empty()) << "input #" << i;
        }
        for (std::size_t e = 0; e < sink.events.size(); ++e) {
            auto const& ev = sink.events[e];
            if (ev.kind == "close") {
                ++closes;
                ASSERT_EQ(e + 1, sink.events.size()) << "input #" << i << ": events after a close";
                ASSERT_TRUE(parser.done());
                ASSERT_EQ(parser.failure(), parse_failure::none);
            } else if (ev.kind == "text") {
                ++messages;
                ASSERT_TRUE(is_valid_utf8(ev.payload)) << "input #" << i;
                ASSERT_LE(ev.payload.size(), max_size) << "input #" << i;
            } else if (ev.kind == "binary") {
                ASSERT_LE(ev.payload.size(), max_size) << "input #" << i;
            } else if (ev.kind == "ping" || ev.kind == "pong") {
                ASSERT_LE(ev.payload.size(), 125u) << "input #" << i;
            }
        }

        // Chunking never changes the outcome.
        auto const whole = parse_frames(bytes, max_size);
        ASSERT_EQ(whole.events, sink.events) << "input #" << i;
        ASSERT_EQ(whole.failure, parser.failure()) << "input #" << i;
        ASSERT_EQ(whole.done, parser.done()) << "input #" << i;

        // Once done, more input changes nothing.
        if (parser.done()) {
            auto const before = sink.events.size();
            parser.feed(text("more"), sink);
            ASSERT_EQ(sink.events.size(), before) << "input #" << i;
        }
    }
    // The generator is only useful if every outcome is common.
    EXPECT_GT(failures, 10'000u);
    EXPECT_GT(closes, 1'000u);
    EXPECT_GT(messages, 3'000u);
}

}  // namespace
