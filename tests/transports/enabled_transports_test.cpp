// server_options::transports: a transport turned off answers 503 transport_disabled (the JSON error) while the
// others serve; reload() turns it back on without touching open connections. Also the browser client route.

#include "support/live_server.hpp"
#include "support/http_client.hpp"
#include "support/sse_client.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

namespace switchboard::test {
namespace {

TEST(enabled_transports, a_transport_turned_off_answers_503_and_the_others_serve)
{
    server_options options;
    options.transports.websocket = false;
    options.transports.long_polling = false;
    live_server srv(options);
    srv.start();

    auto ws = ws_client::create(srv.ioc);
    ws->connect(srv.port);
    ASSERT_TRUE(srv.run_until([&] { return ws->failed() || ws->is_open(); }));
    EXPECT_FALSE(ws->is_open());
    EXPECT_EQ(ws->http_status(), 503);

    auto poll = fetch(srv.ioc, srv.port, "GET", "/poll?topic=a");
    EXPECT_EQ(poll.status, 503);
    EXPECT_EQ(poll.json()["error"]["code"], "transport_disabled");

    auto sse = sse_client::create(srv.ioc);
    sse->connect(srv.port, "/sse?topic=a");
    ASSERT_TRUE(sse->wait_events(srv.ioc, 1));
    EXPECT_EQ(fetch(srv.ioc, srv.port, "POST", "/publish?topic=a", "1").status, 200);
    ASSERT_TRUE(sse->wait_messages(srv.ioc, 1));

    // On again at reload; the open stream is untouched.
    auto next = options;
    next.transports.long_polling = true;
    (*srv).reload(next);
    ASSERT_TRUE(srv.run_until([&] {
        auto r = fetch(srv.ioc, srv.port, "GET", "/poll?topic=a&cursor=1..a");
        return r.status == 200;
    }));
    EXPECT_FALSE(sse->ended());
}

TEST(enabled_transports, the_client_script_is_served_with_an_etag_or_not_at_all)
{
    live_server srv;
    srv.start();
    auto const script = fetch(srv.ioc, srv.port, "GET", "/switchboard.js");
    ASSERT_EQ(script.status, 200);
    EXPECT_EQ(script.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_NE(script.body.find("export class Switchboard"), std::string::npos);
    auto const etag = script.header("ETag");
    ASSERT_TRUE(etag);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/switchboard.js", "", {{"If-None-Match", *etag}}).status, 304);
    EXPECT_EQ(fetch(srv.ioc, srv.port, "GET", "/switchboard.js", "", {{"If-None-Match", "\"other\""}}).status, 200);

    server_options off;
    off.client_path = "";
    live_server without(off);
    without.start();
    EXPECT_EQ(fetch(without.ioc, without.port, "GET", "/switchboard.js").status, 404);
}

}  // namespace
}  // namespace switchboard::test
