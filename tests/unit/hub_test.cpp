// The hub's contract: fan-out to the subscribers of a topic, in order, exactly once, while channels come and go
// (even from inside a delivery), with interest callbacks on a topic's first subscriber and last unsubscriber.

#include <switchboard/hub.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace {

using switchboard::channel;
using switchboard::disconnect;
using switchboard::message;
using switchboard::message_ptr;
using switchboard::position;

// One line per delivery, "<channel>:<topic>:<offset>", shared by the channels of a test so that the order
// across channels is visible.
using delivery_log = std::vector<std::string>;

class recording_channel final : public channel {
public:
    recording_channel(switchboard::hub& h, std::string name, delivery_log& log)
        : channel("127.0.0.1:0"), hub_(h), name_(std::move(name)), log_(log)
    {
    }

    std::string_view transport() const noexcept override { return "test"; }

    switchboard::delivery_status deliver(message_ptr const& m) override
    {
        received.push_back(m);
        log_.push_back(name_ + ":" + m->topic() + ":" + std::to_string(m->offset()));
        if (on_deliver)
            on_deliver(*m);
        return switchboard::delivery_status::queued;
    }

    void close(disconnect const& reason) override
    {
        if (!begin_closing())
            return;
        closed_with = reason;
        hub_.unsubscribe_all(*this);
    }

    // Marks the channel closing without leaving the hub (the hub must still not deliver to it).
    void mark_closing() { begin_closing(); }

    std::vector<std::uint64_t> offsets() const
    {
        std::vector<std::uint64_t> out;
        for (auto const& m : received)
            out.push_back(m->offset());
        return out;
    }

    std::vector<message_ptr> received;
    std::function<void(message const&)> on_deliver;
    disconnect closed_with{0, ""};

private:
    switchboard::hub& hub_;
    std::string name_;
    delivery_log& log_;
};

message_ptr make_message(std::string topic, std::uint64_t offset)
{
    return std::make_shared<message const>(std::move(topic), position{offset, "e"}, std::to_string(offset));
}

// The fixture is named for the class under test, so the tests read hub.delivers_to_every_subscriber_...
class hub : public ::testing::Test {
protected:
    std::shared_ptr<recording_channel> make_channel(std::string name)
    {
        return std::make_shared<recording_channel>(hub_, std::move(name), log_);
    }

    void record_interest()
    {
        hub_.on_interest([this](std::string const& t) { interest_.push_back("+" + t); },
                         [this](std::string const& t) { interest_.push_back("-" + t); });
    }

    switchboard::hub hub_;
    delivery_log log_;
    std::vector<std::string> interest_;
};

using log_lines = std::vector<std::string>;

TEST_F(hub, delivers_to_every_subscriber_once_in_subscription_order)
{
    auto a = make_channel("a"), b = make_channel("b"), c = make_channel("c");
    ASSERT_TRUE(hub_.subscribe(*b, "t"));
    ASSERT_TRUE(hub_.subscribe(*a, "t"));
    ASSERT_TRUE(hub_.subscribe(*c, "t"));

    auto const m = make_message("t", 1);
    hub_.deliver(m);

    EXPECT_EQ(log_, (log_lines{"b:t:1", "a:t:1", "c:t:1"}));
    for (auto const* ch : {a.get(), b.get(), c.get()}) {
        ASSERT_EQ(ch->received.size(), 1u);
        EXPECT_EQ(ch->received[0], m) << "every channel shares the one message";
    }
}

TEST_F(hub, delivers_only_to_the_topic_of_the_message)
{
    auto a = make_channel("a"), b = make_channel("b");
    hub_.subscribe(*a, "news");
    hub_.subscribe(*b, "sport");
    hub_.subscribe(*b, "news");

    hub_.deliver(make_message("sport", 1));
    hub_.deliver(make_message("weather", 1));
    hub_.deliver(make_message("news", 2));

    EXPECT_EQ(log_, (log_lines{"b:sport:1", "a:news:2", "b:news:2"}));
}

TEST_F(hub, delivers_nothing_to_a_topic_without_subscribers)
{
    hub_.deliver(make_message("nobody", 1));
    EXPECT_TRUE(log_.empty());
    EXPECT_EQ(hub_.topic_count(), 0u);
}

