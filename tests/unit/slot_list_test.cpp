// A list whose members keep their own place in it: each leaves once, whatever the order, the others keep their
// places right, and a member that was never listed (or already left) is left alone.

#include "core/slot_list.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <vector>

namespace {

class member {
public:
    explicit member(int n) : n(n) {}
    int const n;

private:
    friend class switchboard::detail::slot_list<member>;
    std::uint32_t list_slot_ = ~std::uint32_t{0};
};

using member_list = switchboard::detail::slot_list<member>;

std::set<int> listed(member_list const& l)
{
    std::set<int> out;
    for (auto const* m : l)
        out.insert(m->n);
    return out;
}

TEST(slot_list, each_member_leaves_once_whatever_the_order)
{
    member_list l;
    std::vector<std::unique_ptr<member>> all;
    for (int i = 0; i < 6; ++i) {
        all.push_back(std::make_unique<member>(i));
        l.add(all.back().get());
    }
    l.remove(*all[0]);  // first: the last one moves into its place
    l.remove(*all[5]);  // last (member 5 moved to slot 0: it must be found there)
    l.remove(*all[2]);  // middle
    EXPECT_EQ(listed(l), (std::set<int>{1, 3, 4}));
    l.remove(*all[2]);  // already gone: nothing
    l.remove(*all[0]);
    EXPECT_EQ(l.size(), 3u);
    for (int i : {4, 1, 3})
        l.remove(*all[i]);
    EXPECT_EQ(l.size(), 0u);
    l.add(all[2].get());  // listed again after leaving
    EXPECT_EQ(listed(l), (std::set<int>{2}));
}

TEST(slot_list, a_member_of_another_list_is_left_alone)
{
    member_list here, there;
    member mine(1), theirs(2), never(3);
    here.add(&mine);
    there.add(&theirs);  // slot 0 of its own list, which is `mine`'s slot here
    here.remove(theirs);
    here.remove(never);
    EXPECT_EQ(listed(here), (std::set<int>{1}));
    EXPECT_EQ(listed(there), (std::set<int>{2}));
}

TEST(slot_list, after_a_storm_leaves_the_rest_are_still_found)
{
    member_list l;
    std::vector<std::unique_ptr<member>> all;
    for (int i = 0; i < 10'000; ++i) {
        all.push_back(std::make_unique<member>(i));
        l.add(all.back().get());
    }
    for (int i = 0; i < 10'000; ++i)
        if (i % 1000 != 7)
            l.remove(*all[i]);  // the vector shrinks on the way
    EXPECT_EQ(listed(l), (std::set<int>{7, 1007, 2007, 3007, 4007, 5007, 6007, 7007, 8007, 9007}));
    for (int i = 7; i < 10'000; i += 1000)
        l.remove(*all[i]);
    EXPECT_EQ(l.size(), 0u);
}

}  // namespace
