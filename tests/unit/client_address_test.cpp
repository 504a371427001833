// client_ip and client_key: the IP a client's budget and rate limits are keyed by, cut from "IP:port" as a
// channel's or connection's remote address spells it (Asio's address text, then ":" and the port).

#include "core/client_address.hpp"

#include <switchboard/identity.hpp>

#include <boost/asio/ip/address.hpp>

#include <gtest/gtest.h>

#include <string>

using switchboard::detail::client_ip;
using switchboard::detail::client_key;

namespace {

// How http_connection spells a peer today: the address as Asio prints it, a colon, the port.
std::string remote_address_of(char const* ip, unsigned short port)
{
    return boost::asio::ip::make_address(ip).to_string() + ":" + std::to_string(port);
}

}  // namespace

TEST(client_address, ipv4_loses_its_port)
{
    EXPECT_EQ(client_ip("127.0.0.1:80"), "127.0.0.1");
    EXPECT_EQ(client_ip(remote_address_of("127.0.0.2", 65535)), "127.0.0.2");
}

TEST(client_address, ipv6_as_remote_address_spells_it_keeps_every_group)
{
    EXPECT_EQ(remote_address_of("::1", 80), "::1:80");  // what the next lines read: no brackets
    EXPECT_EQ(client_ip(remote_address_of("::1", 80)), "::1");
    EXPECT_EQ(client_ip(remote_address_of("2001:db8::17", 443)), "2001:db8::17");
    EXPECT_EQ(client_ip(remote_address_of("::ffff:127.0.0.1", 5000)), "::ffff:127.0.0.1");
}

TEST(client_address, bracketed_ipv6_loses_brackets_and_port)
{
    EXPECT_EQ(client_ip("[::1]:80"), "::1");
    EXPECT_EQ(client_ip("[2001:db8::17]:443"), "2001:db8::17");
}

TEST(client_address, no_colon_is_the_address_itself)
{
    EXPECT_EQ(client_ip("localhost"), "localhost");
    EXPECT_EQ(client_ip(""), "");
}

TEST(client_address, key_is_the_user_when_authenticated_else_the_ip)
{
    switchboard::identity anonymous;
    EXPECT_EQ(client_key(anonymous, "::1:80"), "ip:::1");
    EXPECT_EQ(client_key(anonymous, "[::1]:80"), "ip:::1");
    EXPECT_EQ(client_key(anonymous, "127.0.0.1:9"), "ip:127.0.0.1");
    // Two clients of one IPv6 /112 are two keys: the last group is theirs, not a port.
    EXPECT_NE(client_key(anonymous, "2001:db8::1:80"), client_key(anonymous, "2001:db8::2:80"));
    switchboard::identity user;
    user.authenticated = true;
    user.user = "ana";
    EXPECT_EQ(client_key(user, "127.0.0.1:9"), "user:ana");
}
