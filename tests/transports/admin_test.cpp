// The admin view: off without a token, refused without the right one, and live over SSE with it.

#include "live_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

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

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ws->send_json({{"type", "subscribe"}, {"topic", "popular"}, {"id", 1}});
    ASSERT_TRUE(ws->wait_reply(srv.ioc, 1));

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

}  // namespace
}  // namespace switchboard::test
