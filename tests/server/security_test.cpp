// Security on every transport: authentication at connect time (JWT HS256/RS256 and the hooks), token expiry
// on live connections, per-topic permissions, origin checks with CORS, and rate limits.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/jwt_maker.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <switchboard/error.hpp>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string const secret = "a-test-secret-of-32-characters!!";
std::string const audience = "switchboard-tests";

json claims(std::string const& user, std::chrono::seconds valid_for = 3600s)
{
    return {{"sub", user}, {"aud", audience}, {"exp", unix_time(valid_for)}};
}

server_options secured()
{
    server_options o;
    o.security.jwt_secret = secret;
    o.security.jwt_audience = audience;
    o.security.jwt_leeway = 0s;
    o.poll_hold = 200ms;
    return o;
}

header_list bearer(std::string const& token)
{
    return {{"Authorization", "Bearer " + token}};
}

// What each transport answers a request carrying `token` (none when empty): the HTTP status, and the error code
// of a refusal.
struct outcome {
    int status = 0;
    std::string code;
};

outcome try_websocket(live_server& srv, std::string const& token)
{
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws", token.empty() ? header_list{} : bearer(token));
    bool const opened = ws->wait_settled(srv.ioc);
    outcome out{ws->http_status(), {}};
    if (!opened) {
        auto const body = json::parse(ws->handshake_response().body(), nullptr, false);
        if (body.is_object())
            out.code = body["error"]["code"];
    } else {
        ws->close();
        ws->wait_closed(srv.ioc);
    }
    return out;
}

outcome try_sse(live_server& srv, std::string const& token)
{
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=news" + (token.empty() ? "" : "&token=" + token));
    EXPECT_TRUE(sse->wait_status(srv.ioc));
    outcome out{sse->status(), {}};
    if (out.status != 200) {
        sse->wait_ended(srv.ioc);
        out.code = sse->error_json()["error"]["code"];
    }
    sse->close();
    return out;
}

outcome try_poll(live_server& srv, std::string const& token)
{
    header_list h;
    if (!token.empty())
        h.push_back({"Cookie", "theme=dark; switchboard_token=" + token});
    auto res = fetch(srv.ioc, srv.port, "GET", "/poll?topic=news", {}, h);
    return {res.status, res.status == 200 ? "" : res.json()["error"]["code"].get<std::string>()};
}

outcome try_publish(live_server& srv, std::string const& token)
{
    auto res = fetch(srv.ioc, srv.port, "POST", "/publish?topic=news", R"({"n":1})", token.empty() ? header_list{} : bearer(token));
    return {res.status, res.status == 200 ? "" : res.json()["error"]["code"].get<std::string>()};
}

void expect_everywhere(live_server& srv, std::string const& token, int status, std::string const& code,
                       std::string const& what)
{
    for (auto [name, attempt] : {std::pair{"websocket", &try_websocket}, std::pair{"sse", &try_sse},
                                 std::pair{"long-polling", &try_poll}, std::pair{"publish", &try_publish}}) {
        auto const got = attempt(srv, token);
        EXPECT_EQ(got.status, status) << what << " over " << name;
        EXPECT_EQ(got.code, code) << what << " over " << name;
    }
}

TEST(security, refusals_on_every_transport)
{
    live_server srv(secured());
    srv.start();
    expect_everywhere(srv, "", 401, "unauthorized", "no token");
    expect_everywhere(srv, make_hs256(claims("alice"), "another-secret-of-32-characters!"), 401, "unauthorized",
                      "a bad signature");
    expect_everywhere(srv, make_hs256(claims("alice", -60s), secret), 401, "token_expired", "an expired token");
    auto wrong_audience = claims("alice");
    wrong_audience["aud"] = "someone-else";
    expect_everywhere(srv, make_hs256(wrong_audience, secret), 401, "unauthorized", "a wrong audience");
    auto not_yet = claims("alice");
    not_yet["nbf"] = unix_time(600s);
    expect_everywhere(srv, make_hs256(not_yet, secret), 401, "unauthorized", "a token not valid yet");
    expect_everywhere(srv, make_unsigned({{"alg", "none"}}, claims("alice"), ""), 401, "unauthorized", "alg none");
    expect_everywhere(srv, "not.a-token", 401, "unauthorized", "garbage");
}

