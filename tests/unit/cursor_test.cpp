// Cursors: "<offset>.<epoch>.<topic>" entries joined by ','. The text form round-trips, and everything that is
// not exactly that form is refused with error::invalid_cursor.

#include "support/random_input.hpp"

#include <switchboard/cursor.hpp>
#include <switchboard/error.hpp>
#include <switchboard/topic.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using switchboard::cursor;
using switchboard::decode_cursor;
using switchboard::encode_cursor;
using switchboard::error;
using switchboard::position;
using switchboard::topic_position;
using switchboard::test::epoch_chars;
using switchboard::test::random_input;
using switchboard::test::topic_chars;

constexpr std::size_t many = 64;

boost::system::error_code decode(std::string_view text, cursor& out, std::size_t max_entries = many)
{
    return decode_cursor(text, out, max_entries);
}

bool refused(std::string_view text, std::size_t max_entries = many)
{
    cursor out;
    return decode_cursor(text, out, max_entries) == error::invalid_cursor;
}

TEST(cursor, encodes_entries_in_order)
{
    cursor const c{{"news", {5, "abc"}}, {"chat.room", {7, "XyZ9"}}, {"a/b", {0, ""}}};
    EXPECT_EQ(encode_cursor(c), "5.abc.news,7.XyZ9.chat.room,0..a/b");
}

TEST(cursor, encodes_an_empty_cursor_as_empty_text)
{
    EXPECT_EQ(encode_cursor({}), "");
}

TEST(cursor, append_cursor_entry_separates_entries_with_commas)
{
    std::string out;
    switchboard::append_cursor_entry(out, "a", {1, "e"});
    EXPECT_EQ(out, "1.e.a");
    switchboard::append_cursor_entry(out, "b", {2, "f"});
    EXPECT_EQ(out, "1.e.a,2.f.b");
}

TEST(cursor, round_trips_several_entries)
{
    cursor const c{
        {"news", {1, "abc"}},
        {"chat.room.with.dots", {42, "e0"}},
        {"user@example.com", {std::numeric_limits<std::uint64_t>::max(), std::string(32, 'Z')}},
        {"tenant:1/orders-eu_2", {0, ""}},
        {std::string(128, 'x'), {999, "0123456789"}},
    };
    cursor out{{"stale", {3, "x"}}};
    ASSERT_FALSE(decode(encode_cursor(c), out));
    EXPECT_EQ(out, c);
}

TEST(cursor, decodes_a_topic_that_contains_dots)
{
    cursor out;
    ASSERT_FALSE(decode("12.ep.a.b.c", out));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].topic, "a.b.c");
    EXPECT_EQ(out[0].where, (position{12, "ep"}));
}

TEST(cursor, decodes_empty_text_as_no_entries)
{
    cursor out{{"stale", {3, "x"}}};
    EXPECT_FALSE(decode("", out));
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(decode("", out, 0));
}

TEST(cursor, refuses_a_bad_offset)
{
    for (std::string_view text : {"x.e.t", "1x.e.t", "-1.e.t", "+1.e.t", " 1.e.t", "1 .e.t", ".e.t", "0x1.e.t",
                                  "1e3.e.t", "\xEF\xBC\x91.e.t"})
        EXPECT_TRUE(refused(text)) << text;
}

TEST(cursor, accepts_the_largest_offset_and_refuses_one_more)
{
    cursor out;
    ASSERT_FALSE(decode("18446744073709551615.e.t", out));
    EXPECT_EQ(out.at(0).where.offset, std::numeric_limits<std::uint64_t>::max());
    EXPECT_TRUE(refused("18446744073709551616.e.t"));
    EXPECT_TRUE(refused("99999999999999999999999999.e.t"));
}

TEST(cursor, refuses_an_epoch_that_is_not_alphanumeric)
{
    for (std::string_view text : {"1.e-x.t", "1.e_x.t", "1.e x.t", "1.e:x.t", "1.e@x.t", "1.e/x.t",
                                  "1.caf\xC3\xA9.t", "1.e\xFF.t", "1.e+.t"})
        EXPECT_TRUE(refused(text)) << text;
}

TEST(cursor, accepts_an_epoch_of_32_characters_and_refuses_33)
{
    EXPECT_EQ(switchboard::max_epoch_length, 32u);
    cursor out;
    EXPECT_FALSE(decode("1." + std::string(32, 'a') + ".t", out));
    EXPECT_TRUE(refused("1." + std::string(33, 'a') + ".t"));
}

TEST(cursor, refuses_an_entry_with_missing_parts)
{
    for (std::string_view text : {"1", "1.", "1.e", "1.e.", "..t", "1..", "t", ".", ".."})
        EXPECT_TRUE(refused(text)) << text;
}

TEST(cursor, refuses_an_entry_with_an_invalid_topic)
{
    EXPECT_TRUE(refused("1.e.a b"));
    EXPECT_TRUE(refused("1.e.a+b"));
    EXPECT_TRUE(refused("1.e.caf\xC3\xA9"));
    EXPECT_TRUE(refused("1.e." + std::string(129, 'a')));
    EXPECT_TRUE(refused("1.e.ok,2.f.bad#topic"));
    cursor out;
    EXPECT_FALSE(decode("1.e." + std::string(128, 'a'), out));
}

