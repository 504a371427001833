// The backplane subscriptions that outlive their last subscriber (src/core/interest_linger.hpp), on a real
// io_context: released between one and two periods later unless taken back, at once past the bound or when
// stopped, and a loop that runs dry once nothing lingers.

#include "core/interest_linger.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using switchboard::detail::interest_linger;
using clock_type = std::chrono::steady_clock;

struct released_log {
    std::vector<std::string> names;
    std::vector<clock_type::time_point> at;
    interest_linger::release_handler handler()
    {
        return [this](std::string const& name) {
            names.push_back(name);
            at.push_back(clock_type::now());
        };
    }
};

// Runs until the loop runs dry, within a bound; true when it did.
bool ran_dry(boost::asio::io_context& io, std::chrono::seconds bound = 10s)
{
    io.restart();
    auto const started = clock_type::now();
    io.run_for(bound);
    return io.stopped() && clock_type::now() - started < bound;
}

TEST(interest_linger, releases_a_name_between_one_and_two_periods_after_it_was_let_go)
{
    boost::asio::io_context io;
    released_log log;
    interest_linger linger(io.get_executor(), 100ms, 10, log.handler());
    auto const let_go_at = clock_type::now();
    linger.let_go("a");
    EXPECT_TRUE(log.names.empty());
    EXPECT_EQ(linger.size(), 1u);
    ASSERT_TRUE(ran_dry(io)) << "the timer runs only while something lingers";
    ASSERT_EQ(log.names, std::vector<std::string>{"a"});
    EXPECT_GE(log.at[0] - let_go_at, 100ms);
    EXPECT_EQ(linger.size(), 0u);
}

TEST(interest_linger, a_name_taken_back_in_time_is_not_released)
{
    boost::asio::io_context io;
    released_log log;
    interest_linger linger(io.get_executor(), 50ms, 10, log.handler());
    EXPECT_FALSE(linger.take_back("a")) << "never let go: the backplane must subscribe";
    linger.let_go("a");
    linger.let_go("b");
    EXPECT_TRUE(linger.take_back("a")) << "lingering: the backplane still follows it";
    EXPECT_FALSE(linger.take_back("a"));
    ASSERT_TRUE(ran_dry(io));
    EXPECT_EQ(log.names, std::vector<std::string>{"b"});
}

TEST(interest_linger, a_name_aged_by_one_tick_can_still_be_taken_back)
{
    boost::asio::io_context io;
    released_log log;
    interest_linger linger(io.get_executor(), 50ms, 10, log.handler());
    linger.let_go("old");
    // One tick later "old" is in the old generation; "young" joins the young one.
    io.run_one_for(5s);
    EXPECT_TRUE(log.names.empty());
    linger.let_go("young");
    EXPECT_TRUE(linger.take_back("old"));
    ASSERT_TRUE(ran_dry(io));
    EXPECT_EQ(log.names, std::vector<std::string>{"young"});
}

TEST(interest_linger, past_its_bound_a_name_is_released_at_once)
{
    boost::asio::io_context io;
    released_log log;
    interest_linger linger(io.get_executor(), 10s, 2, log.handler());
    linger.let_go("a");
    linger.let_go("b");
    linger.let_go("c");
    EXPECT_EQ(log.names, std::vector<std::string>{"c"});
    EXPECT_EQ(linger.size(), 2u);
    linger.stop();
}

TEST(interest_linger, a_zero_period_releases_at_once)
{
    boost::asio::io_context io;
    released_log log;
    interest_linger linger(io.get_executor(), 0ms, 10, log.handler());
    linger.let_go("a");
    EXPECT_EQ(log.names, std::vector<std::string>{"a"});
    EXPECT_TRUE(ran_dry(io, 1s));
}

TEST(interest_linger, stopping_releases_everything_and_lingers_no_more)
{
    boost::asio::io_context io;
    released_log log;
    interest_linger linger(io.get_executor(), 10s, 10, log.handler());
    linger.let_go("a");
    linger.let_go("b");
    linger.stop();
    EXPECT_EQ(log.names.size(), 2u);
    EXPECT_EQ(linger.size(), 0u);
    linger.let_go("c");
    EXPECT_EQ(log.names.size(), 3u);
    EXPECT_TRUE(ran_dry(io, 1s)) << "the cancelled timer does not keep the loop";
}

}  // namespace
