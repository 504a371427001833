// The admin view: off without a token, refused without the right one, and live over SSE with it.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchboard::test {
namespace {

using nlohmann::json;

TEST(admin, is_off_without_a_token)
{
    live_server srv;
    srv.start();
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/admin").status, 404);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/admin/events").status, 404);
}

TEST(admin, needs_its_token_and_streams_live_figures)
{
    server_options options;
    options.admin_token = "s3cret-token";
    live_server srv(options);
    srv.start();

    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/admin").status, 403);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/admin?token=wrong").status, 403);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/admin/events?token=s3cret-tokenX").status, 403);
    auto page = fetch(srv.ioc, srv.port, "GET", "/admin", "", {{"Authorization", "Bearer s3cret-token"}});
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("EventSource"), std::string::npos);
    // The scheme is case-insensitive and may be followed by more than one space (RFC 9110 11.1, 11.4).
    for (std::string_view scheme : {"bearer ", "BEARER ", "bEaReR  "})
        EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/admin", "", {{"Authorization", std::string(scheme) + "s3cret-token"}}).status,
                  200)
            << scheme;
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/admin", "", {{"Authorization", "Basic s3cret-token"}}).status, 403);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/admin", "", {{"Authorization", "Bearers3cret-token"}}).status, 403);

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "popular", 1));

    auto events = sse_client::create(srv.ioc);
    events->connect(srv.port, "/admin/events?token=s3cret-token");
    ASSERT_TRUE(events->wait_events(srv.ioc, 1));
    auto first = events->find_event("stats");
    ASSERT_TRUE(first);
    auto const stats = json::parse(first->data);
    EXPECT_EQ(stats["connections"]["websocket"], 1);
    EXPECT_EQ(stats["top_topics"][0]["topic"], "popular");
    EXPECT_EQ(stats["top_topics"][0]["subscribers"], 1);
    // It keeps coming, once a second, and is not a client: it does not count as an SSE connection.
    ASSERT_TRUE(events->wait_events(srv.ioc, 2, std::chrono::seconds(5)));
    EXPECT_EQ(json::parse(events->events().back().data)["connections"]["sse"], 0);
    ws->close();
}

TEST(admin, disconnect_closes_every_client_channel_with_4006)
{
    server_options options;
    options.admin_token = "s3cret-token";
    live_server srv(options);
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "a", 1));
    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=a");
    ASSERT_TRUE(sse->wait_events(srv.ioc, 1));

    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/admin/disconnect").status, 403);
    auto const done = fetch(srv.ioc, srv.port, "POST", "/admin/disconnect", "", {{"Authorization", "Bearer s3cret-token"}});
    ASSERT_EQ(done.status, 200);
    EXPECT_EQ(done.json()["disconnected"], 2);
    ASSERT_TRUE(ws->wait_closed(srv.ioc));
    EXPECT_EQ(ws->close_code(), 4006);
    ASSERT_TRUE(sse->wait_ended(srv.ioc));
    auto const close = sse->find_event("close");
    ASSERT_TRUE(close);
    EXPECT_EQ(json::parse(close->data)["code"], 4006);
}

// ?code= closes with an application code instead (3000-3999 only), carried by every transport.
TEST(admin, disconnect_takes_an_application_close_code)
{
    server_options options;
    options.admin_token = "s3cret-token";
    live_server srv(options);
    srv.start();
    header_list const auth{{"Authorization", "Bearer s3cret-token"}};

    std::vector<std::string> const refused{"code=4006", "code=2999", "code=4000", "code=35x0", "code=3500&reason=%FF",
                                           "code=3500&reason=" + std::string(124, 'r')};
    for (auto const& bad : refused) {
        auto const res = fetch(srv.ioc, srv.port, "POST", "/admin/disconnect?" + bad, "", auth);
        EXPECT_EQ(res.status, 400) << bad;
    }

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "a", 1));
    auto const done = fetch(srv.ioc, srv.port, "POST", "/admin/disconnect?code=3500&reason=retired", "", auth);
    ASSERT_EQ(done.status, 200);
    EXPECT_EQ(done.json()["disconnected"], 1);
    ASSERT_TRUE(ws->wait_closed(srv.ioc));
    EXPECT_EQ(ws->close_code(), 3500);
    EXPECT_EQ(ws->close_reason(), "retired");
}

}  // namespace
}  // namespace switchboard::test