TEST(security, accepted_tokens_reach_every_transport)
{
    live_server srv(secured());
    std::vector<std::string> users;
    (*srv).hooks().on_connect = [&](channel& ch) -> boost::system::error_code {
        users.push_back(std::string(ch.transport()) + " " + ch.identity().user);
        return {};
    };
    srv.start();
    auto const token = make_hs256(claims("alice"), secret);
    EXPECT_EQ(try_websocket(srv, token).status, 101);
    EXPECT_EQ(try_sse(srv, token).status, 200);
    EXPECT_EQ(try_poll(srv, token).status, 200);
    EXPECT_EQ(try_publish(srv, token).status, 200);
    EXPECT_EQ(users, (std::vector<std::string>{"websocket alice", "sse alice", "long-polling alice"}));
}

// The auth-scheme is case-insensitive (RFC 9110 11.1): every spelling of Bearer carries the token, on every route.
TEST(security, the_bearer_scheme_is_case_insensitive)
{
    live_server srv(secured());
    srv.start();
    auto const token = make_hs256(claims("alice"), secret);
    for (std::string_view scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR ", "Bearer   "}) {
        header_list const auth{{"Authorization", std::string(scheme) + token}};
        EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=news", "1", auth).status, 200) << scheme;
        auto ws = ws_client::create(srv.ioc);
        ws->connect(srv.port, "/ws", auth);
        EXPECT_TRUE(ws->wait_open(srv.ioc)) << scheme << ws->http_status();
        ws->close();
    }
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=news", "1", {{"Authorization", "Token " + token}}).status,
              401);
}

TEST(security, rs256_tokens_and_algorithm_confusion)
{
    auto const key = make_rsa_key();
    auto const other = make_rsa_key();
    server_options o;
    o.security.jwt_public_key = key.public_pem;
    live_server srv(o);
    srv.start();
    EXPECT_EQ(try_websocket(srv, make_rs256({{"sub", "bob"}}, key.private_pem)).status, 101);
    EXPECT_EQ(try_publish(srv, make_rs256({{"sub", "bob"}}, key.private_pem)).status, 200);
    auto const forged = try_websocket(srv, make_rs256({{"sub", "bob"}}, other.private_pem));
    EXPECT_EQ(forged.status, 401);
    EXPECT_EQ(forged.code, "unauthorized");
    // An HS256 token "signed" with the public key, which is no secret: refused, HS256 is not configured.
    EXPECT_EQ(try_sse(srv, make_hs256({{"sub", "bob"}}, key.public_pem)).status, 401);
    EXPECT_EQ(try_poll(srv, "").status, 401);
}

TEST(security, anonymous_clients_when_allowed_follow_their_own_rules)
{
    auto o = secured();
    o.security.allow_anonymous = true;
    o.security.anonymous_subscribe = {"public.*"};
    o.security.anonymous_publish = {};
    live_server srv(o);
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "private"}, {"id", 1}});
    ws->send_json({{"type", "subscribe"}, {"topic", "public.lobby"}, {"id", 2}});
    ws->send_json({{"type", "publish"}, {"topic", "public.lobby"}, {"data", 1}, {"id", 3}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 3));
    EXPECT_EQ((*ws->find_reply(1))["code"], "forbidden");
    EXPECT_EQ((*ws->find_reply(2))["type"], "ack");
    EXPECT_EQ((*ws->find_reply(3))["code"], "forbidden");
    EXPECT_TRUE(ws->is_open());
    // A bad token is still refused: anonymous means no token, not any token.
    EXPECT_EQ(try_sse(srv, make_hs256(claims("x"), "wrong-secret-wrong-secret-wrong!")).status, 401);
    ws->close();
}

