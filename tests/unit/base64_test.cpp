// base64 as binary payloads travel through JSON envelopes and the backplanes: the same text as OpenSSL's encoder
// for every length, and only canonical text decodes (one payload, one encoding).

#include "core/base64.hpp"

#include "support/base64_reference.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace {

using switchboard::detail::base64_decode;
using switchboard::detail::base64_encode;
using switchboard::test::openssl_base64;

TEST(base64, encodes_as_openssl_does_and_decodes_back_at_every_length)
{
    std::mt19937 rng(5);
    for (std::size_t n = 0; n < 600; ++n) {
        std::string bytes(n, '\0');
        for (auto& c : bytes)
            c = static_cast<char>(rng());
        auto const text = base64_encode(bytes);
        ASSERT_EQ(text, openssl_base64(bytes)) << n;
        ASSERT_EQ(base64_decode(text), bytes) << n;
    }
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");  // RFC 4648 10
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("f"), "Zg==");
}

TEST(base64, refuses_text_that_is_not_canonical)
{
    for (std::string_view text : {"Zg", "Zg=", "Z===", "====", "Zg==Zg==", "Zm=8", "Zh==", "Zm9=", "Zm 8=",
                                  "Zm8\n", "Zm-8", "Zm_8"}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(base64_decode(text));
    }
    EXPECT_EQ(base64_decode(""), "");
}

}  // namespace
