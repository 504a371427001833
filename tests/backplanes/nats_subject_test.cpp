// Topics as NATS subjects: one-to-one, always a valid subject, hierarchy kept.

#include "backplanes/nats/subject.hpp"

#include <gtest/gtest.h>

#include <set>

namespace switchboard::nats {
namespace {

TEST(nats_subject, a_topic_keeps_its_hierarchy)
{
    subjects s("switchboard");
    EXPECT_EQ(s.stored("chat.room-1"), "switchboard.topic.chat.room-1");
    EXPECT_EQ(s.live("chat.room-1"), "switchboard.live.chat.room-1");
    EXPECT_EQ(s.stored("user@host:8080/x_y"), "switchboard.topic.user@host:8080/x_y");
    EXPECT_EQ(s.stored_wildcard(), "switchboard.topic.>");
    EXPECT_EQ(s.live_wildcard(), "switchboard.live.>");
}

TEST(nats_subject, empty_parts_become_a_token_no_topic_has)
{
    EXPECT_EQ(topic_tokens("a..b"), "a.~.b");
    EXPECT_EQ(topic_tokens(".a"), "~.a");
    EXPECT_EQ(topic_tokens("a."), "a.~");
    EXPECT_EQ(topic_tokens("."), "~.~");
    EXPECT_EQ(topic_tokens("..."), "~.~.~.~");
}

TEST(nats_subject, the_mapping_goes_both_ways)
{
    for (std::string topic : {"a", "a.b", "a..b", ".a", "a.", ".", "...", "x.y.z", "-_:@/"}) {
        auto tokens = topic_tokens(topic);
        EXPECT_EQ(tokens.find(".."), std::string::npos) << topic;
        EXPECT_NE(tokens.front(), '.') << topic;
        EXPECT_NE(tokens.back(), '.') << topic;
        EXPECT_EQ(topic_of_tokens(tokens), topic) << tokens;
    }
    subjects s("acme.prod");
    EXPECT_EQ(s.topic_of("acme.prod.live.a.~.b"), "a..b");
    EXPECT_EQ(s.topic_of("acme.prod.topic.x"), "x");
    EXPECT_EQ(s.topic_of("other.live.x"), std::nullopt);
}

TEST(nats_subject, tokens_no_topic_gives_are_refused)
{
    for (std::string tokens : {"", "a..b", ".a", "a.", "a.*", "a.>", "a~b", "a b", "~"}) {
        auto topic = topic_of_tokens(tokens);
        if (topic)  // "~" alone is the topic "" which is not a topic
            ADD_FAILURE() << "'" << tokens << "' gave '" << *topic << "'";
    }
}

TEST(nats_subject, distinct_topics_get_distinct_subjects)
{
    std::vector<std::string> topics{"a.b", "a..b", "ab", "a", "a.", ".a", ".", "..", "a...b", "a._.b"};
    std::set<std::string> seen;
    for (auto const& t : topics)
        EXPECT_TRUE(seen.insert(topic_tokens(t)).second) << t;
}

TEST(nats_subject, prefixes_are_checked)
{
    EXPECT_TRUE(is_valid_prefix("switchboard"));
    EXPECT_TRUE(is_valid_prefix("acme.prod"));
    for (std::string bad : {"", ".a", "a.", "a..b", "a b", "a.*", "a.>", "a\tb"})
        EXPECT_FALSE(is_valid_prefix(bad)) << bad;
    EXPECT_THROW(subjects("a..b"), std::invalid_argument);
    EXPECT_EQ(subjects("acme.prod/eu").stream_name(), "acme_prod_eu");
}

}  // namespace
}  // namespace switchboard::nats
