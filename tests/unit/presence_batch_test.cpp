// presence_batch: what a topic's joins and leaves within one batch interval add up to (docs/protocol.md,
// "Presence at scale"). A client applying a diff's leaves, then its joins, must hold the members of now.

#include "core/presence_batch.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace switchboard::detail {
namespace {

using nlohmann::json;

presence_member member(std::string const& client, std::string const& user = "u", std::string info = "null")
{
    return {client, user, std::move(info)};
}

presence_event join(std::string const& topic, presence_member m)
{
    return {presence_event::kind::join, topic, std::move(m)};
}

presence_event leave(std::string const& topic, presence_member m)
{
    return {presence_event::kind::leave, topic, std::move(m)};
}

json entry(std::string const& client, std::string const& user = "u", json info = nullptr)
{
    return {{"client", client}, {"user", user}, {"info", info}};
}

TEST(presence_batch, a_join_and_a_leave_of_one_client_cancel_out)
{
    presence_batch b;
    EXPECT_EQ(b.add(join("room", member("a"))), 1u);
    EXPECT_EQ(b.add(leave("room", member("a"))), 1u);
    EXPECT_EQ(b.add(join("room", member("b"))), 2u);
    auto const diff = b.take("room");
    ASSERT_TRUE(diff);
    EXPECT_EQ(diff->type(), presence_event::kind::diff);
    EXPECT_EQ(diff->name(), "presence_diff");
    EXPECT_EQ(json::parse(*diff->envelope()),
              (json{{"type", "presence_diff"}, {"topic", "room"}, {"leaves", json::array()}, {"joins", {entry("b")}}}));
    EXPECT_TRUE(b.empty());
    EXPECT_FALSE(b.take("room")) << "taken once";
}

TEST(presence_batch, nothing_left_after_cancelling_makes_no_diff)
{
    presence_batch b;
    b.add(join("room", member("a")));
    b.add(leave("room", member("a")));
    EXPECT_FALSE(b.take("room"));
    b.add(join("room", member("a")));
    b.add(leave("room", member("a")));
    EXPECT_TRUE(b.take_all().empty());
}

TEST(presence_batch, a_member_that_left_and_came_back_is_in_both_lists_with_its_new_info)
{
    presence_batch b;
    b.add(leave("room", member("a", "ann", R"({"v":1})")));
    b.add(join("room", member("a", "ann", R"({"v":2})")));
    b.add(leave("room", member("c")));
    b.add(join("room", member("d")));
    b.add(leave("room", member("d")));
    b.add(join("room", member("d", "dee")));
    auto const diff = json::parse(*b.take("room")->envelope());
    EXPECT_EQ(diff["leaves"], (json{entry("a", "ann", {{"v", 1}}), entry("c")}));
    EXPECT_EQ(diff["joins"], (json{entry("a", "ann", {{"v", 2}}), entry("d", "dee")}));
}

TEST(presence_batch, topics_are_batched_apart)
{
    presence_batch b;
    b.add(join("one", member("a")));
    b.add(join("two", member("a")));
    b.add(leave("two", member("b")));
    auto const all = b.take_all();
    ASSERT_EQ(all.size(), 2u);
    for (auto const& diff : all) {
        auto const j = json::parse(*diff->envelope());
        EXPECT_EQ(j["topic"], diff->topic());
        if (diff->topic() == "one")
            EXPECT_EQ(j["joins"].size(), 1u);
        else
            EXPECT_EQ(j["leaves"], (json{entry("b")}));
    }
    EXPECT_TRUE(b.empty());
}

TEST(presence_batch, counts_are_an_event_of_their_own)
{
    auto const e = presence_event::counts("room", {.clients = 19'000, .users = 18'500});
    EXPECT_EQ(e->name(), "presence_stats");
    EXPECT_TRUE(e->member().client.empty());
    EXPECT_EQ(json::parse(*e->envelope()),
              (json{{"type", "presence_stats"}, {"topic", "room"}, {"clients", 19'000}, {"users", 18'500}}));
}

}  // namespace
}  // namespace switchboard::detail
