// parse_target: a request target split into its path and percent-decoded query parameters.

#include "http/query.hpp"

#include <switchboard/error.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using switchboard::error;
using switchboard::detail::parse_target;
using switchboard::detail::percent_decode;
using switchboard::detail::query;
using params = std::vector<std::pair<std::string, std::string>>;

struct parsed_query {
    boost::system::error_code ec;
    std::string path;
    query q;
};

parsed_query parse_query(std::string_view target, std::size_t max_params = 64)
{
    parsed_query out;
    std::string_view path;
    out.ec = parse_target(target, path, out.q, max_params);
    out.path = std::string(path);
    return out;
}

TEST(query, takes_a_target_without_a_query_as_the_path)
{
    auto const r = parse_query("/events");
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(r.path, "/events");
    EXPECT_TRUE(r.q.params.empty());
}

TEST(query, splits_the_path_from_the_query)
{
    auto const r = parse_query("/publish?topic=news&data=1");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.path, "/publish");
    EXPECT_EQ(r.q.params, (params{{"topic", "news"}, {"data", "1"}}));
}

TEST(query, splits_at_the_first_question_mark)
{
    auto const r = parse_query("/p?a=b?c&d=?");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.path, "/p");
    EXPECT_EQ(r.q.params, (params{{"a", "b?c"}, {"d", "?"}}));
}

TEST(query, accepts_an_empty_query)
{
    auto const r = parse_query("/p?");
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(r.path, "/p");
    EXPECT_TRUE(r.q.params.empty());
}

TEST(query, keeps_repeated_parameters_in_order)
{
    auto const r = parse_query("/events?topic=a&since=x&topic=b&topic=c");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.all("topic"), (std::vector<std::string>{"a", "b", "c"}));
    ASSERT_NE(r.q.find("topic"), nullptr);
    EXPECT_EQ(*r.q.find("topic"), "a");
    ASSERT_NE(r.q.find("since"), nullptr);
    EXPECT_EQ(*r.q.find("since"), "x");
}

TEST(query, finds_nothing_for_a_missing_parameter)
{
    auto const r = parse_query("/p?a=1");
    EXPECT_EQ(r.q.find("b"), nullptr);
    EXPECT_TRUE(r.q.all("b").empty());
    EXPECT_EQ(r.q.find("A"), nullptr);  // names are case-sensitive
}

TEST(query, reads_a_name_without_a_value_as_empty)
{
    auto const r = parse_query("/p?flag&=v&a=1=2&b=");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.params, (params{{"flag", ""}, {"", "v"}, {"a", "1=2"}, {"b", ""}}));
}

TEST(query, percent_decodes_names_and_values)
{
    auto const r = parse_query("/p?topic=orders%2Feu%3A42&t%6Fpic=%2f%3a&sp=a%20b");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.params, (params{{"topic", "orders/eu:42"}, {"topic", "/:"}, {"sp", "a b"}}));
}

TEST(query, decodes_lowercase_and_uppercase_hex_alike)
{
    auto const r = parse_query("/p?a=%e2%82%ac&b=%E2%82%AC&c=%aB");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.params, (params{{"a", "\xE2\x82\xAC"}, {"b", "\xE2\x82\xAC"}, {"c", "\xAB"}}));
}

TEST(query, keeps_plus_as_a_literal_plus)
{
    auto const r = parse_query("/p?a=1+2&b=%2B");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.params, (params{{"a", "1+2"}, {"b", "+"}}));
}

TEST(query, does_not_decode_the_path)
{
    auto const r = parse_query("/a%2Fb?x=1");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.path, "/a%2Fb");
}

TEST(query, refuses_malformed_escapes)
{
    for (std::string_view target : {"/p?a=%", "/p?a=%4", "/p?a=%GZ", "/p?a=%G1", "/p?a=%1G", "/p?a=1%", "/p?a=%%41",
                                    "/p?a=% 1", "/p?%zz=1", "/p?%=1", "/p?ok=1&a=%4&b=2", "/p?a=%-1"}) {
        auto const r = parse_query(target);
        EXPECT_EQ(r.ec, error::bad_request) << target;
    }
}

TEST(query, accepts_an_escape_at_the_very_end)
{
    auto const r = parse_query("/p?a=%41");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.params, (params{{"a", "A"}}));
}

TEST(query, refuses_more_than_max_params)
{
    EXPECT_FALSE(parse_query("/p?a=1&b=2&c=3", 3).ec);
    EXPECT_EQ(parse_query("/p?a=1&b=2&c=3&d=4", 3).ec, error::bad_request);
    EXPECT_EQ(parse_query("/p?a=1", 0).ec, error::bad_request);
    EXPECT_FALSE(parse_query("/p?", 0).ec);

    std::string target = "/p?";
    for (int i = 0; i < 64; ++i)
        target += "t=" + std::to_string(i) + "&";
    EXPECT_FALSE(parse_query(target).ec);  // the default is 64
    EXPECT_EQ(parse_query(target + "one=more").ec, error::bad_request);
}

TEST(query, skips_empty_pairs)
{
    auto const r = parse_query("/p?&&a=1&&&b=2&", 2);  // the empty pairs do not count against max_params
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.params, (params{{"a", "1"}, {"b", "2"}}));
    EXPECT_TRUE(parse_query("/p?&&&").q.params.empty());
}

TEST(query, drops_a_fragment)
{
    auto r = parse_query("/p?a=1#frag");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.params, (params{{"a", "1"}}));

    r = parse_query("/p?a=1&b=2#x&c=3");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.q.params, (params{{"a", "1"}, {"b", "2"}}));

    r = parse_query("/p?#a=1");
    ASSERT_FALSE(r.ec);
    EXPECT_TRUE(r.q.params.empty());

    r = parse_query("/p?a=%4#1");  // the escape is cut short by the fragment
    EXPECT_EQ(r.ec, error::bad_request);
}

TEST(query, clears_earlier_parameters)
{
    query q;
    std::string_view path;
    ASSERT_FALSE(parse_target("/p?a=1&b=2", path, q));
    ASSERT_FALSE(parse_target("/q", path, q));
    EXPECT_EQ(path, "/q");
    EXPECT_TRUE(q.params.empty());
}

TEST(query, percent_decode_handles_every_byte_value)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; ++b) {
        std::string const encoded = {'x', '%', hex[b >> 4], hex[b & 15], 'y'};
        std::string out;
        ASSERT_TRUE(percent_decode(encoded, out)) << encoded;
        EXPECT_EQ(out, (std::string{'x', static_cast<char>(b), 'y'}));
    }
}

TEST(query, percent_decode_refuses_short_escapes)
{
    std::string out;
    EXPECT_TRUE(percent_decode("", out));
    EXPECT_EQ(out, "");
    EXPECT_FALSE(percent_decode("%", out));
    EXPECT_FALSE(percent_decode("%4", out));
    EXPECT_FALSE(percent_decode("ab%4", out));
    EXPECT_TRUE(percent_decode("ab%41", out));
    EXPECT_EQ(out, "abA");
}

}  // namespace
