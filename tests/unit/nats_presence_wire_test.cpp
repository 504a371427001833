// What nodes say to each other about presence over NATS (presence_wire.hpp): entries keep any user and any info
// and follow each other unseparated, what is not an entry is refused, and the member digest is order-free and the
// same on every build.

#include "backplanes/nats/presence_wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::nats {
namespace {

std::string const client(32, 'a');

TEST(nats_presence_wire, entries_keep_any_user_and_info_and_follow_each_other)
{
    std::vector<presence_entry> const all{
        {"room", {client, "", "null"}},
        {"room.a", {client, "ann", R"({"name":"Ann B","n":[1,2]})"}},
        {"x", {std::string(32, 'b'), "user with spaces 12 \n\"x\"", "{\n  \"pretty\": true\n}"}},
    };
    std::string wire;
    for (auto const& e : all)
        append_entry(wire, e.topic, e.member);
    std::string_view in = wire;
    for (auto const& e : all) {
        auto const back = read_entry(in);
        ASSERT_TRUE(back) << wire;
        EXPECT_EQ(back->topic, e.topic);
        EXPECT_EQ(back->member, e.member);
    }
    EXPECT_TRUE(in.empty());
}

TEST(nats_presence_wire, what_is_not_an_entry_is_refused)
{
    for (std::string const& bad : std::vector<std::string>{"", client, client + " room", client + " room 3 4 bob",
                                                            client + " room 3 0 bob", client + " room x 4 bobnull",
                                                            client + " room 3 -4 bobnull", client + "  3 4 bobnull",
                                                            " room 0 4 null", client + " room 9 4 bobnull"}) {
        std::string_view in = bad;
        EXPECT_FALSE(read_entry(in)) << bad;
    }
    std::string const good = client + " room 3 4 bobnull";
    std::string_view ok = good;
    EXPECT_TRUE(read_entry(ok));
}

TEST(nats_presence_wire, fields_and_numbers)
{
    std::string_view in = "d * 12 0 1 rest of it";
    EXPECT_EQ(read_field(in), "d");
    EXPECT_EQ(read_field(in), "*");
    EXPECT_EQ(number_of(read_field(in)), 12u);
    EXPECT_EQ(in, "0 1 rest of it");
    EXPECT_FALSE(number_of(""));
    EXPECT_FALSE(number_of("12a"));
    EXPECT_FALSE(number_of("-1"));
    EXPECT_EQ(number_of("18446744073709551615"), 18446744073709551615ull);
    EXPECT_FALSE(number_of("18446744073709551616"));
}

TEST(nats_presence_wire, a_digest_is_the_same_whatever_the_order_and_tells_sets_apart)
{
    auto const a = member_hash(client, "room");
    auto const b = member_hash(client, "room.b");
    auto const c = member_hash(std::string(32, 'c'), "room");
    EXPECT_EQ(a ^ b ^ c, c ^ a ^ b);
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(member_hash("ab", "c"), member_hash("a", "bc"));  // the separator counts
    // Stable across builds and nodes (a node built later must agree with one built today): FNV-1a and splitmix64,
    // worked out apart from this code.
    EXPECT_EQ(a, 0x319d4ef34628ccb6ull);
    EXPECT_EQ(member_hash("", ""), 0xa8546c8a78bd8323ull);
}

}  // namespace
}  // namespace switchboard::nats
