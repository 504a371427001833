// The TURN credentials of examples/webrtc, against answers computed independently of OpenSSL's C API:
//   printf %s '1700000000:alice' | openssl dgst -sha1 -hmac secret -binary | base64
//   python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b'secret',
//               b'1700000000:alice', hashlib.sha1).digest()).decode())"
// both print d8soP47RbdIKLDUOpnJPVQyq5Ts=; the other vectors were computed the same way.

#include "turn_credentials.hpp"
#include "turn_route.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

using namespace webrtc_example;
using namespace std::chrono_literals;

namespace {

std::chrono::system_clock::time_point at(long long unix_seconds)
{
    return std::chrono::system_clock::time_point{std::chrono::seconds{unix_seconds}};
}

switchboard::http_response get(switchboard::server::route_handler const& route, std::string target)
{
    switchboard::http_request req{boost::beast::http::verb::get, target, 11};
    return route(req);
}

}  // namespace

TEST(turn_credentials, password_matches_known_answers)
{
    EXPECT_EQ(turn_password("secret", "1700000000:alice"), "d8soP47RbdIKLDUOpnJPVQyq5Ts=");
    EXPECT_EQ(turn_password("", "1700000000:"), "Ewb2cramJ/QiTbUgaEfVAUQyj7s=");
    // A key longer than SHA-1's 64-byte block is hashed first: a different path through HMAC.
    EXPECT_EQ(turn_password("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-longer-than-a-block",
                            "4102444800:bob"),
              "grCC3KTmYcHfKSQc6khpQQoKUOo=");
}

TEST(turn_credentials, username_is_expiry_then_user)
{
    auto const c = make_turn_credentials("secret", "alice", at(1'699'996'400) + 750ms, 3600s);
    EXPECT_EQ(c.username, "1700000000:alice");
    EXPECT_EQ(c.credential, "d8soP47RbdIKLDUOpnJPVQyq5Ts=");
    EXPECT_EQ(c.expiry, at(1'700'000'000));
}

TEST(turn_credentials, refuses_what_coturn_would_misread)
{
    EXPECT_THROW(make_turn_credentials("secret", "a:b", at(0), 60s), std::invalid_argument);
    EXPECT_THROW(make_turn_credentials("secret", "alice", at(0), 0s), std::invalid_argument);
}

TEST(turn_route, answers_an_ice_server)
{
    auto const route = make_turn_route({"secret", {"turn:127.0.0.1:3478?transport=udp"}, 600s});
    auto const before = std::chrono::system_clock::now();
    auto const res = get(route, "/turn-credentials?user=alice");
    ASSERT_EQ(res.result(), boost::beast::http::status::ok);
    EXPECT_EQ(res[boost::beast::http::field::cache_control], "no-store");
    auto const body = nlohmann::json::parse(res.body());
    EXPECT_EQ(body["urls"], nlohmann::json::array({"turn:127.0.0.1:3478?transport=udp"}));
    EXPECT_EQ(body["ttl"], 600);
    auto const expires = body["expires"].get<long long>();
    EXPECT_GE(expires, std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count() + 599);
    EXPECT_EQ(body["username"], std::to_string(expires) + ":alice");
    EXPECT_EQ(body["credential"], turn_password("secret", body["username"].get<std::string>()));
}

TEST(turn_route, defaults_the_user_and_refuses_odd_ones)
{
    auto const route = make_turn_route({"secret", {"turn:127.0.0.1:3478"}, 60s});
    auto const body = nlohmann::json::parse(get(route, "/turn-credentials").body());
    EXPECT_TRUE(body["username"].get<std::string>().ends_with(":guest"));
    for (auto const* target : {"/turn-credentials?user=a:b", "/turn-credentials?user=", "/turn-credentials?user=%41"}) {
        auto const res = get(route, target);
        EXPECT_EQ(res.result(), boost::beast::http::status::bad_request) << target;
        EXPECT_EQ(nlohmann::json::parse(res.body())["error"]["code"], "bad_request") << target;
    }
}

TEST(turn_route, not_found_without_a_turn_server)
{
    auto const res = get(make_turn_route({}), "/turn-credentials");
    EXPECT_EQ(res.result(), boost::beast::http::status::not_found);
    EXPECT_EQ(nlohmann::json::parse(res.body())["error"]["code"], "not_found");
}
