// The service's own routes (server::route) beside the transports: asynchronous answers through a responder,
// a method set with 405 and Allow, the security gate as an opt-in, and what a handler or a client that
// misbehaves costs: an answer never made, a responder dropped, a client that leaves first, a server stopping.
// Our Beast client, raw sockets and curl as the clients.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/raw_connection.hpp"
#include "support/server_process.hpp"

#include <switchboard/error.hpp>
#include <switchboard/http.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::test {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

http_response text(http_request const& req, std::string body, http::status status = http::status::ok)
{
    http_response res{status, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(body);
    return res;
}

TEST(service_route, answers_later_through_its_responder)
{
    live_server srv;
    std::vector<http_responder> waiting;  // answered by a timer, as a database callback would
    boost::asio::steady_timer later(srv.ioc);
    (*srv).route("/api/later", {}, [&](http_request const& req, http_responder send) {
        waiting.push_back(std::move(send));
        later.expires_after(20ms);
        later.async_wait([&, body = "later: " + std::string(req.target())](boost::system::error_code) {
            for (auto& w : waiting)
                EXPECT_TRUE(w.send(text(w.request(), body)));
            waiting.clear();
        });
    });
    srv.start();
    auto const res = fetch(srv.ioc, srv.port, "GET", "/api/later?x=1");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "later: /api/later?x=1");
    EXPECT_EQ(res.header("content-length"), "21");

    // curl, on a keep-alive connection: two requests, both answered.
    server_process curl("curl", {"--silent", "--show-error", "--max-time", "20", url(srv, "/api/later?a"), url(srv, "/api/later?b")});
    ASSERT_TRUE(srv.run_until([&] { return curl.exit_status().has_value(); }));
    EXPECT_EQ(curl.exit_status(), 0) << curl.output();
    EXPECT_EQ(curl.output(), "later: /api/later?alater: /api/later?b");
}

TEST(service_route, answers_only_its_methods)
{
    live_server srv;
    int runs = 0;
    (*srv).route("/api/items", {.methods = {http::verb::get, http::verb::delete_}},
                 [&](http_request const& req, http_responder send) {
                     ++runs;
                     send.send(text(req, std::string(http::to_string(req.method()))));
                 });
    srv.start();
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/api/items").body, "GET");
    EXPECT_EQ(fetch(srv.ioc, srv.port, "DELETE", "/api/items").body, "DELETE");
    for (auto method : {"POST", "PUT", "PATCH", "OPTIONS"}) {
        auto const res = fetch(srv.ioc, srv.port, method, "/api/items", method == std::string("POST") ? "{}" : "");
        EXPECT_EQ(res.status, 405) << method;
        EXPECT_EQ(res.header("allow"), "GET, HEAD, DELETE") << method;
        EXPECT_EQ(res.json()["error"]["code"], "method_not_allowed") << method;
    }
    EXPECT_EQ(runs, 2);

    // HEAD: the handler runs as for GET; the head says what GET would send, with no body (curl -I reads it).
    server_process curl("curl", {"--silent", "--show-error", "--max-time", "20", "--head", url(srv, "/api/items")});
    ASSERT_TRUE(srv.run_until([&] { return curl.exit_status().has_value(); }));
    EXPECT_EQ(curl.exit_status(), 0) << curl.output();
    EXPECT_NE(curl.output().find("HTTP/1.1 200 OK"), std::string::npos) << curl.output();
    EXPECT_NE(curl.output().find("Content-Length: 4"), std::string::npos) << curl.output();
    EXPECT_EQ(runs, 3);
}

TEST(service_route, the_security_gate_is_an_opt_in)
{
    server_options o;
    o.security.allowed_origins = {"https://app.example"};
    live_server srv(o);
    (*srv).hooks().authenticate = [&](auth_request const& req, auth_handler done) {
        boost::asio::post(srv.ioc, [token = std::string(req.token), transport = std::string(req.transport),
                                    done = std::move(done)] {
            if (token != "session-erin" || transport != "route")
                return done(error::unauthorized, {});
            identity who;
            who.user = "erin";
            who.authenticated = true;
            done({}, who);
        });
    };
    auto const whoami = [](http_request const& req, http_responder send) {
        auto const& who = send.identity();
        send.send(text(req, who ? "user=" + who->user : "nobody"));
    };
    (*srv).route("/api/me", {.methods = {http::verb::get}, .secured = true}, whoami);
    (*srv).route("/api/open", {}, whoami);
    srv.start();

    auto const bearer = header_list{{"Authorization", "Bearer session-erin"}};
    auto res = fetch(srv.ioc, srv.port, "GET", "/api/me", {}, bearer);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "user=erin");
    res = fetch(srv.ioc, srv.port, "GET", "/api/me");
    EXPECT_EQ(res.status, 401);
    EXPECT_EQ(res.json()["error"]["code"], "unauthorized");
    res = fetch(srv.ioc, srv.port, "GET", "/api/me", {}, {{"Authorization", "Bearer session-erin"}, {"Origin", "https://evil.example"}});
    EXPECT_EQ(res.status, 403);
    EXPECT_EQ(res.json()["error"]["code"], "origin_not_allowed");
    res = fetch(srv.ioc, srv.port, "GET", "/api/me", {}, {{"Authorization", "Bearer session-erin"}, {"Origin", "https://app.example"}});
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.header("access-control-allow-origin"), "https://app.example");
    // A preflight is the gate's to answer, before authentication (browsers send no credentials with it).
    res = fetch(srv.ioc, srv.port, "OPTIONS", "/api/me", {},
                {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
    EXPECT_EQ(res.status, 204);
    EXPECT_EQ(res.header("access-control-allow-origin"), "https://app.example");

    // An open route: no gate, no identity, any Origin.
    res = fetch(srv.ioc, srv.port, "GET", "/api/open", {}, {{"Origin", "https://evil.example"}});
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "nobody");
    EXPECT_FALSE(res.header("access-control-allow-origin"));
}

