// Patterns (topic.hpp) and their token trie (core/pattern_trie.hpp), and the hub delivering through them: the
// syntax and its errors, the trie against a reference matcher on 100,000 random pattern/topic pairs (the
// reference itself checked against a regular expression), and the hub's fan-out handing each message once to a
// channel however many of its subscriptions match, while channels come and go.

#include <switchboard/hub.hpp>
#include <switchboard/topic.hpp>

#include "core/pattern_trie.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using switchboard::is_valid_pattern;
using switchboard::pattern_matches;
using switchboard::pattern_problem;

TEST(pattern, syntax_accepts_nats_patterns)
{
    for (char const* p : {"a.*", "a.>", "*", ">", "*.b.*", "a.*.>", "sports.*.live", "x:1/@_-.*", "*.*"})
        EXPECT_EQ(pattern_problem(p), "") << p;
}

TEST(pattern, syntax_refuses_with_the_rule_broken)
{
    std::map<std::string, std::string> cases = {
        {"", "1-128 characters"},
        {std::string(129, 'a') + ".*", "1-128 characters"},
        {"a.b", "wildcard"},
        {"a..*", "not empty"},
        {".a.*", "not empty"},
        {"a.*.", "not empty"},
        {"a.>.b", "last token"},
        {">.a", "last token"},
        {"a*.b", "'*', '>' or characters"},
        {"a.b>", "'*', '>' or characters"},
        {"a b.*", "'*', '>' or characters"},
        {"a.**", "'*', '>' or characters"},
        {"a.\xc3\xa9.*", "'*', '>' or characters"},
    };
    std::string many = "*";
    for (std::size_t i = 1; i < switchboard::max_pattern_tokens; ++i)
        many += ".a";
    EXPECT_EQ(pattern_problem(many), "") << "max_pattern_tokens tokens are allowed";
    cases[many + ".b"] = "at most 16 tokens";
    for (auto const& [p, why] : cases) {
        EXPECT_NE(pattern_problem(p).find(why), std::string::npos) << p << ": " << pattern_problem(p);
        EXPECT_FALSE(is_valid_pattern(p)) << p;
        EXPECT_FALSE(switchboard::is_valid_topic(p) && is_valid_pattern(p));
    }
    // A pattern is never a topic name: its wildcard is no topic character.
    EXPECT_FALSE(switchboard::is_valid_topic("a.*"));
    EXPECT_FALSE(switchboard::is_valid_topic("a.>"));
}

TEST(pattern, matches_as_nats_does)
{
    EXPECT_TRUE(pattern_matches("a.*", "a.b"));
    EXPECT_FALSE(pattern_matches("a.*", "a"));
    EXPECT_FALSE(pattern_matches("a.*", "a.b.c"));
    EXPECT_TRUE(pattern_matches("a.>", "a.b"));
    EXPECT_TRUE(pattern_matches("a.>", "a.b.c"));
    EXPECT_FALSE(pattern_matches("a.>", "a"));
    EXPECT_FALSE(pattern_matches("a.>", "ab.c"));
    EXPECT_TRUE(pattern_matches(">", "a"));
    EXPECT_TRUE(pattern_matches("*", "a"));
    EXPECT_FALSE(pattern_matches("*", "a.b"));
    EXPECT_TRUE(pattern_matches("*.b.*", "x.b.y"));
    EXPECT_FALSE(pattern_matches("*.b.*", "x.c.y"));
    // Empty tokens are tokens: '*' matches one, '>' counts it.
    EXPECT_TRUE(pattern_matches("a.*.c", "a..c"));
    EXPECT_TRUE(pattern_matches("a.>", "a."));
    EXPECT_TRUE(pattern_matches("*.a", ".a"));
}

// The meaning of a pattern as a regular expression over the topic's text, independent of the token walks.
std::regex as_regex(std::string const& pattern)
{
    std::string re;
    std::size_t from = 0;
    for (;;) {
        auto const dot = pattern.find('.', from);
        auto const token = pattern.substr(from, dot == std::string::npos ? std::string::npos : dot - from);
        if (token == "*")
            re += "[^.]*";
        else if (token == ">")
            re += ".*";
        else
            re += token;  // letters only in these tests
        if (dot == std::string::npos)
            break;
        re += "\\.";
        from = dot + 1;
    }
    return std::regex(re);
}

std::string random_topic(std::mt19937& rng)
{
    static char const* const tokens[] = {"a", "b", "c", "ab", ""};
    std::size_t const n = 1 + rng() % 5;
    std::string t;
    for (std::size_t i = 0; i < n; ++i) {
        if (i)
            t += '.';
        t += tokens[rng() % (rng() % 8 == 0 ? 5 : 4)];  // an empty token now and then
    }
    return t.empty() ? "a" : t;
}

