// The bundled server's security flags and keys, end to end: --jwt-secret, --jwt-public-key, --allowed-origin,
// the warning of an open configuration, and SIGHUP reloading permissions.

#include "support/http_client.hpp"
#include "support/jwt_maker.hpp"
#include "support/server_process.hpp"
#include "support/temp_file.hpp"
#include "support/ws_client.hpp"

#include "config.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>

#include <unistd.h>

namespace switchboard::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string const secret = "flag-secret-0123456789abcdef";

int upgrade_status(boost::asio::io_context& ioc, std::uint16_t port, header_list headers)
{
    auto ws = ws_client::create(ioc);
    ws->connect(port, "/ws", std::move(headers));
    ws->wait_settled(ioc);
    int const status = ws->http_status();
    if (ws->is_open()) {
        ws->close();
        ws->wait_closed(ioc);
    }
    return status;
}

TEST(security_flags, jwt_secret_and_allowed_origin_lock_the_server)
{
    server_process server(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0", "--jwt-secret", secret,
                                                    "--allowed-origin", "https://a.example", "--allowed-origin",
                                                    "https://b.example"});
    auto const port = server.wait_for_port(20s);
    ASSERT_TRUE(port) << server.output();
    EXPECT_EQ(server.output().find("no authentication configured"), std::string::npos);

    boost::asio::io_context ioc;
    auto const token = make_hs256({{"sub", "u1"}, {"exp", unix_time(600s)}}, secret);
    EXPECT_EQ(upgrade_status(ioc, *port, {}), 401);
    EXPECT_EQ(upgrade_status(ioc, *port, {{"Authorization", "Bearer " + token}}), 101);
    EXPECT_EQ(upgrade_status(ioc, *port, {{"Authorization", "Bearer " + token}, {"Origin", "https://b.example"}}), 101);
    EXPECT_EQ(upgrade_status(ioc, *port, {{"Authorization", "Bearer " + token}, {"Origin", "https://evil.example"}}), 403);
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=t", "1").status, 401);
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=t", "1", {{"Authorization", "Bearer " + token}}).status, 200);
    // The demo page and operator endpoints stay reachable.
    EXPECT_EQ(fetch(ioc, *port, "GET", "/healthz").status, 200);
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(), 0);
}

TEST(security_flags, the_open_demo_warns_at_start)
{
    server_process server(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0"});
    ASSERT_TRUE(server.wait_for_port(20s)) << server.output();
    EXPECT_TRUE(server.wait_for_output("no authentication configured")) << server.output();
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(), 0);
}

TEST(security_flags, rs256_public_key_file_and_sighup_reloads_permissions)
{
    auto const key = make_rsa_key();
    temp_file pem(key.public_pem);
    temp_file config(R"({"permissions": {"user_publish": ["open.*"]}})");
    server_process server(SWITCHBOARD_SERVER_PATH,
                          {"--listen", "127.0.0.1:0", "--config", config.path(), "--jwt-public-key", pem.path()});
    auto const port = server.wait_for_port(20s);
    ASSERT_TRUE(port) << server.output();
    boost::asio::io_context ioc;
    header_list const auth{{"Authorization", "Bearer " + make_rs256({{"sub", "u2"}}, key.private_pem)}};
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=open.a", "1", auth).status, 200);
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=closed", "1", auth).status, 403);
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=open.a", "1",
                    {{"Authorization", "Bearer " + make_hs256({{"sub", "u2"}}, "some-secret-some-secret")}})
                  .status,
              401);

    config.write(R"({"permissions": {"user_publish": ["*"]}})");
    server.signal(SIGHUP);
    ASSERT_TRUE(server.wait_for_output("configuration reloaded")) << server.output();
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=closed", "1", auth).status, 200);
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(), 0);
}

TEST(security_flags, keys_read_lists_booleans_rates_and_key_files)
{
    using switchboard_server::config_sources;
    config_sources sources;
    sources.file_name = "security.json";
    sources.file_text = R"({"auth": {"allow_anonymous": true, "jwt_audience": "app", "jwt_leeway": "10s"},
                            "permissions": {"anonymous_publish": []},
                            "rate_limits": {"channel_messages_per_second": 2.5, "channel_messages_burst": 10}})";
    sources.environment = {{"SWITCHBOARD_PERMISSIONS_USER_SUBSCRIBE", "chat.*,news"}};
    sources.flags = {{"origins.allowed", "https://a.example,https://b.example", "--allowed-origin"}};
    auto r = switchboard_server::resolve_config(sources);
    ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : to_string(r.errors[0]));
    auto const& s = r.config.server.security;
    EXPECT_TRUE(s.allow_anonymous);
    EXPECT_EQ(s.jwt_audience, "app");
    EXPECT_EQ(s.jwt_leeway, 10s);
    EXPECT_TRUE(s.anonymous_publish.empty());
    EXPECT_EQ(s.user_subscribe, (std::vector<std::string>{"chat.*", "news"}));
    EXPECT_EQ(s.allowed_origins, (std::vector<std::string>{"https://a.example", "https://b.example"}));
    EXPECT_EQ(s.channel_messages.per_second, 2.5);
    EXPECT_EQ(s.channel_messages.burst, 10u);

    config_sources bad;
    bad.file_name = "bad.json";
    bad.file_text = R"({"auth": {"allow_anonymous": "yes", "jwt_public_key": "/nonexistent/key.pem"},
                        "rate_limits": {"user_messages_per_second": -1}, "origins": {"allowed": "has space"}})";
    r = switchboard_server::resolve_config(bad);
    std::vector<std::string> paths;
    for (auto const& e : r.errors)
        paths.push_back(e.path);
    EXPECT_EQ(paths, (std::vector<std::string>{"auth.allow_anonymous", "auth.jwt_public_key",
                                               "rate_limits.user_messages_per_second", "origins.allowed"}));
}

}  // namespace
}  // namespace switchboard::test
