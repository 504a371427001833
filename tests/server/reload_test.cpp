// Reloading options (what SIGHUP does in the bundled server) changes limits while connections stay open.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

namespace switchboard::test {
namespace {

TEST(reload, changes_limits_without_dropping_connections)
{
    live_server srv;
    srv.start();
    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(ws->subscribe(srv.ioc, "a", 1));
    for (int i = 0; i < 20; ++i)
        ASSERT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=a", std::to_string(i)).status, 200);
    std::string const body = "\"" + std::string(2'000, 'x') + "\"";
    ASSERT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=a", body).status, 200);

    server_options next;
    next.max_message_size = 1'000;
    next.max_subscriptions = 1;
    next.history.limits.max_messages = 5;
    next.port = 1;  // ignored: the listener stays where it is
    (*srv).reload(next);

    // A new request sees the new size limit.
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=a", body).status, 413);
    // The open connection is still served, under the new subscription limit.
    auto refused = ws->subscribe(srv.ioc, "b", 2);
    ASSERT_TRUE(refused);
    EXPECT_EQ((*refused)["code"], "too_many_topics");
    EXPECT_TRUE(ws->is_open());
    // History was trimmed to 5: resuming from offset 3 is no longer complete.
    auto const ack = *ws->find_reply(1);
    ws->send_json({{"type", "subscribe"}, {"topic", "a"}, {"id", 3}, {"since", {{"offset", 3}, {"epoch", ack["epoch"]}}}});
    auto resumed = ws->wait_reply(srv.ioc, 3);
    ASSERT_TRUE(resumed);
    EXPECT_EQ((*resumed)["recovered"], false);
    ws->close();
}

}  // namespace
}  // namespace switchboard::test