std::string random_pattern(std::mt19937& rng)
{
    static char const* const tokens[] = {"a", "b", "c", "ab", "*", "*"};
    for (;;) {
        std::size_t const n = 1 + rng() % 5;
        std::string p;
        for (std::size_t i = 0; i < n; ++i) {
            if (i)
                p += '.';
            p += i + 1 == n && rng() % 3 == 0 ? ">" : tokens[rng() % 6];
        }
        if (is_valid_pattern(p))
            return p;
    }
}

TEST(pattern_trie, matches_what_the_reference_matches_on_100000_random_pairs)
{
    std::mt19937 rng(20);
    std::vector<std::string> patterns;
    std::set<std::string> seen;
    while (patterns.size() < 500)
        if (auto p = random_pattern(rng); seen.insert(p).second)
            patterns.push_back(p);
    std::vector<std::regex> regexes;
    for (auto const& p : patterns)
        regexes.push_back(as_regex(p));

    switchboard::detail::pattern_trie trie;
    std::map<switchboard::detail::pattern_node const*, std::size_t> which;
    for (std::size_t i = 0; i < patterns.size(); ++i)
        which[&trie.insert(patterns[i])] = i;
    ASSERT_EQ(trie.size(), patterns.size());

    std::size_t pairs = 0, matching = 0;
    for (int k = 0; k < 200; ++k) {
        auto const topic = random_topic(rng);
        std::vector<std::size_t> found;
        trie.match(topic, [&](switchboard::detail::pattern_node& n) { found.push_back(which.at(&n)); });
        std::set<std::size_t> const found_set(found.begin(), found.end());
        ASSERT_EQ(found_set.size(), found.size()) << "a node matched twice for " << topic;
        for (std::size_t i = 0; i < patterns.size(); ++i, ++pairs) {
            bool const expected = pattern_matches(patterns[i], topic);
            ASSERT_EQ(expected, std::regex_match(topic, regexes[i])) << patterns[i] << " ~ " << topic;
            ASSERT_EQ(found_set.count(i) == 1, expected) << patterns[i] << " ~ " << topic;
            matching += expected;
        }
    }
    EXPECT_EQ(pairs, 100'000u);
    EXPECT_GT(matching, 1'000u) << "the random pairs match often enough to test something";
}

TEST(pattern_trie, prunes_what_no_pattern_needs)
{
    switchboard::detail::pattern_trie trie;
    auto& deep = trie.insert("a.b.*.c");
    auto& shallow = trie.insert("a.>");
    EXPECT_EQ(trie.size(), 2u);
    trie.prune(deep);
    EXPECT_EQ(trie.size(), 1u);
    EXPECT_EQ(trie.find("a.b.*.c"), nullptr);
    EXPECT_EQ(trie.find("a.>"), &shallow);
    trie.prune(shallow);
    EXPECT_EQ(trie.size(), 0u);
    int calls = 0;
    trie.match("a.b.x.c", [&](auto&) { ++calls; });
    EXPECT_EQ(calls, 0);
}

// Hub delivery through patterns.

class counting_channel final : public switchboard::channel {
public:
    explicit counting_channel(switchboard::hub& h) : channel("127.0.0.1:0"), hub_(h) {}
    std::string_view transport() const noexcept override { return "test"; }
    switchboard::delivery_status deliver(switchboard::message_ptr const& m) override
    {
        received.push_back(m);
        if (on_deliver)
            on_deliver(*m);
        return switchboard::delivery_status::queued;
    }
    void close(switchboard::disconnect const&) override
    {
        if (begin_closing())
            hub_.unsubscribe_all(*this);
    }
    std::vector<switchboard::message_ptr> received;
    std::function<void(switchboard::message const&)> on_deliver;

private:
    switchboard::hub& hub_;
};

switchboard::message_ptr pattern_message(std::string topic, std::uint64_t offset)
{
    return std::make_shared<switchboard::message const>(std::move(topic), switchboard::position{offset, "e"}, "1");
}

TEST(hub_patterns, a_channel_gets_each_message_once_however_many_subscriptions_match)
{
    switchboard::hub hub;
    auto ch = std::make_shared<counting_channel>(hub);
    auto other = std::make_shared<counting_channel>(hub);
    ASSERT_TRUE(hub.subscribe(*ch, "a.b"));
    ASSERT_TRUE(hub.subscribe_pattern(*ch, "a.>"));
    ASSERT_TRUE(hub.subscribe_pattern(*ch, "a.*"));
    ASSERT_TRUE(hub.subscribe_pattern(*ch, "*.b"));
    ASSERT_FALSE(hub.subscribe_pattern(*ch, "a.*")) << "already subscribed";
    ASSERT_TRUE(hub.subscribe_pattern(*other, "a.*"));
    EXPECT_EQ(ch->pattern_count(), 3u);
    EXPECT_EQ(hub.pattern_count(), 3u);
    EXPECT_EQ(hub.pattern_subscription_count(), 4u);

    auto const m = pattern_message("a.b", 1);
    hub.deliver(m);
    ASSERT_EQ(ch->received.size(), 1u);
    EXPECT_EQ(ch->received[0], m) << "the one message, shared";
    ASSERT_EQ(other->received.size(), 1u);
    EXPECT_EQ(hub.deliveries(), 2u);

    hub.deliver(pattern_message("a.c.d", 2));  // a.> only
    hub.deliver(pattern_message("x.b", 3));    // *.b only
    hub.deliver(pattern_message("b.c", 4));    // nothing
    EXPECT_EQ(ch->received.size(), 3u);
    EXPECT_EQ(other->received.size(), 1u);
    EXPECT_EQ(hub.messages_delivered(), 3u);
    EXPECT_EQ(hub.topic_count(), 1u) << "patterns make no topics";
}

TEST(hub_patterns, patterns_raise_no_topic_interest_but_their_own_and_leave_nothing_behind)
{
    switchboard::hub hub;
    std::vector<std::string> interest;
    std::vector<std::string> pattern_interest;
    hub.on_interest([&](std::string const& t) { interest.push_back("+" + t); },
                    [&](std::string const& t) { interest.push_back("-" + t); });
    hub.on_pattern_interest([&](std::string const& p) { pattern_interest.push_back("+" + p); },
                            [&](std::string const& p) { pattern_interest.push_back("-" + p); });
    {
        // A pattern's first subscriber and its last, whoever they are: once each.
        auto one = std::make_shared<counting_channel>(hub);
        auto two = std::make_shared<counting_channel>(hub);
        ASSERT_TRUE(hub.subscribe_pattern(*one, "x.*"));
        ASSERT_TRUE(hub.subscribe_pattern(*two, "x.*"));
        EXPECT_EQ(pattern_interest, (std::vector<std::string>{"+x.*"}));
        hub.unsubscribe_all(*one);
        EXPECT_EQ(pattern_interest, (std::vector<std::string>{"+x.*"}));
        EXPECT_TRUE(hub.unsubscribe_pattern(*two, "x.*"));
        EXPECT_EQ(pattern_interest, (std::vector<std::string>{"+x.*", "-x.*"}));
        pattern_interest.clear();
    }
    auto ch = std::make_shared<counting_channel>(hub);
    ASSERT_TRUE(hub.subscribe_pattern(*ch, "a.*.c"));
    ASSERT_TRUE(hub.subscribe_pattern(*ch, "a.>"));
    EXPECT_TRUE(hub.subscribed_pattern(*ch, "a.*.c"));
    EXPECT_FALSE(hub.subscribed_pattern(*ch, "a.*"));
    EXPECT_EQ(ch->patterns(), (std::vector<std::string>{"a.*.c", "a.>"}));
    EXPECT_TRUE(hub.unsubscribe_pattern(*ch, "a.*.c"));
    EXPECT_FALSE(hub.unsubscribe_pattern(*ch, "a.*.c"));
    EXPECT_EQ(hub.pattern_count(), 1u);
    hub.unsubscribe_all(*ch);
    EXPECT_EQ(ch->pattern_count(), 0u);
    EXPECT_EQ(hub.pattern_count(), 0u);
    EXPECT_EQ(hub.pattern_subscription_count(), 0u);
    EXPECT_TRUE(interest.empty());
    EXPECT_EQ(pattern_interest, (std::vector<std::string>{"+a.*.c", "+a.>", "-a.*.c", "-a.>"}));
    hub.deliver(pattern_message("a.b.c", 1));
    EXPECT_TRUE(ch->received.empty());
}

TEST(hub_patterns, channels_closing_or_subscribing_during_a_fan_out)
{
    switchboard::hub hub;
    std::vector<std::shared_ptr<counting_channel>> chs;
    for (int i = 0; i < 6; ++i)
        chs.push_back(std::make_shared<counting_channel>(hub));
    for (auto& c : chs) {
        ASSERT_TRUE(hub.subscribe_pattern(*c, "t.*"));
        ASSERT_TRUE(hub.subscribe_pattern(*c, "t.>"));
    }
    ASSERT_TRUE(hub.subscribe(*chs[0], "t.x"));
    auto late = std::make_shared<counting_channel>(hub);
    // The first to receive closes two others (one already served, one not) and subscribes a newcomer.
    bool done = false;
    chs[0]->on_deliver = [&](switchboard::message const&) {
        if (std::exchange(done, true))
            return;
        chs[1]->close({4000, ""});
        chs[5]->close({4000, ""});
        hub.subscribe_pattern(*late, "t.*");
        hub.subscribe_pattern(*late, "t.x.>");  // a new node while the trie is walked
    };
    hub.deliver(pattern_message("t.x", 1));
    EXPECT_EQ(chs[0]->received.size(), 1u);
    EXPECT_EQ(chs[5]->received.size(), 0u) << "closed before its turn";
    for (int i : {2, 3, 4})
        EXPECT_EQ(chs[i]->received.size(), 1u) << i;
    EXPECT_TRUE(late->received.empty()) << "subscribed during the fan-out";
    hub.deliver(pattern_message("t.x", 2));
    EXPECT_EQ(late->received.size(), 1u);
    EXPECT_EQ(chs[1]->received.size(), 0u);
    for (auto& c : chs)
        c->close({4000, ""});
    late->close({4000, ""});
    EXPECT_EQ(hub.pattern_count(), 0u);
    EXPECT_EQ(hub.pattern_subscription_count(), 0u);
    EXPECT_EQ(hub.topic_count(), 0u);
}

TEST(hub_patterns, a_pattern_left_empty_during_its_own_fan_out_is_pruned_after_it)
{
    switchboard::hub hub;
    auto a = std::make_shared<counting_channel>(hub);
    auto b = std::make_shared<counting_channel>(hub);
    ASSERT_TRUE(hub.subscribe_pattern(*a, "p.q.*"));
    ASSERT_TRUE(hub.subscribe_pattern(*b, "p.>"));
    auto const close_both = [&](switchboard::message const&) {
        a->close({4000, ""});
        b->close({4000, ""});
    };
    a->on_deliver = close_both;
    b->on_deliver = close_both;
    hub.deliver(pattern_message("p.q.r", 1));
    EXPECT_EQ(a->received.size() + b->received.size(), 1u) << "the first reached closes both";
    EXPECT_EQ(hub.pattern_count(), 0u);
}

// Random subscribes, unsubscribes and closes of topics and patterns across channels, each message checked
// against what each channel's subscriptions say it must get: exactly once when any matches, else never.
TEST(hub_patterns, random_subscriptions_deliver_exactly_what_they_match)
{
    std::mt19937 rng(2020);
    switchboard::hub hub;
    std::vector<std::shared_ptr<counting_channel>> chs;
    std::vector<std::set<std::string>> topics(20), patterns(20);
    for (int i = 0; i < 20; ++i)
        chs.push_back(std::make_shared<counting_channel>(hub));
    std::uint64_t offset = 0;
    for (int step = 0; step < 20'000; ++step) {
        std::size_t const i = rng() % chs.size();
        auto& c = *chs[i];
        switch (rng() % 6) {
        case 0: {
            auto t = random_topic(rng);
            EXPECT_EQ(hub.subscribe(c, t), topics[i].insert(t).second);
            break;
        }
        case 1: {
            auto p = random_pattern(rng);
            EXPECT_EQ(hub.subscribe_pattern(c, p), patterns[i].insert(p).second);
            break;
        }
        case 2:
            if (!patterns[i].empty()) {
                auto it = patterns[i].begin();
                std::advance(it, rng() % patterns[i].size());
                EXPECT_TRUE(hub.unsubscribe_pattern(c, *it));
                patterns[i].erase(it);
            }
            break;
        case 3:
            if (rng() % 20 == 0) {
                hub.unsubscribe_all(c);
                topics[i].clear();
                patterns[i].clear();
            }
            break;
        default: {
            auto const topic = random_topic(rng);
            std::vector<std::size_t> before;
            for (auto& x : chs)
                before.push_back(x->received.size());
            hub.deliver(pattern_message(topic, ++offset));
            for (std::size_t j = 0; j < chs.size(); ++j) {
                bool want = topics[j].count(topic) != 0;
                for (auto const& p : patterns[j])
                    want = want || pattern_matches(p, topic);
                ASSERT_EQ(chs[j]->received.size() - before[j], want ? 1u : 0u) << topic << " channel " << j;
            }
        }
        }
    }
    std::set<std::string> all;
    for (auto const& ps : patterns)
        all.insert(ps.begin(), ps.end());
    EXPECT_EQ(hub.pattern_count(), all.size()) << "the trie holds exactly the patterns subscribed";
}

}  // namespace