TEST(security, token_claims_restrict_topics_and_the_connection_stays_up)
{
    live_server srv(secured());
    srv.start();
    auto c = claims("carol");
    c["sub_topics"] = {"news.*", "chat"};
    c["pub_topics"] = {"chat"};
    auto const token = make_hs256(c, secret);

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws?token=" + token);
    ws->send_json({{"type", "subscribe"}, {"topic", "secret"}, {"id", 1}});
    ws->send_json({{"type", "subscribe"}, {"topic", "news.today"}, {"id", 2}});
    ws->send_json({{"type", "subscribe"}, {"topic", "chat"}, {"id", 5}});
    ws->send_json({{"type", "publish"}, {"topic", "news.today"}, {"data", "fake"}, {"id", 3}});
    ws->send_json({{"type", "publish"}, {"topic", "chat"}, {"data", "hi"}, {"id", 4}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 4));
    EXPECT_EQ((*ws->find_reply(1))["code"], "forbidden");
    EXPECT_EQ((*ws->find_reply(1))["message"], "not allowed to subscribe to secret");
    EXPECT_EQ((*ws->find_reply(2))["type"], "ack");
    EXPECT_EQ((*ws->find_reply(3))["code"], "forbidden");
    EXPECT_EQ((*ws->find_reply(4))["type"], "ack");
    EXPECT_TRUE(ws->is_open());

    auto sse = fetch(srv.ioc, srv.port, "GET", "/sse?topic=news.a&topic=secret&token=" + token);
    EXPECT_EQ(sse.status, 403);
    EXPECT_EQ(sse.json()["error"]["code"], "forbidden");
    EXPECT_EQ(sse.json()["error"]["message"], "not allowed to subscribe to secret");
    auto poll = fetch(srv.ioc, srv.port, "GET", "/poll?topic=secret", {}, bearer(token));
    EXPECT_EQ(poll.status, 403);
    EXPECT_EQ(poll.json()["error"]["code"], "forbidden");
    auto pub = fetch(srv.ioc, srv.port, "POST", "/publish?topic=news.x", "1", bearer(token));
    EXPECT_EQ(pub.status, 403);
    EXPECT_EQ(pub.json()["error"]["code"], "forbidden");
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=chat", "1", bearer(token)).status, 200);

    // Still subscribed to what was allowed, and still receiving.
    ASSERT_TRUE(ws->wait_messages(srv.ioc, 2));
    ws->close();
}

TEST(security, configured_rules_apply_to_users)
{
    auto o = secured();
    o.security.user_subscribe = {"room.*"};
    o.security.user_publish = {"room.1"};
    live_server srv(o);
    srv.start();
    auto const token = make_hs256(claims("dave"), secret);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/sse?topic=lobby&token=" + token).status, 403);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=room.2", "1", bearer(token)).status, 403);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=room.1", "1", bearer(token)).status, 200);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/poll?topic=room.1", {}, bearer(token)).status, 200);
}