TEST(cursor, refuses_a_duplicate_topic)
{
    EXPECT_TRUE(refused("1.e.a,2.f.a"));
    EXPECT_TRUE(refused("1.e.a,2.f.b,3.g.a"));
    cursor out;
    EXPECT_FALSE(decode("1.e.a,2.f.b,3.g.ab", out));
    EXPECT_EQ(out.size(), 3u);
}

TEST(cursor, refuses_more_than_max_entries)
{
    std::string const three = "1.e.a,2.e.b,3.e.c";
    cursor out;
    EXPECT_FALSE(decode(three, out, 3));
    EXPECT_EQ(out.size(), 3u);
    EXPECT_TRUE(refused(three, 2));
    EXPECT_TRUE(refused("1.e.a", 0));
}

TEST(cursor, refuses_stray_commas)
{
    for (std::string_view text : {"1.e.a,", ",1.e.a", "1.e.a,,2.e.b", ",", ",,", "1.e.a, 2.e.b"})
        EXPECT_TRUE(refused(text)) << text;
}

// ---- randomized -------------------------------------------------------------------------------------------

// Every way a decoded cursor must be well formed, whatever text it came from.
void expect_well_formed(cursor const& c, std::size_t max_entries)
{
    EXPECT_LE(c.size(), max_entries);
    std::set<std::string> seen;
    for (auto const& e : c) {
        EXPECT_TRUE(switchboard::is_valid_topic(e.topic)) << e.topic;
        EXPECT_LE(e.where.epoch.size(), switchboard::max_epoch_length);
        EXPECT_TRUE(std::all_of(e.where.epoch.begin(), e.where.epoch.end(),
                                [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; }))
            << e.where.epoch;
        EXPECT_TRUE(seen.insert(e.topic).second) << "duplicate " << e.topic;
    }
}

class cursor_input_generator : private random_input {
public:
    explicit cursor_input_generator(std::uint32_t seed) : random_input(seed) {}

    std::string next()
    {
        switch (pick(4)) {
        case 0: return random_bytes(pick(40));
        case 1: return random_from(".,0123456789abcXYZ/:-_@ +%", pick(40));
        default: return mutate(valid_cursor());
        }
    }

private:
    std::string valid_cursor()
    {
        std::string out;
        std::size_t const entries = 1 + pick(5);
        for (std::size_t i = 0; i < entries; ++i) {
            std::uint64_t offset = pick(3) == 0 ? std::numeric_limits<std::uint64_t>::max() - pick(3) : pick(100000);
            switchboard::append_cursor_entry(out, random_from(topic_chars, 1 + pick(pick(8) == 0 ? 128 : 12)),
                                             {offset, random_from(epoch_chars, pick(pick(8) == 0 ? 33 : 10))});
        }
        return out;
    }

    std::string mutate(std::string s)
    {
        std::size_t const edits = pick(4);
        for (std::size_t i = 0; i < edits; ++i) {
            std::size_t const at = s.empty() ? 0 : pick(s.size() + 1);
            switch (pick(6)) {
            case 0:  // insert a structural or random byte
                s.insert(at, 1, pick(2) ? ".,9"[pick(3)] : static_cast<char>(pick(256)));
                break;
            case 1:  // delete
                if (at < s.size())
                    s.erase(at, 1 + pick(3));
                break;
            case 2:  // replace
                if (at < s.size())
                    s[at] = static_cast<char>(pick(256));
                break;
            case 3:  // duplicate a slice (often a whole entry, making a duplicate topic)
                if (!s.empty()) {
                    std::size_t const from = pick(s.size());
                    s.insert(at, s.substr(from, 1 + pick(s.size() - from)));
                }
                break;
            case 4:  // truncate
                s.resize(at);
                break;
            default:  // glue another cursor on
                s += pick(2) ? "," : "";
                s += valid_cursor();
                break;
            }
        }
        return s;
    }
};

TEST(cursor, decodes_random_and_mutated_text_safely_and_consistently)
{
    cursor_input_generator generate(20240611);
    std::size_t decoded = 0;
    for (int i = 0; i < 100'000; ++i) {
        std::string const text = generate.next();
        std::size_t const max_entries = i % 7 == 0 ? 2 : many;
        cursor first;
        auto const ec = decode_cursor(text, first, max_entries);
        if (ec) {
            ASSERT_EQ(ec, error::invalid_cursor) << "input #" << i;
            continue;
        }
        ++decoded;
        expect_well_formed(first, max_entries);
        std::string const again = encode_cursor(first);
        cursor second;
        ASSERT_FALSE(decode_cursor(again, second, max_entries)) << "input #" << i << ": " << again;
        ASSERT_EQ(second, first) << "input #" << i << ": " << text;
        ASSERT_EQ(encode_cursor(second), again);
        if (::testing::Test::HasFailure())
            FAIL() << "input #" << i << ": " << text;
    }
    // The generator is only useful if it reaches both outcomes often.
    EXPECT_GT(decoded, 10'000u);
    EXPECT_LT(decoded, 90'000u);
}

}  // namespace