TEST(service_route, an_answer_dropped_or_thrown_is_a_500)
{
    live_server srv;
    (*srv).route("/api/drops", {}, [](http_request const&, http_responder) {});
    (*srv).route("/api/throws", {}, [](http_request const&, http_responder) { throw std::runtime_error("boom"); });
    std::optional<http_responder> kept;
    (*srv).route("/api/keeps-then-throws", {}, [&](http_request const&, http_responder send) {
        kept.emplace(std::move(send));
        throw std::runtime_error("boom");
    });
    (*srv).route("/api/twice", {}, [](http_request const& req, http_responder send) {
        std::string const n(req["X-N"]);
        EXPECT_TRUE(send.send(text(req, "first")));
        EXPECT_FALSE(send.pending());
        // Still this request, not the one pipelined behind it (read after the answer, but handled after this).
        EXPECT_EQ(req["X-N"], n);
        EXPECT_FALSE(send.send(text(req, "second")));
    });
    srv.start();
    for (auto target : {"/api/drops", "/api/throws", "/api/keeps-then-throws"}) {
        auto const res = fetch(srv.ioc, srv.port, "GET", target);
        EXPECT_EQ(res.status, 500) << target;
        EXPECT_EQ(res.json()["error"]["code"], "internal_error") << target;
    }
    ASSERT_TRUE(kept);
    EXPECT_FALSE(kept->pending());
    // One answer per request, on a connection that goes on.
    raw_connection conn(srv.ioc, srv.port);
    conn.send("GET /api/twice HTTP/1.1\r\nHost: x\r\nX-N: 1\r\n\r\n"
              "GET /api/twice HTTP/1.1\r\nHost: x\r\nX-N: 2\r\n\r\n");
    ASSERT_TRUE(conn.wait_for([](std::string const& got) {
        auto const first = got.find("first");
        return first != std::string::npos && got.find("first", first + 1) != std::string::npos;
    }));
    EXPECT_EQ(conn.received().find("second"), std::string::npos);
    EXPECT_FALSE(conn.closed());
}

TEST(service_route, a_handler_that_never_answers_meets_its_timeout)
{
    live_server srv;
    std::vector<http_responder> forgotten;
    (*srv).route("/api/never", {.timeout = 200ms}, [&](http_request const&, http_responder send) {
        forgotten.push_back(std::move(send));
    });
    srv.start();
    auto const started = std::chrono::steady_clock::now();
    auto const res = fetch(srv.ioc, srv.port, "GET", "/api/never");
    EXPECT_EQ(res.status, 500);
    EXPECT_EQ(res.json()["error"]["code"], "internal_error");
    EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
    ASSERT_EQ(forgotten.size(), 1u);
    EXPECT_FALSE(forgotten[0].pending());
    http_response late{http::status::ok, 11};
    EXPECT_FALSE(forgotten[0].send(std::move(late)));
}

TEST(service_route, a_client_that_leaves_frees_its_connection_before_the_answer)
{
    live_server srv;
    std::vector<http_responder> waiting;
    (*srv).route("/api/slow", {.timeout = 0ms}, [&](http_request const&, http_responder send) {
        waiting.push_back(std::move(send));
    });
    srv.start();
    {
        raw_connection conn(srv.ioc, srv.port);
        conn.send("GET /api/slow HTTP/1.1\r\nHost: x\r\n\r\n");
        ASSERT_TRUE(srv.run_until([&] { return waiting.size() == 1; }));
        EXPECT_TRUE(waiting[0].pending());
    }  // closed without waiting for the answer
    ASSERT_TRUE(srv.run_until([&] { return !waiting[0].pending(); }));
    http_response late{http::status::ok, 11};
    EXPECT_FALSE(waiting[0].send(std::move(late)));
}

TEST(service_route, a_stopping_server_answers_what_is_still_owed)
{
    live_server srv;
    std::optional<http_responder> waiting;
    (*srv).route("/api/slow", {.timeout = 0ms}, [&](http_request const&, http_responder send) { waiting.emplace(std::move(send)); });
    srv.start();
    std::optional<http_result> answer;
    request(srv.ioc, srv.port, "GET", "/api/slow", {}, {}, [&](http_result r) { answer = std::move(r); });
    ASSERT_TRUE(srv.run_until([&] { return waiting.has_value(); }));
    (*srv).stop();
    ASSERT_TRUE(srv.run_until([&] { return answer.has_value(); }));
    EXPECT_EQ(answer->status, 503);
    EXPECT_EQ(answer->json()["error"]["code"], "shutting_down");
    EXPECT_FALSE(waiting->pending());
}

}  // namespace
}  // namespace switchboard::test