TEST(security, asynchronous_hooks_authenticate_and_authorize)
{
    live_server srv;
    srv.start();
    auto& h = (*srv).hooks();
    auto& ioc = srv.ioc;
    // A session store answering later: "session-<user>" is a valid token.
    h.authenticate = [&ioc](auth_request const& req, auth_handler done) {
        boost::asio::post(ioc, [token = std::string(req.token), done = std::move(done)] {
            if (!token.starts_with("session-"))
                return done(error::unauthorized, {});
            identity who;
            who.user = token.substr(8);
            who.authenticated = true;
            done({}, who);
        });
    };
    // Only "admin" may touch "ops.*"; decided later too.
    h.authorize = [&ioc](authorize_request const& req, decision_handler done) {
        bool const ok = !req.topic.starts_with("ops.") || req.who->user == "admin";
        boost::asio::post(ioc, [ok, done = std::move(done)] { done(ok ? boost::system::error_code{} : error::forbidden); });
    };
    EXPECT_EQ(try_websocket(srv, "").status, 401);
    EXPECT_EQ(try_publish(srv, "guess").status, 401);

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws", bearer("session-erin"));
    ws->send_json({{"type", "subscribe"}, {"topic", "ops.alerts"}, {"id", 1}});
    ASSERT_TRUE(ws->subscribe(srv.ioc, "news", 2));
    EXPECT_EQ((*ws->find_reply(1))["code"], "forbidden");
    EXPECT_EQ((*ws->find_reply(2))["type"], "ack");

    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/sse?topic=news&topic=ops.x&token=session-erin").status, 403);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/poll?topic=ops.x", {}, bearer("session-erin")).status, 403);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=ops.x", "1", bearer("session-erin")).status, 403);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=ops.x", "1", bearer("session-admin")).status, 200);
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=ops.x&token=session-admin");
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    EXPECT_EQ(sse->status(), 200);
    sse->close();
    ws->close();
}

// A hook may keep what it is asked past its call (a session store that answers later reads it then): the
// requests are values. Each hook here copies its request into a handler posted to the loop and reads it there,
// after the call and the server's own copies are gone.
TEST(security, asynchronous_hooks_read_their_requests_after_returning)
{
    live_server srv;
    srv.start();
    auto& h = (*srv).hooks();
    auto& ioc = srv.ioc;
    std::vector<std::string> seen;
    h.authenticate = [&](auth_request const& req, auth_handler done) {
        boost::asio::post(ioc, [&seen, req, done = std::move(done)] {
            std::string const target = req.request ? std::string(req.request->target()) : "(refresh)";
            seen.push_back("authenticate " + std::string(req.transport) + " " + std::string(req.token) + " " +
                           target + " local:" + std::to_string(req.remote_address.starts_with("127.0.0.1:")));
            identity who;
            who.user = std::string(req.token);
            who.authenticated = true;
            done({}, who);
        });
    };
    h.authorize = [&](authorize_request const& req, decision_handler done) {
        boost::asio::post(ioc, [&seen, req, done = std::move(done)] {
            seen.push_back("authorize " + req.topic + " by " + req.who->user + " via " +
                           (req.origin ? std::string(req.origin->transport()) : "http") +
                           " local:" + std::to_string(req.remote_address.starts_with("127.0.0.1:")));
            done({});
        });
    };
    h.on_publish = [&](publish_request& req) -> boost::system::error_code {
        // Kept past the call, then read: the copy has its own topic, data and address.
        boost::asio::post(ioc, [&seen, kept = req] {
            seen.push_back("publish " + kept.topic + " " + std::string(kept.data()) +
                           " local:" + std::to_string(kept.remote_address.starts_with("127.0.0.1:")));
        });
        return {};
    };

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws", bearer("session-erin"));
    ws->send_json({{"type", "subscribe"}, {"topic", "room.with.a.long.name.1"}, {"id", 1}});
    ws->send_json({{"type", "publish"}, {"topic", "room.with.a.long.name.1"}, {"data", {{"n", 1}}}, {"id", 2}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 2));
    EXPECT_EQ((*ws->find_reply(1))["type"], "ack");
    EXPECT_EQ((*ws->find_reply(2))["type"], "ack");
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=room.with.a.long.name.2", "[2]", bearer("session-finn"))
                  .status,
              200);
    ASSERT_TRUE(srv.run_until([&] { return seen.size() >= 7; }, 10s));
    EXPECT_EQ(seen, (std::vector<std::string>{
                        "authenticate websocket session-erin /ws local:1",
                        "authorize room.with.a.long.name.1 by session-erin via websocket local:1",
                        "authorize room.with.a.long.name.1 by session-erin via websocket local:1",
                        "publish room.with.a.long.name.1 {\"n\":1} local:1",
                        "authenticate publish session-finn /publish?topic=room.with.a.long.name.2 local:1",
                        "authorize room.with.a.long.name.2 by session-finn via http local:1",
                        "publish room.with.a.long.name.2 [2] local:1",
                    }));
    ws->close();
}

