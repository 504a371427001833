// packed_address: a remote address kept in its bytes must spell exactly what a connection's address was spelled
// as before (Asio's IP, a colon, the port), and any other text must come back as it was given.

#include "core/packed_address_of.hpp"

#include <boost/asio/ip/address.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>

using switchboard::detail::packed_address;
using switchboard::detail::packed_address_of;

namespace {

// How a connection's address was spelled: the address as Asio prints it, a colon, the port.
std::string spelled_by_asio(boost::asio::ip::address const& ip, unsigned short port)
{
    return ip.to_string() + ":" + std::to_string(port);
}

}  // namespace

static_assert(sizeof(packed_address) == 20, "a string was 32 bytes: the point is to hold less");

TEST(packed_address, ipv4_is_spelled_as_asio_spells_it)
{
    for (char const* ip : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "10.0.0.9", "203.0.113.195", "1.20.100.200"})
        for (unsigned short port : {0, 1, 80, 9999, 10000, 54321, 65535}) {
            auto const address = boost::asio::ip::make_address(ip);
            auto const packed = packed_address_of(address, port);
            EXPECT_TRUE(packed.packed());
            EXPECT_EQ(packed.text(), spelled_by_asio(address, port));
        }
    // Every octet's spelling, at random places.
    std::mt19937 random(17);
    for (int i = 0; i < 20000; ++i) {
        auto const address = boost::asio::ip::address_v4(static_cast<std::uint32_t>(random()));
        auto const port = static_cast<unsigned short>(random());
        ASSERT_EQ(packed_address_of(address, port).text(), spelled_by_asio(address, port));
    }
}

TEST(packed_address, ipv6_is_spelled_as_asio_spells_it)
{
    for (char const* ip : {"::", "::1", "2001:db8::1", "2001:db8:85a3::8a2e:370:7334", "::ffff:127.0.0.1",
                           "fe80::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
        auto const address = boost::asio::ip::make_address(ip);
        auto const packed = packed_address_of(address, 443);
        EXPECT_TRUE(packed.packed()) << ip;
        EXPECT_EQ(packed.text(), spelled_by_asio(address, 443));
    }
    // With a scope (a link-local client's), kept as text: spelled as Asio spells it all the same.
    auto scoped = boost::asio::ip::make_address_v6("fe80::1");
    scoped.scope_id(7);  // no interface of that number: Asio spells the number
    auto const packed = packed_address_of(scoped, 80);
    EXPECT_FALSE(packed.packed());
    EXPECT_EQ(packed.text(), spelled_by_asio(scoped, 80));
    EXPECT_EQ(packed_address(std::string_view(packed.text())).text(), packed.text());
}

TEST(packed_address, an_address_given_as_text_is_packed_when_its_bytes_spell_it_back)
{
    for (char const* text : {"127.0.0.1:5000", "203.0.113.195:54321", "::1:5000", "2001:db8::1:443", "0.0.0.0:0"}) {
        packed_address const a{std::string_view(text)};
        EXPECT_TRUE(a.packed()) << text;
        EXPECT_EQ(a.text(), text);
    }
}

TEST(packed_address, any_other_text_comes_back_as_it_was_given)
{
    // Not Asio's spelling (brackets, leading zeros, a port out of range or missing), or no address at all: kept
    // as text, whatever it is.
    for (char const* text : {"[::1]:5000", "127.0.0.1:05000", "127.0.0.1:65536", "127.0.0.1:", "127.0.0.1",
                             "::1", "010.0.0.1:80", "in-process", ":", "a:b:c", "127.0.0.1:80 ", "2001:DB8::1:443"}) {
        packed_address const a{std::string_view(text)};
        EXPECT_FALSE(a.packed()) << text;
        EXPECT_FALSE(a.empty()) << text;
        EXPECT_EQ(a.text(), text);
    }
    packed_address const none{std::string_view()};
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.text(), "");
    EXPECT_EQ(packed_address().text(), "");
}

TEST(packed_address, copies_and_moves_keep_the_text_and_free_it_once)
{
    // Run under ASan in the test command: a text freed twice, or never, fails there.
    std::string const long_text(200, 'x');
    packed_address a{std::string_view(long_text)};
    packed_address b = a;
    EXPECT_EQ(b.text(), long_text);
    packed_address c = std::move(a);
    EXPECT_EQ(c.text(), long_text);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from address is empty, and usable
    a = c;
    EXPECT_EQ(a.text(), long_text);
    auto const& same = a;
    a = same;  // itself
    EXPECT_EQ(a.text(), long_text);
    b = packed_address{std::string_view("127.0.0.1:80")};  // a text replaced by bytes
    EXPECT_EQ(b.text(), "127.0.0.1:80");
    c = std::move(b);  // bytes over a text
    EXPECT_EQ(c.text(), "127.0.0.1:80");
    b = a;  // a text over a moved-from one
    EXPECT_EQ(b.text(), long_text);
}
