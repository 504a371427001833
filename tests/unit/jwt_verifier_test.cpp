// The built-in JWT check on its own: signatures, algorithms, time claims, audience and issuer.

#include "security/jwt_verifier.hpp"
#include "support/jwt_maker.hpp"

#include <switchboard/error.hpp>

#include <gtest/gtest.h>

namespace switchboard::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string const secret = "unit-secret-unit-secret-unit-sec";

struct checked {
    boost::system::error_code ec;
    std::string why;
    identity who;
};

checked verify(security_options const& o, std::string const& token)
{
    detail::jwt_verifier v(o);
    checked out;
    out.ec = v.verify(token, std::chrono::system_clock::now(), out.who, out.why);
    return out;
}

security_options hs256()
{
    security_options o;
    o.jwt_secret = secret;
    o.jwt_leeway = 0s;
    return o;
}

TEST(jwt_verifier, accepts_a_good_hs256_token_and_reads_its_identity)
{
    auto const r = verify(hs256(), make_hs256({{"sub", "ann"}, {"exp", unix_time(60s)}, {"role", "x"}}, secret));
    ASSERT_FALSE(r.ec) << r.why;
    EXPECT_EQ(r.who.user, "ann");
    EXPECT_TRUE(r.who.authenticated);
    EXPECT_EQ(r.who.claims["role"], "x");
    ASSERT_TRUE(r.who.expires_at);
}

TEST(jwt_verifier, refuses_bad_signatures_algorithms_and_shapes)
{
    json const c = {{"sub", "ann"}};
    EXPECT_EQ(verify(hs256(), make_hs256(c, "other-secret")).why, "token signature does not verify");
    EXPECT_EQ(verify(hs256(), make_unsigned({{"alg", "none"}}, c, "")).ec, error::unauthorized);
    EXPECT_EQ(verify(hs256(), make_unsigned({{"alg", "HS512"}}, c, "x")).ec, error::unauthorized);
    for (std::string bad : {"", "a", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.", "bm90IGpzb24.e30.e30"})
        EXPECT_EQ(verify(hs256(), bad).ec, error::unauthorized) << bad;
    // A token whose payload was changed after signing.
    auto token = make_hs256(c, secret);
    auto const dot = token.find('.');
    token.replace(dot + 1, token.find('.', dot + 1) - dot - 1, base64url(R"({"sub":"root"})"));
    EXPECT_EQ(verify(hs256(), token).ec, error::unauthorized);
}

TEST(jwt_verifier, checks_time_claims_with_leeway)
{
    EXPECT_EQ(verify(hs256(), make_hs256({{"exp", unix_time(-10s)}}, secret)).ec, error::token_expired);
    EXPECT_EQ(verify(hs256(), make_hs256({{"nbf", unix_time(30s)}}, secret)).ec, error::unauthorized);
    EXPECT_EQ(verify(hs256(), make_hs256({{"exp", "tomorrow"}}, secret)).ec, error::unauthorized);
    auto lenient = hs256();
    lenient.jwt_leeway = 60s;
    EXPECT_FALSE(verify(lenient, make_hs256({{"exp", unix_time(-10s)}}, secret)).ec);
    EXPECT_FALSE(verify(lenient, make_hs256({{"nbf", unix_time(30s)}}, secret)).ec);
}

TEST(jwt_verifier, checks_audience_and_issuer_when_configured)
{
    auto o = hs256();
    o.jwt_audience = "app";
    o.jwt_issuer = "auth";
    EXPECT_FALSE(verify(o, make_hs256({{"aud", "app"}, {"iss", "auth"}}, secret)).ec);
    EXPECT_FALSE(verify(o, make_hs256({{"aud", json::array({"x", "app"})}, {"iss", "auth"}}, secret)).ec);
    EXPECT_EQ(verify(o, make_hs256({{"aud", "other"}, {"iss", "auth"}}, secret)).why, "token audience does not match");
    EXPECT_EQ(verify(o, make_hs256({{"iss", "auth"}}, secret)).why, "token audience does not match");
    EXPECT_EQ(verify(o, make_hs256({{"aud", "app"}, {"iss", "evil"}}, secret)).why, "token issuer does not match");
}

TEST(jwt_verifier, rs256_with_a_public_key)
{
    auto const key = make_rsa_key();
    security_options o;
    o.jwt_public_key = key.public_pem;
    EXPECT_FALSE(verify(o, make_rs256({{"sub", "bo"}}, key.private_pem)).ec);
    EXPECT_EQ(verify(o, make_rs256({{"sub", "bo"}}, make_rsa_key().private_pem)).ec, error::unauthorized);
    EXPECT_EQ(verify(o, make_hs256({{"sub", "bo"}}, key.public_pem)).ec, error::unauthorized);
    o.jwt_public_key = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n";
    EXPECT_THROW(detail::jwt_verifier{o}, std::invalid_argument);
}

}  // namespace
}  // namespace switchboard::test