TEST(security, a_websocket_is_warned_then_closed_when_its_token_expires)
{
    auto o = secured();
    o.security.token_expiry_warning = 2500ms;
    live_server srv(o);
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws", bearer(make_hs256(claims("frank", 3s), secret)));
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    ASSERT_TRUE(srv.run_until([&] { return ws->closed(); }, 10s));
    EXPECT_EQ(ws->close_code(), 4004);
    bool warned = false;
    for (auto const& f : ws->received())
        warned = warned || (f.is_object() && f.value("type", "") == "expiring");
    EXPECT_TRUE(warned);
}

TEST(security, a_websocket_that_refreshes_its_token_stays)
{
    auto o = secured();
    // Tokens expire on whole seconds and expiry is checked on keepalive ticks (1 s here): a warning window
    // of 2.5 s before a 2-3 s token is seen at least a tick before the expiry.
    o.security.token_expiry_warning = 2500ms;
    live_server srv(o);
    srv.start();
    auto const first_expiry = std::chrono::system_clock::now() + 3s;
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port, "/ws", bearer(make_hs256(claims("gina", 3s), secret)));
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    auto const expiring = [&] {
        for (auto const& f : ws->received())
            if (f.is_object() && f.value("type", "") == "expiring")
                return true;
        return false;
    };
    ASSERT_TRUE(srv.run_until(expiring, 10s));
    // Someone else's token is refused, and the connection stays.
    ws->send_json({{"type", "refresh"}, {"token", make_hs256(claims("mallory"), secret)}, {"id", 1}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 1));
    EXPECT_EQ((*ws->find_reply(1))["code"], "unauthorized");
    ws->send_json({{"type", "refresh"}, {"token", "forged"}, {"id", 2}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 2));
    EXPECT_EQ((*ws->find_reply(2))["code"], "unauthorized");
    ws->send_json({{"type", "refresh"}, {"token", make_hs256(claims("gina", 600s), secret)}, {"id", 3}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 3));
    EXPECT_EQ((*ws->find_reply(3))["type"], "ack");
    EXPECT_GT((*ws->find_reply(3))["expires_at"].get<std::int64_t>(), unix_time(500s));
    // Past the first token's expiry (and a keepalive tick or two), the connection is still there.
    srv.run_until([&] { return ws->closed() || std::chrono::system_clock::now() > first_expiry + 2500ms; }, 10s);
    EXPECT_TRUE(ws->is_open());
    ws->send_json({{"type", "ping"}, {"id", 4}});
    EXPECT_TRUE(ws->wait_reply(srv.ioc, 4));
    ws->close();
}

TEST(security, a_refresh_keeps_the_connections_user)
{
    auto o = secured();
    o.security.allow_anonymous = true;
    o.security.anonymous_subscribe = {"public.*"};
    live_server srv(o);
    srv.start();

    // Anonymous stays anonymous: a token naming a user is refused (becoming someone takes a new connection),
    // and the user's topics stay closed to it.
    auto anonymous = ws_client::create(srv.ioc);
    anonymous->connect(srv.port);
    anonymous->send_json({{"type", "refresh"}, {"token", make_hs256(claims("mallory"), secret)}, {"id", 1}});
    anonymous->send_json({{"type", "subscribe"}, {"topic", "private"}, {"id", 2}});
    ASSERT_TRUE(anonymous->subscribe(srv.ioc, "public.lobby", 3));
    EXPECT_EQ((*anonymous->find_reply(1))["code"], "unauthorized");
    EXPECT_EQ((*anonymous->find_reply(2))["code"], "forbidden");
    EXPECT_EQ((*anonymous->find_reply(3))["type"], "ack");
    EXPECT_TRUE(anonymous->is_open());

    // An authenticated connection keeps its sub: another user's token is refused, its own is taken.
    auto gina = ws_client::create(srv.ioc);
    gina->connect(srv.port, "/ws", bearer(make_hs256(claims("gina", 60s), secret)));
    gina->send_json({{"type", "refresh"}, {"token", make_hs256(claims("mallory"), secret)}, {"id", 1}});
    gina->send_json({{"type", "refresh"}, {"token", make_hs256(claims("gina", 600s), secret)}, {"id", 2}});
    ASSERT_TRUE(gina->wait_reply(srv.ioc, 2));
    EXPECT_EQ((*gina->find_reply(1))["code"], "unauthorized");
    EXPECT_EQ((*gina->find_reply(2))["type"], "ack");
    anonymous->close();
    gina->close();
}

