// The registry of open channels: it owns each channel between add() and remove(), finds any of them in constant
// time, and lets go of one even when it is the registry's last owner.

#include "core/channel_registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

namespace {

using switchboard::channel;
using switchboard::detail::channel_registry;

class plain_channel final : public channel {
public:
    plain_channel() : channel("127.0.0.1") {}
    std::string_view transport() const noexcept override { return "test"; }
    switchboard::delivery_status deliver(switchboard::message_ptr const&) override
    {
        return switchboard::delivery_status::queued;
    }
    void close(switchboard::disconnect const&) override { begin_closing(); }
};

std::set<channel const*> members(channel_registry const& r)
{
    std::set<channel const*> out;
    for (auto const& ch : r)
        out.insert(ch.get());
    return out;
}

TEST(channel_registry, each_channel_leaves_once_whatever_the_order)
{
    channel_registry r;
    std::vector<std::shared_ptr<plain_channel>> all;
    for (int i = 0; i < 5; ++i) {
        all.push_back(std::make_shared<plain_channel>());
        r.add(all.back());
    }
    plain_channel outsider;
    EXPECT_FALSE(r.contains(outsider));
    EXPECT_FALSE(r.remove(outsider));

    // The first, the last and one in between: each removal moves another channel into the freed place.
    for (int i : {0, 4, 2}) {
        EXPECT_TRUE(r.contains(*all[i]));
        EXPECT_TRUE(r.remove(*all[i]));
        EXPECT_FALSE(r.contains(*all[i]));
        EXPECT_FALSE(r.remove(*all[i]));
    }
    EXPECT_EQ(r.size(), 2u);
    EXPECT_EQ(members(r), (std::set<channel const*>{all[1].get(), all[3].get()}));
    for (int i : {1, 3})
        EXPECT_TRUE(r.contains(*all[i]));

    // Registered again after leaving: it is found in its new place.
    r.add(all[0]);
    EXPECT_TRUE(r.contains(*all[0]));
    EXPECT_EQ(members(r), (std::set<channel const*>{all[0].get(), all[1].get(), all[3].get()}));
}

TEST(channel_registry, the_last_owner_lets_go_after_its_books_are_straight)
{
    channel_registry r;
    auto kept = std::make_shared<plain_channel>();
    r.add(kept);
    std::weak_ptr<plain_channel> alone;
    {
        auto ch = std::make_shared<plain_channel>();
        alone = ch;
        r.add(std::move(ch));
    }
    auto& ch = *alone.lock();
    EXPECT_TRUE(r.remove(ch));  // the registry held the only reference
    EXPECT_TRUE(alone.expired());
    EXPECT_EQ(r.size(), 1u);
    EXPECT_TRUE(r.contains(*kept));
}

TEST(channel_registry, the_channels_left_after_a_storm_stay_registered_and_findable)
{
    channel_registry r;
    std::vector<std::shared_ptr<plain_channel>> all;
    for (int i = 0; i < 10'000; ++i) {
        all.push_back(std::make_shared<plain_channel>());
        r.add(all.back());
    }
    for (std::size_t i = 0; i + 10 < all.size(); ++i)
        ASSERT_TRUE(r.remove(*all[i]));
    EXPECT_EQ(r.size(), 10u);
    for (std::size_t i = all.size() - 10; i < all.size(); ++i)
        EXPECT_TRUE(r.contains(*all[i]));
    EXPECT_EQ(std::count_if(all.begin(), all.end(), [](auto const& ch) { return ch.use_count() > 1; }), 10);
}

}  // namespace