TEST_F(hub, subscribing_twice_returns_false_and_delivers_once)
{
    auto a = make_channel("a");
    EXPECT_TRUE(hub_.subscribe(*a, "t"));
    EXPECT_FALSE(hub_.subscribe(*a, "t"));
    EXPECT_EQ(hub_.subscriber_count("t"), 1u);
    EXPECT_EQ(a->subscription_count(), 1u);

    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1"}));
}

TEST_F(hub, tracks_subscriptions_on_the_channel)
{
    auto a = make_channel("a");
    hub_.subscribe(*a, "x");
    hub_.subscribe(*a, "y");
    EXPECT_TRUE(hub_.subscribed(*a, "x"));
    EXPECT_TRUE(hub_.subscribed(*a, "y"));
    EXPECT_FALSE(hub_.subscribed(*a, "z"));
    auto topics = a->topics();
    std::sort(topics.begin(), topics.end());
    EXPECT_EQ(topics, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(a->subscription_count(), 2u);
    EXPECT_EQ(hub_.topic_count(), 2u);
}

TEST_F(hub, unsubscribe_stops_delivery)
{
    auto a = make_channel("a"), b = make_channel("b");
    hub_.subscribe(*a, "t");
    hub_.subscribe(*b, "t");
    hub_.deliver(make_message("t", 1));

    EXPECT_TRUE(hub_.unsubscribe(*a, "t"));
    EXPECT_FALSE(hub_.subscribed(*a, "t"));
    EXPECT_EQ(hub_.subscriber_count("t"), 1u);
    hub_.deliver(make_message("t", 2));

    EXPECT_EQ(a->offsets(), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(b->offsets(), (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(hub, unsubscribe_returns_false_when_not_subscribed)
{
    auto a = make_channel("a"), b = make_channel("b");
    EXPECT_FALSE(hub_.unsubscribe(*a, "t"));
    hub_.subscribe(*b, "t");
    EXPECT_FALSE(hub_.unsubscribe(*a, "t"));
    EXPECT_TRUE(hub_.unsubscribe(*b, "t"));
    EXPECT_FALSE(hub_.unsubscribe(*b, "t"));
    EXPECT_EQ(hub_.topic_count(), 0u);
}

TEST_F(hub, unsubscribe_from_the_middle_keeps_the_others)
{
    // Leaving moves another subscriber into the freed slot; that one's bookkeeping must follow.
    std::vector<std::shared_ptr<recording_channel>> chans;
    for (char n : std::string("abcde")) {
        chans.push_back(make_channel(std::string(1, n)));
        hub_.subscribe(*chans.back(), "t");
    }
    EXPECT_TRUE(hub_.unsubscribe(*chans[1], "t"));  // b
    EXPECT_TRUE(hub_.unsubscribe(*chans[4], "t"));  // e, which may have moved into b's slot
    EXPECT_TRUE(hub_.unsubscribe(*chans[0], "t"));  // a
    EXPECT_EQ(hub_.subscriber_count("t"), 2u);

    hub_.deliver(make_message("t", 1));
    auto sorted = log_;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (log_lines{"c:t:1", "d:t:1"}));

    EXPECT_TRUE(hub_.unsubscribe(*chans[3], "t"));
    EXPECT_TRUE(hub_.unsubscribe(*chans[2], "t"));
    EXPECT_EQ(hub_.topic_count(), 0u);
}

// A channel not owned by a shared_ptr is misuse: subscribe throws and leaves the hub as it was.
TEST_F(hub, subscribe_leaves_the_hub_unchanged_when_it_throws)
{
    recording_channel on_stack(hub_, "s", log_);  // misuse: not owned by a shared_ptr
    EXPECT_THROW(hub_.subscribe(on_stack, "t"), std::bad_weak_ptr);
    EXPECT_EQ(on_stack.subscription_count(), 0u);
    EXPECT_EQ(hub_.topic_count(), 0u);
}

TEST_F(hub, unsubscribe_all_leaves_every_topic)
{
    record_interest();
    auto a = make_channel("a"), b = make_channel("b");
    for (auto const* t : {"x", "y", "z"})
        hub_.subscribe(*a, t);
    hub_.subscribe(*b, "y");

    hub_.unsubscribe_all(*a);
    EXPECT_EQ(a->subscription_count(), 0u);
    EXPECT_TRUE(a->topics().empty());
    EXPECT_EQ(hub_.subscriber_count("x"), 0u);
    EXPECT_EQ(hub_.subscriber_count("y"), 1u);
    EXPECT_EQ(hub_.topic_count(), 1u);

    for (auto const* t : {"x", "y", "z"})
        hub_.deliver(make_message(t, 1));
    EXPECT_EQ(log_, (log_lines{"b:y:1"}));
    EXPECT_EQ(interest_, (std::vector<std::string>{"+x", "+y", "+z", "-x", "-z"}));

    hub_.unsubscribe_all(*a);  // nothing left: a no-op
    EXPECT_EQ(hub_.topic_count(), 1u);
}

TEST_F(hub, interest_fires_on_first_subscriber_and_last_unsubscriber_only)
{
    record_interest();
    auto a = make_channel("a"), b = make_channel("b"), c = make_channel("c");

    hub_.subscribe(*a, "t");
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t"}));
    hub_.subscribe(*b, "t");
    hub_.subscribe(*c, "t");
    hub_.subscribe(*c, "t");  // refused: no callback either
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t"}));

    hub_.unsubscribe(*a, "t");
    hub_.unsubscribe(*c, "t");
    hub_.unsubscribe(*c, "t");
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t"}));
    hub_.unsubscribe(*b, "t");
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t", "-t"}));
    EXPECT_EQ(hub_.topic_count(), 0u);

    hub_.subscribe(*c, "t");  // the topic is new again
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t", "-t", "+t"}));
}

TEST_F(hub, never_delivers_to_a_closing_channel)
{
    auto a = make_channel("a"), b = make_channel("b");
    hub_.subscribe(*a, "t");
    hub_.subscribe(*b, "t");
    a->mark_closing();
    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"b:t:1"}));
}

TEST_F(hub, a_channel_that_closes_itself_during_delivery_gets_the_message_once)
{
    record_interest();
    auto a = make_channel("a"), b = make_channel("b"), c = make_channel("c");
    for (auto* ch : {a.get(), b.get(), c.get()})
        hub_.subscribe(*ch, "t");
    hub_.subscribe(*b, "other");
    b->on_deliver = [&](message const&) { b->close(disconnect::slow_consumer()); };

    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "b:t:1", "c:t:1"}));
    EXPECT_EQ(b->closed_with.code, 4000);
    EXPECT_EQ(b->subscription_count(), 0u);
    EXPECT_EQ(hub_.subscriber_count("t"), 2u);
    EXPECT_EQ(hub_.subscriber_count("other"), 0u);
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t", "+other", "-other"}));

    hub_.deliver(make_message("t", 2));
    hub_.deliver(make_message("other", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "b:t:1", "c:t:1", "a:t:2", "c:t:2"}));

    // The hole left during the fan-out is gone: a and c can still leave cleanly.
    EXPECT_TRUE(hub_.unsubscribe(*c, "t"));
    EXPECT_TRUE(hub_.unsubscribe(*a, "t"));
    EXPECT_EQ(hub_.topic_count(), 0u);
    EXPECT_EQ(interest_.back(), "-t");
}