// Without authentication configured every client is anonymous, and a refresh changes nothing: it is taken.
TEST(security, a_refresh_without_authentication_configured_is_taken_and_stays_anonymous)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "refresh"}, {"token", make_hs256(claims("mallory"), secret)}, {"id", 1}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 1));
    EXPECT_EQ((*ws->find_reply(1))["type"], "ack");
    ws->close();
}

TEST(security, an_sse_stream_ends_with_a_close_event_when_its_token_expires)
{
    live_server srv(secured());
    srv.start();
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=news&token=" + make_hs256(claims("hank", 2s), secret));
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    ASSERT_EQ(sse->status(), 200);
    ASSERT_TRUE(sse->wait_ended(srv.ioc, 10s));
    auto const close = sse->find_event("close");
    ASSERT_TRUE(close);
    EXPECT_EQ(json::parse(close->data)["code"], 4004);
}

TEST(security, a_foreign_origin_cannot_open_a_websocket)
{
    server_options o;
    o.security.allowed_origins = {"https://app.example"};
    live_server srv(o);
    srv.start();
    auto foreign = ws_client::create(srv.ioc);
    foreign->connect(srv.port, "/ws", {{"Origin", "https://evil.example"}});
    ASSERT_FALSE(foreign->wait_settled(srv.ioc));
    EXPECT_EQ(foreign->http_status(), 403);
    EXPECT_EQ(json::parse(foreign->handshake_response().body())["error"]["code"], "origin_not_allowed");

    auto allowed = ws_client::create(srv.ioc);
    allowed->connect(srv.port, "/ws", {{"Origin", "https://app.example"}});
    EXPECT_TRUE(allowed->wait_open(srv.ioc));
    // Without an Origin (not a browser) the upgrade goes on.
    auto tool = ws_client::create(srv.ioc);
    tool->connect(srv.port, "/ws");
    EXPECT_TRUE(tool->wait_open(srv.ioc));
    allowed->close();
    tool->close();
}

