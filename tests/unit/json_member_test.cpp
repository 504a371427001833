// find_member: where a member's value lies in the text of a JSON object (src/core/json_member.hpp), which is how a
// WebSocket publish command's "data" reaches subscribers byte for byte. Cases for each kind of value and key
// spelling, then 20,000 generated objects written by hand with odd whitespace, escapes, decoys and repeated
// members, whose every "data" value text is known: the scanner must find exactly that text, and agree with
// nlohmann on which member a parser keeps (the last).

#include "core/json_member.hpp"

#include "support/random_input.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace {

using nlohmann::json;
using switchboard::detail::find_member;

std::string_view data_of(std::string_view object)
{
    auto const m = find_member(object, "data");
    EXPECT_EQ(m.count, 1u) << object;
    return m.value;
}

TEST(json_member, finds_the_value_text_of_each_kind)
{
    for (std::string_view value :
         {"1", "-0", "1.10", "1e2", "1E+2", "0.1e-7", "12345678901234567890123", "true", "false", "null", R"("")",
          R"("a\"b\\")", R"("\\")", R"("\u0022]}")", "[]", "{}", "[1,[2,[3]],{}]", R"({"a":{"b":[]}})",
          R"({"data":1})", R"(["}","]","{","[","\"","\\"])", "\"h\xC3\xA9 \xF0\x9F\x98\x80\"", "[ 1 ,\n\t2 ]"}) {
        EXPECT_EQ(data_of(R"({"data":)" + std::string(value) + "}"), value);
        EXPECT_EQ(data_of(R"({"data":)" + std::string(value) + R"(,"after":[1]})"), value);
        EXPECT_EQ(data_of(R"({"before":[1],"data":)" + std::string(value) + "}"), value);
        EXPECT_EQ(data_of("\xEF\xBB\xBF \r\n{ \t\"data\"\n:\r\n " + std::string(value) + " \n}\n"), value);
    }
}

TEST(json_member, compares_keys_unescaped)
{
    EXPECT_EQ(data_of(R"({"d\u0061ta":5})"), "5");
    EXPECT_EQ(data_of(R"({"\u0064\u0061\u0074\u0061":[5]})"), "[5]");
    for (std::string_view other : {R"({"Data":1})", R"({"data ":1})", R"({"dat":1})", R"({"datum":1})",
                                   R"({"d\"ata":1})", R"({"da\\ta":1})", R"({"x":{"data":1}})", R"({"x":"\"data\":1"})",
                                   R"({"x":["data",1]})", "{}"}) {
        auto const m = find_member(other, "data");
        EXPECT_EQ(m.count, 0u) << other;
        EXPECT_TRUE(m.value.empty()) << other;
    }
}

TEST(json_member, counts_repeated_members_and_gives_the_last_as_a_parser_keeps)
{
    std::string_view const text = R"({"data":1,"x":2,"d\u0061ta":[3],"data" : "4"})";
    auto const m = find_member(text, "data");
    EXPECT_EQ(m.count, 3u);
    EXPECT_EQ(m.value, R"("4")");
    EXPECT_EQ(json::parse(text)["data"], json::parse(m.value));
}

TEST(json_member, stays_within_text_that_is_not_a_valid_object)
{
    for (std::string_view text : {"", "{", "[", "\"data\"", R"({"data")", R"({"data":)", R"({"data":")", R"({"data":[)",
                                  R"({"data":"\)", R"({"data":1)", R"({"data" 1})", R"({data:1})", "]", "}}}"}) {
        auto const m = find_member(text, "data");
        if (!m.value.empty()) {
            EXPECT_GE(m.value.data(), text.data()) << text;
            EXPECT_LE(m.value.data() + m.value.size(), text.data() + text.size()) << text;
        }
    }
}

// ---- generated objects --------------------------------------------------------------------------------------

class object_writer : public switchboard::test::random_input {
public:
    explicit object_writer(std::uint32_t seed) : random_input(seed) {}

    struct written {
        std::string text;
        std::string last_data;  // the text of the last "data" member's value
        std::size_t data_members = 0;
    };

