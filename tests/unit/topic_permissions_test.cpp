// Topic permissions from configuration and token claims, and the token buckets of the rate limits.

#include "security/rate_limiter.hpp"
#include "security/topic_permissions.hpp"

#include <gtest/gtest.h>

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