TEST(security, cors_answers_allowed_origins_only)
{
    server_options o;
    o.security.allowed_origins = {"https://app.example"};
    o.poll_hold = 100ms;
    live_server srv(o);
    srv.start();
    for (std::string path : {"/sse", "/poll", "/publish"}) {
        auto const method = path == "/publish" ? "POST" : "GET";
        auto ok = fetch(srv.ioc, srv.port, "OPTIONS", path + "?topic=a", {},
                        {{"Origin", "https://app.example"},
                         {"Access-Control-Request-Method", method},
                         {"Access-Control-Request-Headers", "authorization"}});
        EXPECT_EQ(ok.status, 204) << path;
        EXPECT_EQ(ok.header("Access-Control-Allow-Origin"), "https://app.example") << path;
        EXPECT_EQ(ok.header("Access-Control-Allow-Credentials"), "true") << path;
        EXPECT_EQ(ok.header("Vary"), "Origin") << path;
        EXPECT_NE(ok.header("Access-Control-Allow-Methods").value_or("").find(method), std::string::npos) << path;
        EXPECT_NE(ok.header("Access-Control-Allow-Headers").value_or("").find("Authorization"), std::string::npos);

        auto refused = fetch(srv.ioc, srv.port, "OPTIONS", path + "?topic=a", {},
                             {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", method}});
        EXPECT_EQ(refused.status, 403) << path;
        EXPECT_FALSE(refused.header("Access-Control-Allow-Origin")) << path;
        EXPECT_EQ(refused.json()["error"]["code"], "origin_not_allowed") << path;
    }
    auto pub = fetch(srv.ioc, srv.port, "POST", "/publish?topic=a", "1", {{"Origin", "https://app.example"}});
    EXPECT_EQ(pub.status, 200);
    EXPECT_EQ(pub.header("Access-Control-Allow-Origin"), "https://app.example");
    auto csrf = fetch(srv.ioc, srv.port, "POST", "/publish?topic=a", "1", {{"Origin", "https://evil.example"}});
    EXPECT_EQ(csrf.status, 403);
    auto poll = fetch(srv.ioc, srv.port, "GET", "/poll?topic=a", {}, {{"Origin", "https://app.example"}});
    EXPECT_EQ(poll.status, 200);
    EXPECT_EQ(poll.header("Access-Control-Allow-Credentials"), "true");

    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=a", {{"Origin", "https://app.example"}});
    ASSERT_TRUE(sse->wait_status(srv.ioc));
    EXPECT_EQ(sse->status(), 200);
    EXPECT_EQ(sse->header("Access-Control-Allow-Origin"), "https://app.example");
    EXPECT_EQ(sse->header("Vary"), "Origin");
    sse->close();
    // Operator endpoints are not CORS resources.
    EXPECT_FALSE(fetch(srv.ioc, srv.port, "GET", "/healthz", {}, {{"Origin", "https://app.example"}})
                     .header("Access-Control-Allow-Origin"));
}

TEST(security, commands_past_the_channel_rate_get_errors_then_a_close)
{
    server_options o;
    o.security.channel_messages = {1, 10};  // slow refill: the counts below do not depend on the machine's speed
    o.security.max_rate_strikes = 30;
    live_server srv(o);
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->wait_open(srv.ioc));
    for (int i = 0; i < 20; ++i)
        ws->send_json({{"type", "ping"}, {"id", i}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 19));
    int limited = 0;
    for (auto const& f : ws->received())
        if (f.value("code", "") == "rate_limited") {
            ++limited;
            EXPECT_GT(f["retry_after"].get<int>(), 0);
        }
    EXPECT_GE(limited, 9);
    EXPECT_LE(limited, 10);
    EXPECT_TRUE(ws->is_open());
    // Ignoring the errors and going on: closed with 4005.
    for (int i = 0; i < 100; ++i)
        ws->send_json({{"type", "ping"}});
    ASSERT_TRUE(ws->wait_closed(srv.ioc));
    EXPECT_EQ(ws->close_code(), 4005);
}

TEST(security, http_publish_and_new_connections_past_their_rate_get_429)
{
    server_options o;
    o.security.user_messages = {0.1, 3};
    live_server srv(o);
    srv.start();
    std::vector<int> statuses;
    std::optional<std::string> retry_after;
    for (int i = 0; i < 6; ++i) {
        auto res = fetch(srv.ioc, srv.port, "POST", "/publish?topic=a", "1");
        statuses.push_back(res.status);
        if (res.status == 429) {
            retry_after = res.header("Retry-After");
            EXPECT_EQ(res.json()["error"]["code"], "rate_limited");
        }
    }
    EXPECT_EQ(std::vector<int>(statuses.begin(), statuses.begin() + 3), (std::vector<int>{200, 200, 200}));
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 429), 3);
    ASSERT_TRUE(retry_after);
    EXPECT_GE(std::stoi(*retry_after), 1);
}

TEST(security, new_connections_past_the_address_rate_get_429)
{
    server_options o;
    o.security.address_connections = {0.1, 3};
    live_server srv(o);
    srv.start();
    int ok = 0, limited = 0;
    for (int i = 0; i < 8; ++i) {
        auto res = fetch(srv.ioc, srv.port, "GET", "/healthz");
        if (res.status == 200)
            ++ok;
        if (res.status == 429) {
            ++limited;
            EXPECT_TRUE(res.header("Retry-After"));
        }
    }
    EXPECT_EQ(ok, 3);
    EXPECT_EQ(ok + limited, 8);
}