TEST_F(hub, a_channel_that_closes_a_later_one_during_delivery_skips_it)
{
    auto a = make_channel("a"), b = make_channel("b"), c = make_channel("c"), d = make_channel("d");
    for (auto* ch : {a.get(), b.get(), c.get(), d.get()})
        hub_.subscribe(*ch, "t");
    b->on_deliver = [&](message const&) {
        c->close(disconnect::normal());
        a->close(disconnect::normal());  // already delivered to: nothing changes for it
    };

    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "b:t:1", "d:t:1"}));
    EXPECT_EQ(hub_.subscriber_count("t"), 2u);

    b->on_deliver = nullptr;
    hub_.deliver(make_message("t", 2));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "b:t:1", "d:t:1", "b:t:2", "d:t:2"}));
}

TEST_F(hub, every_channel_closing_during_delivery_removes_the_topic_once)
{
    record_interest();
    std::vector<std::shared_ptr<recording_channel>> chans;
    for (int i = 0; i < 5; ++i) {
        chans.push_back(make_channel("c" + std::to_string(i)));
        auto* ch = chans.back().get();
        ch->on_deliver = [ch](message const&) { ch->close(disconnect::normal()); };
        hub_.subscribe(*ch, "t");
    }

    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_.size(), 5u);
    EXPECT_EQ(hub_.subscriber_count("t"), 0u);
    EXPECT_EQ(hub_.topic_count(), 0u);
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t", "-t"}));
}

