// Topic permissions from configuration and token claims, and the token buckets of the rate limits.

#include "security/rate_limiter.hpp"
#include "security/topic_permissions.hpp"

#include <switchboard/topic.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace switchboard::detail {
namespace {

using namespace std::chrono_literals;

TEST(topic_permissions, patterns_are_exact_names_prefixes_or_everything)
{
    EXPECT_TRUE(topic_matches("*", "anything"));
    EXPECT_TRUE(topic_matches("chat.*", "chat.room"));
    EXPECT_TRUE(topic_matches("chat.*", "chat."));
    EXPECT_FALSE(topic_matches("chat.*", "chat"));
    EXPECT_TRUE(topic_matches("news", "news"));
    EXPECT_FALSE(topic_matches("news", "news2"));
    EXPECT_FALSE(any_matches({}, "x"));
}

TEST(topic_permissions, a_pattern_is_allowed_only_when_a_permission_contains_every_topic_it_matches)
{
    EXPECT_TRUE(permission_contains("*", ">"));
    EXPECT_TRUE(permission_contains("*", "*.x"));
    EXPECT_TRUE(permission_contains("chat.*", "chat.*"));
    EXPECT_TRUE(permission_contains("chat.*", "chat.>"));
    EXPECT_TRUE(permission_contains("chat.*", "chat.room.*"));
    EXPECT_TRUE(permission_contains("ch*", "chat.*"));
    EXPECT_TRUE(permission_contains("chat.ro*", "chat.room.>"));
    EXPECT_FALSE(permission_contains("chat.ro*", "chat.*"));  // chat.x is not allowed
    EXPECT_FALSE(permission_contains("chat.*", "*.chat"));
    EXPECT_FALSE(permission_contains("chat.*", ">"));
    EXPECT_FALSE(permission_contains("chat.a", "chat.*"));    // an exact name contains no pattern
    EXPECT_FALSE(permission_contains("chat.*", "chatter.*"));

    security_options o;
    o.anonymous_subscribe = {"public.*", "news"};
    o.user_subscribe = {"*"};
    identity const nobody;
    EXPECT_TRUE(may_subscribe_pattern(o, nobody, "public.>"));
    EXPECT_FALSE(may_subscribe_pattern(o, nobody, "news.*"));
    identity user;
    user.authenticated = true;
    EXPECT_TRUE(may_subscribe_pattern(o, user, ">"));
    user.claims = {{"sub_topics", {"chat.*", "user.ann"}}};
    EXPECT_TRUE(may_subscribe_pattern(o, user, "chat.*.typing"));
    EXPECT_FALSE(may_subscribe_pattern(o, user, "user.*"));
    EXPECT_FALSE(may_subscribe_pattern(o, user, ">"));
}

// Never reveals: whenever a permission contains a pattern, every topic made from the pattern (its wildcards
// filled with random tokens) is one the permission allows by name.
TEST(topic_permissions, a_contained_pattern_matches_only_allowed_topics)
{
    std::mt19937 rng(7);
    char const* const tokens[] = {"a", "b", "ab", "ba", "*", ">"};
    char const* const perms[] = {"*", "a*", "a.*", "a.b*", "ab*", "a.a*", "b.*", "a.b", "a.*.b*", ""};
    auto const token = [&] { return std::string(1, "ab"[rng() % 2]) + (rng() % 2 ? "b" : ""); };
    std::size_t contained = 0;
    for (int k = 0; k < 20'000; ++k) {
        std::string pattern;
        std::size_t const n = 1 + rng() % 4;
        for (std::size_t i = 0; i < n; ++i)
            pattern += (i ? "." : "") + std::string(tokens[rng() % (i + 1 == n ? 6 : 5)]);
        if (!is_valid_pattern(pattern))
            continue;
        std::string const perm = perms[rng() % std::size(perms)];
        if (!permission_contains(perm, pattern))
            continue;
        ++contained;
        for (int t = 0; t < 20; ++t) {
            std::string topic;
            std::size_t from = 0;
            for (;;) {
                auto const dot = pattern.find('.', from);
                auto const tok = pattern.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
                if (tok == "*")
                    topic += token();
                else if (tok == ">")
                    for (std::size_t r = 1 + rng() % 3, i = 0; i < r; ++i)
                        topic += (i ? "." : "") + token();
                else
                    topic += tok;
                if (dot == std::string::npos)
                    break;
                topic += '.';
                from = dot + 1;
            }
            ASSERT_TRUE(pattern_matches(pattern, topic)) << pattern << " " << topic;
            ASSERT_TRUE(topic_matches(perm, topic)) << perm << " contains " << pattern << " but not " << topic;
        }
    }
    EXPECT_GT(contained, 1'000u);
}

TEST(topic_permissions, claims_narrow_the_configuration_for_users_only)
{
    security_options o;
    o.user_subscribe = {"chat.*", "news"};
    o.anonymous_subscribe = {"public.*"};
    o.anonymous_publish = {};
    identity user;
    user.authenticated = true;
    user.claims = {{"sub_topics", {"chat.a"}}};
    EXPECT_TRUE(may_subscribe(o, user, "chat.a"));
    EXPECT_FALSE(may_subscribe(o, user, "chat.b"));  // config allows, claim does not
    EXPECT_FALSE(may_subscribe(o, user, "other"));
    EXPECT_TRUE(may_publish(o, user, "anything"));   // no pub_topics claim: the configuration alone
    user.claims = {{"pub_topics", "chat.*"}};        // not a list: allows nothing
    EXPECT_FALSE(may_publish(o, user, "chat.a"));
    identity const nobody;
    EXPECT_TRUE(may_subscribe(o, nobody, "public.x"));
    EXPECT_FALSE(may_subscribe(o, nobody, "chat.a"));
    EXPECT_FALSE(may_publish(o, nobody, "public.x"));
}

TEST(rate_limiter, a_bucket_allows_its_burst_then_its_rate)
{
    rate_limit const limit{10, 5};
    token_bucket b;
    auto const t0 = rate_clock::now();
    std::chrono::milliseconds wait{0};
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(b.take(limit, t0, wait));
    EXPECT_FALSE(b.take(limit, t0, wait));
    EXPECT_EQ(wait, 100ms);
    EXPECT_TRUE(b.take(limit, t0 + 101ms, wait));
    EXPECT_FALSE(b.take(limit, t0 + 101ms, wait));
    EXPECT_TRUE(b.full(limit, t0 + 10s));
    token_bucket off;
    for (int i = 0; i < 1000; ++i)
        EXPECT_TRUE(off.take(rate_limit{}, t0, wait));
}

TEST(rate_limiter, keyed_buckets_stay_bounded)
{
    rate_limit const limit{1, 1};
    keyed_rate_limiter keyed;
    auto const t0 = rate_clock::now();
    std::chrono::milliseconds wait{0};
    EXPECT_TRUE(keyed.take("a", limit, 2, t0, wait));
    EXPECT_FALSE(keyed.take("a", limit, 2, t0, wait));
    EXPECT_TRUE(keyed.take("b", limit, 2, t0, wait));
    EXPECT_TRUE(keyed.take("c", limit, 2, t0, wait));  // over the bound: unlimited, not tracked
    EXPECT_EQ(keyed.size(), 2u);
    EXPECT_TRUE(keyed.take("d", limit, 2, t0 + 5s, wait));  // the sweep forgot the refilled ones
    EXPECT_LE(keyed.size(), 2u);
}

}  // namespace
}  // namespace switchboard::detail
