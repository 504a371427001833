// is_valid_topic: 1 to 128 characters of [A-Za-z0-9_.:@/-], nothing else.

#include <switchboard/topic.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using switchboard::is_valid_topic;
using switchboard::max_topic_length;

bool allowed(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == ':' || c == '@' || c == '/' || c == '-';
}

TEST(topic, accepts_ordinary_names)
{
    for (std::string_view name : {"a", "Z", "7", "news", "chat.room-1", "user@example.com", "orders/eu/42",
                                  "tenant:42:events", "snake_case_name", "CamelCase", "-", "...", "a/b/c/d/e"})
        EXPECT_TRUE(is_valid_topic(name)) << name;
}

TEST(topic, accepts_every_allowed_punctuation_character)
{
    for (char c : std::string_view("_.:@/-")) {
        EXPECT_TRUE(is_valid_topic(std::string(1, c))) << c;
        EXPECT_TRUE(is_valid_topic("a" + std::string(1, c) + "b")) << c;
    }
}

TEST(topic, accepts_exactly_the_allowed_characters_of_every_byte_value)
{
    for (int b = 0; b < 256; ++b) {
        auto const c = static_cast<char>(b);
        EXPECT_EQ(is_valid_topic(std::string(1, c)), allowed(static_cast<unsigned char>(b))) << "byte " << b;
        EXPECT_EQ(is_valid_topic("topic" + std::string(1, c) + "end"), allowed(static_cast<unsigned char>(b)))
            << "byte " << b << " in the middle";
    }
}

TEST(topic, refuses_an_empty_name)
{
    EXPECT_FALSE(is_valid_topic(""));
    EXPECT_FALSE(is_valid_topic(std::string_view{}));
}

TEST(topic, accepts_128_characters_and_refuses_129)
{
    EXPECT_EQ(max_topic_length, 128u);
    EXPECT_TRUE(is_valid_topic(std::string(128, 'a')));
    EXPECT_TRUE(is_valid_topic(std::string(127, 'a') + "/"));
    EXPECT_FALSE(is_valid_topic(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_topic(std::string(1000, 'a')));
}

TEST(topic, refuses_spaces_and_whitespace)
{
    for (std::string_view name : {" ", "a b", " a", "a ", "a\tb", "a\nb", "a\rb"})
        EXPECT_FALSE(is_valid_topic(name)) << name;
}

TEST(topic, refuses_characters_that_would_need_escaping)
{
    // ',' separates cursor entries, '+' is a space in forms, the rest need escaping in JSON, URLs or SSE.
    for (std::string_view name : {"a+b", "a,b", ",", "+", "a?b", "a#b", "a%20b", "a&b", "a=b", "a\"b", "a\\b",
                                  "a'b", "a<b>", "a*", "a!", "a$", "a;b", "a|b", "a~b", "a(b)", "a[b]", "a{b}",
                                  "a^b", "a`b"})
        EXPECT_FALSE(is_valid_topic(name)) << name;
}

TEST(topic, refuses_non_ascii_and_control_bytes)
{
    EXPECT_FALSE(is_valid_topic("caf\xC3\xA9"));          // é in UTF-8
    EXPECT_FALSE(is_valid_topic("\xE2\x82\xAC"));         // €
    EXPECT_FALSE(is_valid_topic("\xF0\x9F\x98\x80"));     // an emoji
    EXPECT_FALSE(is_valid_topic("a\xFF"));
    EXPECT_FALSE(is_valid_topic(std::string("a\0b", 3)));  // an embedded NUL is not the end of the name
    EXPECT_FALSE(is_valid_topic("a\x7F"));
}

}  // namespace