TEST_F(hub, a_channel_that_leaves_and_rejoins_during_delivery_is_counted_once)
{
    record_interest();
    auto a = make_channel("a"), b = make_channel("b");
    hub_.subscribe(*a, "t");
    hub_.subscribe(*b, "t");
    a->on_deliver = [&](message const&) {
        EXPECT_TRUE(hub_.unsubscribe(*b, "t"));
        EXPECT_TRUE(hub_.subscribe(*b, "t"));
    };

    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1"})) << "b subscribed (again) during the fan-out";
    EXPECT_EQ(hub_.subscriber_count("t"), 2u);
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t"}));

    a->on_deliver = nullptr;
    hub_.deliver(make_message("t", 2));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "a:t:2", "b:t:2"}));
    EXPECT_TRUE(hub_.unsubscribe(*b, "t"));
    EXPECT_TRUE(hub_.unsubscribe(*a, "t"));
    EXPECT_EQ(hub_.topic_count(), 0u);
}

TEST_F(hub, a_channel_subscribed_during_delivery_does_not_get_the_message_in_flight)
{
    record_interest();
    auto a = make_channel("a"), b = make_channel("b"), late = make_channel("late");
    hub_.subscribe(*a, "t");
    hub_.subscribe(*b, "t");
    a->on_deliver = [&](message const& m) {
        if (m.offset() == 1) {
            EXPECT_TRUE(hub_.subscribe(*late, "t"));
            EXPECT_TRUE(hub_.subscribe(*late, "elsewhere"));
        }
    };

    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "b:t:1"}));
    EXPECT_EQ(hub_.subscriber_count("t"), 3u);
    EXPECT_EQ(interest_, (std::vector<std::string>{"+t", "+elsewhere"}));

    hub_.deliver(make_message("t", 2));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "b:t:1", "a:t:2", "b:t:2", "late:t:2"}));
}

TEST_F(hub, many_subscriptions_during_delivery_do_not_disturb_the_fan_out)
{
    // Enough appends to reallocate the subscriber list while it is being walked.
    auto a = make_channel("a"), b = make_channel("b");
    std::vector<std::shared_ptr<recording_channel>> late;
    for (int i = 0; i < 100; ++i)
        late.push_back(make_channel("late" + std::to_string(i)));
    hub_.subscribe(*a, "t");
    hub_.subscribe(*b, "t");
    a->on_deliver = [&](message const& m) {
        if (m.offset() == 1)
            for (auto& ch : late)
                hub_.subscribe(*ch, "t");
    };

    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "b:t:1"}));
    EXPECT_EQ(hub_.subscriber_count("t"), 102u);
    hub_.deliver(make_message("t", 2));
    EXPECT_EQ(log_.size(), 2u + 102u);
}

TEST_F(hub, a_publish_from_inside_a_delivery_is_delivered_after_the_current_one)
{
    auto a = make_channel("a"), b = make_channel("b"), c = make_channel("c");
    hub_.subscribe(*a, "t");
    hub_.subscribe(*b, "t");
    hub_.subscribe(*c, "t");
    hub_.subscribe(*c, "u");
    a->on_deliver = [&](message const& m) {
        if (m.offset() == 1) {
            hub_.deliver(make_message("t", 2));
            hub_.deliver(make_message("u", 1));
            hub_.deliver(make_message("t", 3));
        }
    };

    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "b:t:1", "c:t:1",  // the current one finishes first
                               "a:t:2", "b:t:2", "c:t:2",  // then the nested ones, in publish order
                               "c:u:1",                    //
                               "a:t:3", "b:t:3", "c:t:3"}));
}

