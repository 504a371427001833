// The Redis presence records and events (presence_codec.hpp): any user and any info survive the round trip, and
// what is not a record or an event is refused, not half read.

#include "backplanes/redis/presence_codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::redis {
namespace {

std::string const client(32, 'a');

TEST(redis_presence_codec, a_record_keeps_any_user_and_info)
{
    for (presence_member const& m : std::vector<presence_member>{presence_member{client, "", "null"},
                                    presence_member{client, "ann", R"({"name":"Ann B","n":[1,2]})"},
                                    presence_member{client, "user with spaces 12 \n\"x\"", "\"s p a c e\""}}) {
        auto const record = presence_record("n0de", m);
        EXPECT_TRUE(record.starts_with("n0de " + std::to_string(m.user.size()) + " "));
        auto const back = presence_member_of(client, record);
        ASSERT_TRUE(back) << record;
        EXPECT_EQ(*back, m);
    }
}

TEST(redis_presence_codec, events_are_read_back_and_garbage_is_refused)
{
    auto const record = presence_record("n0de", {client, "bob", "{}"});
    auto const join = presence_event_of("j " + client + " room.a " + record);
    ASSERT_TRUE(join);
    EXPECT_EQ(join->type(), presence_event::kind::join);
    EXPECT_EQ(join->topic(), "room.a");
    EXPECT_EQ(*join->envelope(), R"({"type":"join","topic":"room.a","client":")" + client +
                                     R"(","user":"bob","info":{}})");
    auto const leave = presence_event_of("l " + client + " room.a " + record);
    ASSERT_TRUE(leave);
    EXPECT_EQ(leave->type(), presence_event::kind::leave);

    for (std::string const& bad : std::vector<std::string>{"", "j", "x " + client + " room " + record, "j " + client + " room",
                                  "j " + client + "  " + record, "j " + client + " room n0de 9 bob{}",
                                  "j " + client + " room n0de x bob{}", "j " + client + " room n0de 3 bob"})
        EXPECT_FALSE(presence_event_of(bad)) << bad;
}

}  // namespace
}  // namespace switchboard::redis