    written object()
    {
        written out;
        out.text = whitespace() + "{";
        std::size_t const members = pick(7);
        for (std::size_t i = 0; i < members; ++i) {
            if (i)
                out.text += ',';
            auto const [key, is_data] = this->key();
            auto const value = this->value(pick(4));
            out.text += whitespace() + key + whitespace() + ':' + whitespace() + value + whitespace();
            if (is_data) {
                out.last_data = value;
                ++out.data_members;
            }
        }
        out.text += whitespace() + "}" + whitespace();
        return out;
    }

private:
    std::string whitespace()
    {
        static constexpr std::string_view pieces[] = {"", "", "", " ", "\t", "\n", "\r\n", "  \n\t "};
        return std::string(pieces[pick(std::size(pieces))]);
    }

    std::pair<std::string, bool> key()
    {
        static constexpr std::pair<std::string_view, bool> keys[] = {
            {R"("data")", true},       {R"("d\u0061ta")", true}, {R"("\u0064ata")", true}, {R"("dat\u0061")", true},
            {R"("type")", false},      {R"("topic")", false},    {R"("Data")", false},     {R"("data ")", false},
            {R"("d\"ata")", false},    {R"("")", false},         {R"("\\data")", false},   {R"("da\nta")", false},
            {"\"d\xC3\xA1ta\"", false}, {R"("id")", false},
        };
        auto const& k = keys[pick(std::size(keys))];
        return {std::string(k.first), k.second};
    }

    std::string string()
    {
        static constexpr std::string_view pieces[] = {
            "a", "data", "\\\"", "\\\\", "\\/", "\\n", "\\u0000", "\\ud83d\\ude00", "\\u0022", "[", "]", "{", "}",
            ",", ":", "\\\"data\\\":", " ", "\xC3\xA9", "\xF0\x9F\x98\x80", "\\\\\\\""};
        std::string out = "\"";
        for (std::size_t i = 0, n = pick(6); i < n; ++i)
            out += pieces[pick(std::size(pieces))];
        return out + "\"";
    }

    std::string value(std::size_t depth)
    {
        static constexpr std::string_view scalars[] = {"0", "-0", "1.10", "1e2", "1E+2", "0.1e-7", "-5",
                                                       "12345678901234567890123", "true", "false", "null"};
        switch (depth == 0 ? pick(2) : pick(4)) {
        case 0: return std::string(scalars[pick(std::size(scalars))]);
        case 1: return string();
        case 2: {
            std::string out = "[" + whitespace();
            for (std::size_t i = 0, n = pick(4); i < n; ++i)
                out += (i ? "," : "") + whitespace() + value(depth - 1) + whitespace();
            return out + "]";
        }
        default: {
            std::string out = "{" + whitespace();
            for (std::size_t i = 0, n = pick(4); i < n; ++i)
                out += (i ? "," : "") + whitespace() + key().first + whitespace() + ":" + whitespace() +
                       value(depth - 1) + whitespace();
            return out + "}";
        }
        }
    }
};

TEST(json_member, finds_every_data_member_of_generated_objects)
{
    object_writer write(20240613);
    std::size_t none = 0, one = 0, several = 0;
    for (int i = 0; i < 20'000; ++i) {
        auto const w = write.object();
        json const parsed = json::parse(w.text, nullptr, /*allow_exceptions=*/false);
        ASSERT_FALSE(parsed.is_discarded()) << "the generator wrote invalid JSON: " << w.text;
        auto const m = find_member(w.text, "data");
        ASSERT_EQ(m.count, w.data_members) << w.text;
        ASSERT_EQ(m.value, w.last_data) << w.text;
        // The member a parser keeps is the one found.
        ASSERT_EQ(parsed.contains("data"), m.count > 0) << w.text;
        if (m.count > 0) {
            ASSERT_EQ(parsed["data"], json::parse(m.value)) << w.text;
        }
        (m.count == 0 ? none : m.count == 1 ? one : several) += 1;
    }
    // Every case is common.
    EXPECT_GT(none, 2'000u);
    EXPECT_GT(one, 2'000u);
    EXPECT_GT(several, 1'000u);
}

}  // namespace