TEST_F(hub, a_publish_from_a_nested_delivery_keeps_publish_order)
{
    auto a = make_channel("a");
    hub_.subscribe(*a, "t");
    a->on_deliver = [&](message const& m) {
        if (m.offset() < 5)
            hub_.deliver(make_message("t", m.offset() + 1));
    };
    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(a->offsets(), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));

    // And the hub is usable afterwards.
    a->on_deliver = nullptr;
    hub_.deliver(make_message("t", 6));
    EXPECT_EQ(a->offsets().back(), 6u);
}

TEST_F(hub, a_nested_publish_reaches_a_channel_that_subscribed_before_it)
{
    auto a = make_channel("a"), late = make_channel("late");
    hub_.subscribe(*a, "t");
    a->on_deliver = [&](message const& m) {
        if (m.offset() == 1) {
            hub_.subscribe(*late, "t");
            hub_.deliver(make_message("t", 2));
        }
    };
    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1", "a:t:2", "late:t:2"}));
}

TEST_F(hub, thousands_of_channels_come_and_go_in_random_order)
{
    record_interest();
    std::mt19937 random(10'000);
    std::vector<std::string> const topics{"t0", "t1", "t2", "t3", "t4", "t5", "t6"};
    std::vector<std::shared_ptr<recording_channel>> chans;
    std::vector<std::vector<std::string>> joined(10'000);
    std::map<std::string, std::size_t> expected;

    for (std::size_t i = 0; i < joined.size(); ++i) {
        chans.push_back(make_channel("c" + std::to_string(i)));
        std::size_t const n = 1 + random() % 3;
        for (std::size_t k = 0; k < n; ++k) {
            auto const& t = topics[random() % topics.size()];
            if (hub_.subscribe(*chans[i], t)) {
                joined[i].push_back(t);
                ++expected[t];
            }
        }
    }
    for (auto const& t : topics)
        ASSERT_EQ(hub_.subscriber_count(t), expected[t]) << t;

    std::vector<std::size_t> order(chans.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::shuffle(order.begin(), order.end(), random);

    std::uint64_t offset = 0;
    for (std::size_t step = 0; step < order.size(); ++step) {
        auto& ch = *chans[order[step]];
        if (step % 2 == 0) {
            hub_.unsubscribe_all(ch);
        } else {
            for (auto const& t : joined[order[step]])
                ASSERT_TRUE(hub_.unsubscribe(ch, t));
        }
        for (auto const& t : joined[order[step]])
            --expected[t];
        ASSERT_EQ(ch.subscription_count(), 0u);
        if (step % 1000 == 0) {
            for (auto const& t : topics) {
                ASSERT_EQ(hub_.subscriber_count(t), expected[t]) << t << " at step " << step;
                log_.clear();
                hub_.deliver(make_message(t, ++offset));
                ASSERT_EQ(log_.size(), expected[t]) << t << " at step " << step;
            }
        }
    }
    EXPECT_EQ(hub_.topic_count(), 0u);
    for (auto const& t : topics)
        EXPECT_EQ(hub_.subscriber_count(t), 0u);
    EXPECT_EQ(interest_.size(), 2 * topics.size());
}

// Channels grow past the size where the hub indexes their subscriptions and shrink back, many times, on topics
// they share: every answer matches a model, every delivery reaches exactly the channels subscribed.
TEST_F(hub, channels_with_many_subscriptions_stay_consistent_as_they_grow_and_shrink)
{
    std::mt19937 random(1'300);
    constexpr std::size_t channel_count = 6;
    constexpr std::size_t topic_count = 64;
    std::vector<std::shared_ptr<recording_channel>> chans;
    std::vector<std::set<std::string>> model(channel_count);
    for (std::size_t i = 0; i < channel_count; ++i)
        chans.push_back(make_channel("c" + std::to_string(i)));
    auto const topic = [](std::size_t i) { return "t" + std::to_string(i); };

    std::uint64_t offset = 0;
    for (std::size_t step = 0; step < 20'000; ++step) {
        auto const c = random() % channel_count;
        auto const t = topic(random() % topic_count);
        // Phases of mostly subscribing and mostly unsubscribing, so that every channel crosses the size
        // where its subscriptions get indexed, both ways, again and again.
        bool const growing = (step / 600) % 2 == 0;
        bool const subscribing = (random() % 4 != 0) == growing;
        if (step % 1'000 == 999) {
            hub_.unsubscribe_all(*chans[c]);
            model[c].clear();
        } else if (subscribing) {
            ASSERT_EQ(hub_.subscribe(*chans[c], t), model[c].insert(t).second) << "step " << step;
        } else {
            ASSERT_EQ(hub_.unsubscribe(*chans[c], t), model[c].erase(t) == 1) << "step " << step;
        }
        if (step % 97 != 0)
            continue;
        std::size_t total = 0;
        for (std::size_t i = 0; i < channel_count; ++i) {
            ASSERT_EQ(chans[i]->subscription_count(), model[i].size()) << "step " << step;
            total += model[i].size();
            for (std::size_t k = 0; k < topic_count; ++k)
                ASSERT_EQ(hub_.subscribed(*chans[i], topic(k)), model[i].contains(topic(k))) << "step " << step;
        }
        ASSERT_EQ(hub_.subscription_count(), total);
        auto const delivered = topic(random() % topic_count);
        log_.clear();
        hub_.deliver(make_message(delivered, ++offset));
        std::set<std::string> expected, got(log_.begin(), log_.end());
        for (std::size_t i = 0; i < channel_count; ++i)
            if (model[i].contains(delivered))
                expected.insert("c" + std::to_string(i) + ":" + delivered + ":" + std::to_string(offset));
        ASSERT_EQ(got, expected) << "step " << step;
        ASSERT_EQ(log_.size(), expected.size()) << "step " << step;
    }
}

// Channels leaving a topic during its fan-out leave holes that are compacted afterwards: the channels moved
// into them, indexed ones included, can still be found and unsubscribed.
TEST_F(hub, channels_with_many_subscriptions_leave_during_a_fan_out)
{
    std::vector<std::shared_ptr<recording_channel>> chans;
    for (int i = 0; i < 4; ++i) {
        chans.push_back(make_channel("c" + std::to_string(i)));
        for (int k = 0; k < 40; ++k)
            ASSERT_TRUE(hub_.subscribe(*chans.back(), "t" + std::to_string(k)));
    }
    // c0 takes c1 and itself off t0 while t0 is delivered.
    chans[0]->on_deliver = [&](message const& m) {
        if (m.topic() != "t0")
            return;
        EXPECT_TRUE(hub_.unsubscribe(*chans[1], "t0"));
        EXPECT_TRUE(hub_.unsubscribe(*chans[0], "t0"));
    };
    hub_.deliver(make_message("t0", 1));
    EXPECT_EQ(hub_.subscriber_count("t0"), 2u);
    EXPECT_FALSE(hub_.subscribed(*chans[0], "t0"));
    EXPECT_TRUE(hub_.subscribed(*chans[3], "t0"));
    log_.clear();
    hub_.deliver(make_message("t0", 2));
    EXPECT_EQ(log_, (log_lines{"c2:t0:2", "c3:t0:2"}));
    EXPECT_TRUE(hub_.unsubscribe(*chans[3], "t0"));
    EXPECT_TRUE(hub_.unsubscribe(*chans[2], "t0"));
    EXPECT_EQ(hub_.subscriber_count("t0"), 0u);
    for (auto const& c : chans)
        hub_.unsubscribe_all(*c);
    EXPECT_EQ(hub_.subscription_count(), 0u);
    EXPECT_EQ(hub_.topic_count(), 0u);
}

TEST_F(hub, a_channel_owned_only_by_the_hub_survives_a_fan_out)
{
    // The hub holds channels by shared_ptr; one that nobody else owns lives as long as its subscriptions.
    std::weak_ptr<recording_channel> watch;
    {
        auto a = make_channel("a");
        hub_.subscribe(*a, "t");
        watch = a;
    }
    ASSERT_FALSE(watch.expired());
    hub_.deliver(make_message("t", 1));
    EXPECT_EQ(log_, (log_lines{"a:t:1"}));
    hub_.unsubscribe_all(*watch.lock());
    EXPECT_TRUE(watch.expired());
}

}  // namespace
