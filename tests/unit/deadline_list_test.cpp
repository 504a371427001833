// The long polls' one timer (src/core/deadline_list.hpp), on a real io_context: order, removal, and a loop
// that runs dry once nothing waits.

#include "core/deadline_list.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using switchboard::detail::deadline_list;
using clock_type = deadline_list::clock;

struct waiter final : deadline_list::entry {
    std::string name;
    std::vector<std::string>* log = nullptr;
    clock_type::time_point expired_at{};
    std::function<void(waiter&)> then;

    waiter(std::string n, std::vector<std::string>& l) : name(std::move(n)), log(&l) {}
    void expired()
    {
        expired_at = clock_type::now();
        log->push_back(name);
        if (then)
            then(*this);
    }
};

void expire(deadline_list::entry& due)
{
    static_cast<waiter&>(due).expired();
}

// Runs until the loop runs dry, within a bound; true when it did.
bool runs_dry(boost::asio::io_context& io, std::chrono::seconds bound = 10s)
{
    auto const started = clock_type::now();
    io.run_for(bound);
    return io.stopped() && clock_type::now() - started < bound;
}

TEST(deadline_list, entries_expire_in_deadline_order_once_each_and_not_before_their_time)
{
    boost::asio::io_context io;
    deadline_list list(io.get_executor(), expire);
    std::vector<std::string> log;
    waiter a("a", log), b("b", log), c("c", log);
    auto const added = clock_type::now();
    list.add(a, 30ms);
    list.add(b, 30ms);
    list.add(c, 60ms);
    EXPECT_EQ(list.size(), 3u);
    ASSERT_TRUE(runs_dry(io));
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_GE(a.expired_at - added, 30ms);
    EXPECT_GE(c.expired_at - added, 60ms);
    EXPECT_EQ(list.size(), 0u);
    EXPECT_FALSE(a.waiting());
}

TEST(deadline_list, a_shorter_wait_added_later_expires_first)
{
    // poll_hold may change on a reload: the list keeps deadline order, not the order of the adds.
    boost::asio::io_context io;
    deadline_list list(io.get_executor(), expire);
    std::vector<std::string> log;
    waiter slow("slow", log), middle("middle", log), fast("fast", log);
    list.add(slow, 300ms);
    list.add(middle, 150ms);
    list.add(fast, 20ms);
    ASSERT_TRUE(runs_dry(io));
    EXPECT_EQ(log, (std::vector<std::string>{"fast", "middle", "slow"}));
}

TEST(deadline_list, a_removed_entry_never_expires_and_an_empty_list_lets_the_loop_run_dry_at_once)
{
    boost::asio::io_context io;
    deadline_list list(io.get_executor(), expire);
    std::vector<std::string> log;
    waiter first("first", log), second("second", log), last("last", log);
    list.add(first, 1h);
    list.add(second, 20ms);
    list.add(last, 1h);
    list.remove(first);
    list.remove(first);  // twice: nothing
    EXPECT_FALSE(first.waiting());
    EXPECT_TRUE(second.waiting());
    // Not an hour: once "second" expired and "last" is removed, nothing waits.
    second.then = [&](waiter&) { list.remove(last); };
    ASSERT_TRUE(runs_dry(io));
    EXPECT_EQ(log, (std::vector<std::string>{"second"}));
    EXPECT_EQ(list.size(), 0u);
}

TEST(deadline_list, adding_a_waiting_entry_again_moves_its_deadline)
{
    boost::asio::io_context io;
    deadline_list list(io.get_executor(), expire);
    std::vector<std::string> log;
    waiter moved("moved", log), other("other", log);
    list.add(moved, 10ms);
    list.add(other, 60ms);
    list.add(moved, 120ms);
    EXPECT_EQ(list.size(), 2u);
    ASSERT_TRUE(runs_dry(io));
    EXPECT_EQ(log, (std::vector<std::string>{"other", "moved"}));
}

TEST(deadline_list, an_entry_may_wait_again_from_its_expiry)
{
    boost::asio::io_context io;
    deadline_list list(io.get_executor(), expire);
    std::vector<std::string> log;
    waiter again("again", log), other("other", log);
    int rounds = 0;
    again.then = [&](waiter& w) {
        if (++rounds < 3)
            list.add(w, 10ms);
    };
    list.add(again, 10ms);
    list.add(other, 25ms);
    ASSERT_TRUE(runs_dry(io));
    EXPECT_EQ(rounds, 3);
    EXPECT_EQ(log.size(), 4u);
    EXPECT_EQ(std::count(log.begin(), log.end(), "other"), 1);
}

TEST(deadline_list, an_entry_destroyed_while_waiting_leaves_and_a_destroyed_list_lets_its_entries_go)
{
    boost::asio::io_context io;
    std::vector<std::string> log;
    waiter kept("kept", log);
    {
        deadline_list list(io.get_executor(), expire);
        {
            waiter gone("gone", log);
            list.add(gone, 10ms);
            list.add(kept, 1h);
        }
        EXPECT_EQ(list.size(), 1u);
    }
    EXPECT_FALSE(kept.waiting());
    ASSERT_TRUE(runs_dry(io));
    EXPECT_TRUE(log.empty());
}

TEST(deadline_list, ten_thousand_entries_expire_in_order)
{
    boost::asio::io_context io;
    deadline_list list(io.get_executor(), expire);
    std::vector<std::string> log;
    std::vector<std::unique_ptr<waiter>> waiters;
    for (int i = 0; i < 10'000; ++i) {
        waiters.push_back(std::make_unique<waiter>(std::to_string(i), log));
        list.add(*waiters.back(), 5ms);
    }
    // Every other one leaves before its time.
    for (int i = 0; i < 10'000; i += 2)
        list.remove(*waiters[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(runs_dry(io));
    ASSERT_EQ(log.size(), 5'000u);
    for (std::size_t i = 0; i < log.size(); ++i)
        ASSERT_EQ(log[i], std::to_string(2 * i + 1));
}

}  // namespace
