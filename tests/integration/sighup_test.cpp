// SIGHUP: the bundled server reads its configuration file again and applies it while connections stay open;
// a file with errors is refused and the running configuration kept.

#include "support/count_of.hpp"
#include "support/http_client.hpp"
#include "support/run_until.hpp"
#include "support/server_process.hpp"
#include "support/temp_file.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>

#include <unistd.h>

namespace switchboard::test {
namespace {

TEST(sighup, reloads_limits_and_keeps_connections)
{
    temp_file config;
    config.write(R"({"limits": {"max_message_size": 1000}})");
    server_process server(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0", "--config", config.path()});
    auto const port = server.wait_for_port(std::chrono::seconds(20));
    ASSERT_TRUE(port) << server.output();

    boost::asio::io_context ioc;
    auto ws = ws_client::create(ioc);
    ws->connect(*port);
    ASSERT_TRUE(ws->subscribe(ioc, "t", 1));
    std::string const body = "\"" + std::string(2'000, 'x') + "\"";
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=t", body).status, 413);

    config.write(R"({"limits": {"max_message_size": 4000}})");
    server.signal(SIGHUP);
    ASSERT_TRUE(server.wait_for_output("configuration reloaded", std::chrono::seconds(10))) << server.output();
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=t", body).status, 200);
    ASSERT_TRUE(ws->wait_messages(ioc, 1));
    EXPECT_TRUE(ws->is_open());

    // A broken file is refused; the running limits stay.
    config.write(R"({"limits": {"max_message_size": "lots"}})");
    server.signal(SIGHUP);
    ASSERT_TRUE(run_until(ioc, [&] { return count_of(server.output(), "reload refused") == 1; },
                          std::chrono::seconds(10)))
        << server.output();
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=t", body).status, 200);
    EXPECT_TRUE(ws->is_open());

    ws->close();
    ASSERT_TRUE(ws->wait_closed(ioc));
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(std::chrono::seconds(15)), 0) << server.output();
}

}  // namespace
}  // namespace switchboard::test
