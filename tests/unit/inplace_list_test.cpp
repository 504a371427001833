// The list that holds its first entry in place: it grows into a block and keeps its entries in order, an entry
// pushed from the list itself survives the block's move, and a move leaves the source empty and usable.

#include <switchboard/detail/inplace_list.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace {

struct entry {
    int key;
    std::size_t value;
};

using entries = switchboard::detail::inplace_list<entry>;

std::vector<int> keys(entries const& l)
{
    std::vector<int> out;
    for (auto const& e : l)
        out.push_back(e.key);
    return out;
}

TEST(inplace_list, holds_one_in_place_and_grows_in_order)
{
    static_assert(sizeof(entries) == 24);
    entries l;
    EXPECT_TRUE(l.empty());
    l.push_back({1, 10});
    EXPECT_EQ(keys(l), (std::vector<int>{1}));
    for (int i = 2; i <= 9; ++i)
        l.push_back({i, static_cast<std::size_t>(i * 10)});
    ASSERT_EQ(l.size(), 9u);
    for (std::size_t i = 0; i < l.size(); ++i)
        EXPECT_EQ(l[i].value, (i + 1) * 10);
    l[0] = l.back();  // a swap-with-last removal, as the hub does
    l.pop_back();
    EXPECT_EQ(keys(l), (std::vector<int>{9, 2, 3, 4, 5, 6, 7, 8}));
    l.clear();
    EXPECT_TRUE(l.empty());
    l.push_back({42, 0});  // the block kept after clear() takes it
    EXPECT_EQ(keys(l), (std::vector<int>{42}));
}

TEST(inplace_list, an_entry_pushed_from_the_list_itself_survives_its_growth)
{
    entries l;
    l.push_back({7, 70});
    l.push_back(l[0]);  // from the place in the object, into a new block
    l.push_back(l[1]);  // from the block, into a bigger one
    EXPECT_EQ(keys(l), (std::vector<int>{7, 7, 7}));
    EXPECT_EQ(l[2].value, 70u);
}

TEST(inplace_list, a_move_takes_the_entries_and_leaves_the_source_usable)
{
    entries small, big;
    small.push_back({1, 1});
    for (int i = 0; i < 5; ++i)
        big.push_back({i, 0});
    entries from_small(std::move(small));
    entries from_big(std::move(big));
    EXPECT_EQ(keys(from_small), (std::vector<int>{1}));
    EXPECT_EQ(keys(from_big), (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_TRUE(small.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    EXPECT_TRUE(big.empty());    // NOLINT(bugprone-use-after-move)
    big.push_back({5, 0});
    EXPECT_EQ(keys(big), (std::vector<int>{5}));
    from_small = std::move(from_big);  // a block replaces the entry in place
    EXPECT_EQ(keys(from_small), (std::vector<int>{0, 1, 2, 3, 4}));
    from_small = std::move(big);  // and an entry in place replaces a block (freed: ASan would see a leak)
    EXPECT_EQ(keys(from_small), (std::vector<int>{5}));
}

}  // namespace