TEST(security, one_users_rate_is_shared_by_its_connections_only)
{
    auto o = secured();
    o.security.user_messages = {0.5, 10};
    o.security.max_rate_strikes = 1000;
    live_server srv(o);
    srv.start();
    auto connect = [&](std::string const& user) {
        auto ws = ws_client::create(srv.ioc);
        ws->connect(srv.port, "/ws", bearer(make_hs256(claims(user), secret)));
        EXPECT_TRUE(ws->wait_open(srv.ioc));
        return ws;
    };
    auto a1 = connect("ivy"), a2 = connect("ivy"), b = connect("jack");
    for (auto const& ws : {a1, a2, b})
        for (int i = 0; i < 8; ++i)
            ws->send_json({{"type", "ping"}, {"id", i}});
    for (auto const& ws : {a1, a2, b})
        ASSERT_TRUE(ws->wait_reply(srv.ioc, 7));
    auto limited = [](ws_client const& ws) {
        return std::count_if(ws.received().begin(), ws.received().end(),
                             [](json const& f) { return f.value("code", "") == "rate_limited"; });
    };
    EXPECT_GE(limited(*a1) + limited(*a2), 5);
    EXPECT_EQ(limited(*b), 0);
    for (auto const& ws : {a1, a2, b})
        ws->close();
}

TEST(security, an_abusive_client_does_not_slow_down_the_others)
{
    server_options o;
    o.security.channel_messages = {50, 50};
    o.security.max_rate_strikes = 1'000'000;  // keep the abuser connected: it must be contained, not just cut off
    live_server srv(o);
    srv.start();
    auto reader = ws_client::create(srv.ioc);
    reader->connect(srv.port);
    ASSERT_TRUE(reader->subscribe(srv.ioc, "calm", 0));

    auto abuser = ws_client::create(srv.ioc);
    abuser->connect(srv.port);
    ASSERT_TRUE(abuser->subscribe(srv.ioc, "calm", 0));
    for (int i = 0; i < 20'000; ++i)
        abuser->send_json({{"type", "publish"}, {"topic", "calm"}, {"data", "spam"}});

    auto polite = ws_client::create(srv.ioc);
    polite->connect(srv.port);
    ASSERT_TRUE(polite->wait_open(srv.ioc));
    auto const started = std::chrono::steady_clock::now();
    for (int i = 1; i <= 20; ++i) {
        polite->send_json({{"type", "publish"}, {"topic", "calm"}, {"data", i}, {"id", i}});
        ASSERT_TRUE(polite->wait_reply(srv.ioc, i));
        EXPECT_EQ((*polite->find_reply(i))["type"], "ack");
    }
    auto const took = std::chrono::steady_clock::now() - started;
    // The reader got the polite client's 20 messages and at most the abuser's burst and what trickled in since.
    ASSERT_TRUE(srv.run_until([&] {
        auto const m = reader->messages();
        return std::count_if(m.begin(), m.end(), [](json const& e) { return e["data"].is_number(); }) == 20;
    }));
    auto const spam = static_cast<double>(reader->message_count() - 20);
    double const seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() + 1;
    EXPECT_LE(spam, 50 + 50 * seconds + 50);
    EXPECT_LT(took, 10s);  // about 100 ms on a quiet machine
    // And the abuser is told, command after command (as fast as the server gets to them on a busy machine).
    EXPECT_TRUE(srv.run_until([&] {
        return std::count_if(abuser->received().begin(), abuser->received().end(),
                             [](json const& f) { return f.value("code", "") == "rate_limited"; }) > 100;
    }, 60s));
    reader->close();
    polite->close();
    abuser->drop();
}

}  // namespace
}  // namespace switchboard::test
