// switchboard-server's configuration: the JSON file, SWITCHBOARD_* variables and flags. First the parser in
// process (every key, units, refusals with the key's path, layering, JSON log lines), then the real binary
// (--check-config, --help, precedence and a file's limit applied to real requests).

#include "command_line.hpp"
#include "config.hpp"
#include "config_keys.hpp"
#include "logging.hpp"

#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_file.hpp"
#include "support/test_certificate.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

namespace switchboard_server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using switchboard::test::fetch;
using switchboard::test::server_process;
using switchboard::test::temp_file;

std::string read_text(std::filesystem::path const& path)
{
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Whether `document` holds a value at the key's path ("limits.max_message_size" -> /limits/max_message_size).
bool has_key(json const& document, std::string_view path)
{
    std::string pointer = "/" + std::string(path);
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    return document.contains(json::json_pointer(pointer));
}

std::vector<std::string> error_lines(config_result const& r)
{
    std::vector<std::string> lines;
    for (auto const& e : r.errors)
        lines.push_back(to_string(e));
    return lines;
}

// Every key set to something other than its default, so each assignment is seen to land.
// (The TLS files only have to be readable here; whether they hold a certificate and its key is checked at start.)
constexpr char const* every_key = R"({
  "listen": "[::1]:9100",
  "threads": 3,
  "tls": {"cert_file": "/dev/null", "key_file": "/dev/null", "only": true},
  "limits": {
    "max_message_size": "128KiB",
    "max_header_size": 16384,
    "max_subscriptions": 64,
    "max_resume_topics": 77,
    "max_pending_commands": 100,
    "max_pending_bytes": "2MiB",
    "request_timeout": "3s",
    "max_connections": 5000,
    "max_connections_per_address": 50,
    "max_queue_bytes": "16MiB",
    "max_queue_messages": 2048,
    "socket_send_buffer": "256KiB",
    "close_timeout": 1500
  },
  "websocket": {"path": "/live/ws", "ping_interval": "20s", "pong_timeout": "7s", "compression": false,
                "compression_level": 2, "compression_min_size": "1KiB"},
  "sse": {"path": "/live/sse", "retry": "3s", "heartbeat": "12s"},
  "long_polling": {"path": "/live/poll", "hold": "40s", "max_messages_per_poll": 250, "max_bytes_per_poll": "512KiB"},
  "publish": {"path": "/live/publish"},
  "io": {"uring": false, "park_idle": false, "topic_linger": "3s"},
  "http2": {"enabled": false, "max_concurrent_streams": 7, "initial_window_size": "1MiB", "max_header_list_size": "32KiB"},
  "transports": ["sse", "long-polling"],
  "client": {"path": "/live/switchboard.js"},
  "metrics": {"path": "/ops/metrics"},
  "health": {"path": "", "ready_path": "/ops/ready"},
  "admin": {"token": "0123456789abcdef0123"},
  "api": {"key": "api-key-0123456789abcdef"},
  "history": {
    "max_messages": 500,
    "max_age": "2h",
    "max_bytes": "64MiB",
    "max_topics": 2000,
    "max_topics_per_client": 20,
    "sweep_interval": "30s",
    "idempotency_window": "90s",
    "max_idempotency_keys": 777,
    "overrides": [
      {"prefix": "chat.", "max_messages": 50000, "max_age": "24h"},
      {"prefix": "presence.", "max_messages": 0, "max_age": 0},
      {"prefix": "audit.", "max_age": "7d"}
    ]
  },
  "presence": {"max_members": 300, "grace": "2s", "max_info_bytes": "2KiB", "max_page": 50,
               "batch_interval": "250ms", "max_event_members": 5000, "counts_interval": "2s",
               "path": "/live/presence"},
  "redis": {
    "url": "redis://:s3cret@10.0.0.7:6380/2",
    "prefix": "chat-prod:",
    "connect_timeout": "3s",
    "command_timeout": "8s",
    "reconnect_min": "50ms",
    "reconnect_max": "10s",
    "position_ttl": "7d",
    "max_pending": 5000,
    "max_held": 2000,
    "recent_bytes": "1MiB",
    "max_pattern_topics": 3000,
    "max_indexed_topics": 4000,
    "presence_expiry": "12s"
  },
  "nats": {
    "url": "",
    "tls_ca_file": "/dev/null",
    "prefix": "chat.prod",
    "stream": "CHAT",
    "storage": "memory",
    "replicas": 3,
    "manage_stream": false,
    "position_ttl": "7d",
    "max_bytes": "10GiB",
    "connect_timeout": "3s",
    "reconnect_wait": "250ms",
    "request_timeout": "8s",
    "max_pending": 5000,
    "max_held": 2000,
    "recent_bytes": "2MiB",
    "max_pattern_topics": 3000,
    "presence_expiry": "9s"
  },
  "auth": {"jwt_secret": "every-key-secret-0123", "jwt_public_key": "", "jwt_audience": "app", "jwt_issuer": "idp",
           "jwt_leeway": "30s", "token_cookie": "sb", "allow_anonymous": true, "token_expiry_warning": "1m"},
  "proxy": {"connect_url": "http://127.0.0.1:9000/connect", "refresh_url": "http://backend:8080/refresh",
            "subscribe_url": "http://[::1]:9000/subscribe", "publish_url": "http://127.0.0.1:9000/publish",
            "timeout": "750ms", "max_in_flight": 64, "max_idle_connections": 4, "headers": ["X-Trace"],
            "cookies": ["session"]},
  "namespaces": {
    "room": {"subscribe": "users", "publish": "nobody", "presence": true, "join_leave": false,
             "transports": ["websocket", "sse"], "history": {"max_messages": 100, "max_age": "1h"},
             "subscribe_url": "http://127.0.0.1:9001/subscribe", "publish_url": "http://127.0.0.1:9001/publish"},
    "feed": {"presence": false, "history": {"max_messages": 5}}
  },
  "permissions": {"anonymous_subscribe": ["public.*"], "anonymous_publish": [], "user_subscribe": ["chat.*", "me"],
                  "user_publish": ["chat.*"]},
  "origins": {"allowed": ["https://app.example"]},
  "rate_limits": {"channel_messages_per_second": 20, "channel_messages_burst": 40, "user_messages_per_second": 0.5,
                  "user_messages_burst": 5, "address_connections_per_second": 10,
                  "address_connections_burst": 30, "max_strikes": 7},
  "log": {"level": "debug", "format": "json"}
})";

TEST(config, every_key_parses)
{
    auto const document = json::parse(every_key);
    for (auto const& key : config_keys())
        EXPECT_TRUE(has_key(document, key.path)) << "the test leaves out " << key.path;

    auto const r = load_config(every_key);
    ASSERT_TRUE(r.ok()) << testing::PrintToString(error_lines(r));
    auto const& o = r.config.server;
    EXPECT_EQ(o.address, "::1");
    EXPECT_EQ(o.port, 9100);
    EXPECT_EQ(r.config.threads, 3u);
    EXPECT_EQ(o.tls_cert_file, "/dev/null");
    EXPECT_EQ(o.tls_key_file, "/dev/null");
    EXPECT_TRUE(o.tls_only);
    EXPECT_EQ(o.max_message_size, 128u * 1024);
    EXPECT_EQ(o.max_header_size, 16384u);
    EXPECT_EQ(o.max_subscriptions, 64u);
    EXPECT_EQ(o.max_resume_topics, 77u);
    EXPECT_EQ(o.max_pending_commands, 100u);
    EXPECT_EQ(o.max_pending_bytes, 2u * 1024 * 1024);
    EXPECT_EQ(o.request_timeout, 3s);
    EXPECT_EQ(o.max_connections, 5000u);
    EXPECT_EQ(o.max_connections_per_address, 50u);
    EXPECT_EQ(o.max_queue_bytes, 16u * 1024 * 1024);
    EXPECT_EQ(o.max_queue_messages, 2048u);
    EXPECT_EQ(o.socket_send_buffer, 256u * 1024);
    EXPECT_FALSE(o.io_uring);
    EXPECT_FALSE(o.park_idle);
    EXPECT_EQ(o.topic_linger, 3s);
    EXPECT_FALSE(o.http2.enabled);
    EXPECT_EQ(o.http2.max_concurrent_streams, 7u);
    EXPECT_EQ(o.http2.initial_window_size, 1024u * 1024);
    EXPECT_EQ(o.http2.max_header_list_size, 32u * 1024);
    EXPECT_EQ(o.close_timeout, 1500ms);
    EXPECT_EQ(o.websocket_path, "/live/ws");
    EXPECT_EQ(o.ws_ping_interval, 20s);
    EXPECT_EQ(o.ws_pong_timeout, 7s);
    EXPECT_FALSE(o.ws_compression);
    EXPECT_EQ(o.ws_compression_level, 2u);
    EXPECT_EQ(o.ws_compression_min_size, 1024u);
    EXPECT_EQ(o.sse_path, "/live/sse");
    EXPECT_EQ(o.sse_retry, 3s);
    EXPECT_EQ(o.sse_heartbeat, 12s);
    EXPECT_EQ(o.poll_path, "/live/poll");
    EXPECT_EQ(o.poll_hold, 40s);
    EXPECT_EQ(o.max_poll_messages, 250u);
    EXPECT_EQ(o.max_poll_bytes, 512u * 1024);
    EXPECT_EQ(o.publish_path, "/live/publish");
    EXPECT_FALSE(o.transports.websocket);
    EXPECT_TRUE(o.transports.sse);
    EXPECT_TRUE(o.transports.long_polling);
    EXPECT_EQ(o.client_path, "/live/switchboard.js");
    EXPECT_EQ(o.metrics_path, "/ops/metrics");
    EXPECT_EQ(o.health_path, "");  // off
    EXPECT_EQ(o.ready_path, "/ops/ready");
    EXPECT_EQ(o.admin_token, "0123456789abcdef0123");
    EXPECT_EQ(o.api_key, "api-key-0123456789abcdef");
    EXPECT_EQ(o.history.limits.max_messages, 500u);
    EXPECT_EQ(o.history.limits.max_age, 2h);
    EXPECT_EQ(o.history.max_bytes, 64u * 1024 * 1024);
    EXPECT_EQ(o.history.max_topics, 2000u);
    EXPECT_EQ(o.history.max_topics_per_client, 20u);
    EXPECT_EQ(o.history.sweep_interval, 30s);
    EXPECT_EQ(o.history.idempotency_window, 90s);
    EXPECT_EQ(o.history.max_idempotency_keys, 777u);
    EXPECT_EQ(o.presence.max_members, 300u);
    EXPECT_EQ(o.presence.grace, 2s);
    EXPECT_EQ(o.presence.max_info_bytes, 2048u);
    EXPECT_EQ(o.presence.max_page, 50u);
    EXPECT_EQ(o.presence.batch_interval, 250ms);
    EXPECT_EQ(o.presence.max_event_members, 5000u);
    EXPECT_EQ(o.presence.counts_interval, 2s);
    EXPECT_EQ(o.presence.path, "/live/presence");
    ASSERT_EQ(o.history.overrides.size(), 5u);  // the file's three, then the namespaces' history
    EXPECT_EQ(o.history.overrides[0].prefix, "chat.");
    EXPECT_EQ(o.history.overrides[0].limits.max_messages, 50000u);
    EXPECT_EQ(o.history.overrides[0].limits.max_age, 24h);
    EXPECT_EQ(o.history.overrides[1].prefix, "presence.");
    EXPECT_EQ(o.history.overrides[1].limits.max_messages, 0u);
    EXPECT_EQ(o.history.overrides[1].limits.max_age, 0s);
    // A rule that leaves a limit out takes the server-wide one.
    EXPECT_EQ(o.history.overrides[2].prefix, "audit.");
    EXPECT_EQ(o.history.overrides[2].limits.max_messages, 500u);
    EXPECT_EQ(o.history.overrides[2].limits.max_age, 7 * 24h);
    // Namespaces come by name.
    EXPECT_EQ(o.history.overrides[3].prefix, "feed:");
    EXPECT_EQ(o.history.overrides[3].limits.max_messages, 5u);
    EXPECT_EQ(o.history.overrides[3].limits.max_age, 2h);  // the server-wide one
    EXPECT_EQ(o.history.overrides[4].prefix, "room:");
    EXPECT_EQ(o.history.overrides[4].limits.max_messages, 100u);
    EXPECT_EQ(o.history.overrides[4].limits.max_age, 1h);
    auto const& redis = r.config.redis;
    EXPECT_EQ(redis.url, "redis://:s3cret@10.0.0.7:6380/2");
    EXPECT_EQ(redis.prefix, "chat-prod:");
    EXPECT_EQ(redis.connect_timeout, 3s);
    EXPECT_EQ(redis.command_timeout, 8s);
    EXPECT_EQ(redis.reconnect_min, 50ms);
    EXPECT_EQ(redis.reconnect_max, 10s);
    EXPECT_EQ(redis.position_ttl, 7 * 24h);
    EXPECT_EQ(redis.max_pending, 5000u);
    EXPECT_EQ(redis.max_held, 2000u);
    EXPECT_EQ(redis.recent_bytes, 1024u * 1024);
    EXPECT_EQ(redis.max_pattern_topics, 3000u);
    EXPECT_EQ(redis.max_indexed_topics, 4000u);
    EXPECT_EQ(redis.presence_expiry, 12s);
    auto const address = switchboard::redis_address::parse(redis.url);
    EXPECT_EQ(address.host, "10.0.0.7");
    EXPECT_EQ(address.port, 6380);
    EXPECT_EQ(address.password, "s3cret");
    EXPECT_EQ(address.database, 2u);
    auto const& nats = r.config.nats;  // its url is the one key left at its default: one backplane at a time
    EXPECT_EQ(nats.tls_ca_file, "/dev/null");
    EXPECT_EQ(nats.prefix, "chat.prod");
    EXPECT_EQ(nats.stream, "CHAT");
    EXPECT_EQ(nats.storage, "memory");
    EXPECT_EQ(nats.replicas, 3u);
    EXPECT_FALSE(nats.manage_stream);
    EXPECT_EQ(nats.position_ttl, 7 * 24h);
    EXPECT_EQ(nats.max_bytes, 10ull * 1024 * 1024 * 1024);
    EXPECT_EQ(nats.connect_timeout, 3s);
    EXPECT_EQ(nats.reconnect_wait, 250ms);
    EXPECT_EQ(nats.request_timeout, 8s);
    EXPECT_EQ(nats.max_pending, 5000u);
    EXPECT_EQ(nats.max_held, 2000u);
    EXPECT_EQ(nats.recent_bytes, 2u * 1024 * 1024);
    EXPECT_EQ(nats.max_pattern_topics, 3000u);
    EXPECT_EQ(nats.presence_expiry, 9s);
    auto const& sec = o.security;
    EXPECT_EQ(sec.jwt_secret, "every-key-secret-0123");
    EXPECT_EQ(sec.jwt_audience, "app");
    EXPECT_EQ(sec.jwt_issuer, "idp");
    EXPECT_EQ(sec.jwt_leeway, 30s);
    EXPECT_EQ(sec.token_cookie, "sb");
    EXPECT_TRUE(sec.allow_anonymous);
    EXPECT_EQ(sec.token_expiry_warning, 1min);
    EXPECT_EQ(sec.anonymous_subscribe, (std::vector<std::string>{"public.*"}));
    auto const& proxy = o.proxy;
    EXPECT_EQ(proxy.connect_url, "http://127.0.0.1:9000/connect");
    EXPECT_EQ(proxy.refresh_url, "http://backend:8080/refresh");
    EXPECT_EQ(proxy.subscribe_url, "http://[::1]:9000/subscribe");
    EXPECT_EQ(proxy.publish_url, "http://127.0.0.1:9000/publish");
    EXPECT_EQ(proxy.timeout, 750ms);
    EXPECT_EQ(proxy.max_in_flight, 64u);
    EXPECT_EQ(proxy.max_idle_connections, 4u);
    EXPECT_EQ(proxy.headers, (std::vector<std::string>{"X-Trace"}));
    EXPECT_EQ(proxy.cookies, (std::vector<std::string>{"session"}));
    ASSERT_EQ(o.namespaces.size(), 2u);
    auto const& room = o.namespaces[1];
    EXPECT_EQ(room.name, "room");
    EXPECT_EQ(room.subscribe, switchboard::namespace_access::users);
    EXPECT_EQ(room.publish, switchboard::namespace_access::nobody);
    EXPECT_TRUE(room.presence);
    EXPECT_FALSE(room.join_leave);
    EXPECT_TRUE(room.transports.websocket && room.transports.sse && !room.transports.long_polling);
    EXPECT_EQ(room.subscribe_url, "http://127.0.0.1:9001/subscribe");
    EXPECT_EQ(room.publish_url, "http://127.0.0.1:9001/publish");
    auto const& feed = o.namespaces[0];
    EXPECT_EQ(feed.name, "feed");
    EXPECT_FALSE(feed.presence);
    EXPECT_EQ(feed.subscribe, switchboard::namespace_access::everyone);
    EXPECT_TRUE(feed.subscribe_url.empty());
    EXPECT_TRUE(sec.anonymous_publish.empty());
    EXPECT_EQ(sec.user_subscribe, (std::vector<std::string>{"chat.*", "me"}));
    EXPECT_EQ(sec.user_publish, (std::vector<std::string>{"chat.*"}));
    EXPECT_EQ(sec.allowed_origins, (std::vector<std::string>{"https://app.example"}));
    EXPECT_EQ(sec.channel_messages.per_second, 20);
    EXPECT_EQ(sec.channel_messages.burst, 40u);
    EXPECT_EQ(sec.user_messages.per_second, 0.5);
    EXPECT_EQ(sec.user_messages.burst, 5u);
    EXPECT_EQ(sec.address_connections.per_second, 10);
    EXPECT_EQ(sec.address_connections.burst, 30u);
    EXPECT_EQ(sec.max_rate_strikes, 7u);
    EXPECT_EQ(r.config.log.level, spdlog::level::debug);
    EXPECT_EQ(r.config.log.format, log_format::json);
}

TEST(config, redis_urls_are_checked_without_showing_them)
{
    EXPECT_TRUE(load_config(R"({"redis": {"url": ""}})").ok());  // the memory backplane
    EXPECT_TRUE(load_config(R"({"redis": {"url": "redis://cache.internal"}})").ok());
    EXPECT_TRUE(load_config(R"({"redis": {"url": "redis://[::1]:7000/1"}})").ok());
    for (auto const* bad : {"http://x", "redis://", "redis://h:notaport", "redis://h:6379/db", "redis://[::1"}) {
        auto const r = load_config(json{{"redis", {{"url", std::string(bad) + "?secret-password"}}}}.dump());
        ASSERT_EQ(r.errors.size(), 1u) << bad;
        EXPECT_EQ(r.errors[0].path, "redis.url");
        EXPECT_EQ(r.errors[0].message.find("secret-password"), std::string::npos) << r.errors[0].message;
    }
    auto const prefix = load_config(R"({"redis": {"prefix": "has space"}})");
    ASSERT_EQ(prefix.errors.size(), 1u);
    EXPECT_EQ(prefix.errors[0].path, "redis.prefix");
}

TEST(config, nats_urls_are_checked_without_showing_them)
{
    EXPECT_TRUE(load_config(R"({"nats": {"url": ""}})").ok());  // no NATS
    for (auto const* good : {"nats://127.0.0.1:4222", "nats://u:p@broker", "nats://token@broker:4222",
                             "tls://broker:4443", "nats://a:4222,nats://b:4222"}) {
        auto const r = load_config(json{{"nats", {{"url", good}}}}.dump());
        EXPECT_TRUE(r.ok()) << good << ": " << testing::PrintToString(error_lines(r));
        EXPECT_EQ(r.config.nats.url, good);
    }
    for (auto const* bad : {"http://x", "nats://", "nats://:4222", "broker:4222", "nats://a,redis://b", "nats://h/x"}) {
        auto const r = load_config(json{{"nats", {{"url", std::string(bad) + "?secret-token"}}}}.dump());
        ASSERT_EQ(r.errors.size(), 1u) << bad;
        EXPECT_EQ(r.errors[0].path, "nats.url");
        EXPECT_EQ(r.errors[0].message.find("secret-token"), std::string::npos) << r.errors[0].message;
    }
    for (auto const* bad : {"has space", "a..b", ".a", "a.", "a.*", "a.>", ""}) {
        auto const r = load_config(json{{"nats", {{"prefix", bad}}}}.dump());
        ASSERT_EQ(r.errors.size(), 1u) << bad;
        EXPECT_EQ(r.errors[0].path, "nats.prefix");
    }
    auto const stream = load_config(R"({"nats": {"stream": "my.stream"}})");
    ASSERT_EQ(stream.errors.size(), 1u);
    EXPECT_EQ(stream.errors[0].path, "nats.stream");
    auto const storage = load_config(R"({"nats": {"storage": "disk"}})");
    ASSERT_EQ(storage.errors.size(), 1u);
    EXPECT_EQ(storage.errors[0].path, "nats.storage");
}

TEST(config, nats_and_redis_together_are_refused_naming_both)
{
    config_sources sources;
    sources.environment = {{"SWITCHBOARD_NATS_URL", "nats://broker:4222"}};
    auto const alone = resolve_config(sources);
    ASSERT_TRUE(alone.ok()) << testing::PrintToString(error_lines(alone));
    EXPECT_EQ(alone.config.nats.url, "nats://broker:4222");
    EXPECT_EQ(alone.config.nats.prefix, "switchboard");  // the default

    sources.environment.clear();
    sources.flags = {{"nats.url", "nats://broker:4222", "--nats"}, {"redis.url", "redis://cache", "--redis"}};
    auto const both = resolve_config(sources);
    ASSERT_EQ(both.errors.size(), 1u);
    auto const line = to_string(both.errors[0]);
    for (auto const* name : {"nats.url", "redis.url", "--nats", "--redis"})
        EXPECT_NE(line.find(name), std::string::npos) << line;
}

TEST(config, the_example_file_sets_every_key_and_loads)
{
    auto const text = read_text(SWITCHBOARD_EXAMPLE_CONFIG);
    auto const document = json::parse(text);
    for (auto const& key : config_keys())
        EXPECT_TRUE(has_key(document, key.path)) << "the example leaves out " << key.path;
    auto const r = load_config(text);
    EXPECT_TRUE(r.ok()) << testing::PrintToString(error_lines(r));
}

TEST(config, an_empty_file_gives_the_library_defaults)
{
    auto const r = load_config("{}");
    ASSERT_TRUE(r.ok());
    switchboard::server_options const defaults;
    EXPECT_EQ(r.config.server.address, defaults.address);
    EXPECT_EQ(r.config.server.port, defaults.port);
    EXPECT_EQ(r.config.server.max_message_size, defaults.max_message_size);
    EXPECT_EQ(r.config.server.history.limits.max_age, defaults.history.limits.max_age);
    EXPECT_EQ(r.config.log.level, spdlog::level::info);
    EXPECT_EQ(r.config.log.format, log_format::text);
    EXPECT_EQ(r.config.threads, 1u);
}

TEST(config, sizes_and_durations_take_units_or_plain_numbers)
{
    struct size_case {
        json value;
        std::size_t bytes;
    };
    for (auto const& [value, bytes] : {size_case{65536, 65536}, size_case{"65536", 65536}, size_case{"700B", 700},
                                       size_case{"64KiB", 65536}, size_case{"8MiB", 8u << 20}, size_case{"1GiB", 1u << 30}}) {
        auto const r = load_config(json{{"limits", {{"socket_send_buffer", value}}}}.dump());
        ASSERT_TRUE(r.ok()) << value << ": " << testing::PrintToString(error_lines(r));
        EXPECT_EQ(r.config.server.socket_send_buffer, bytes) << value;
    }
    struct duration_case {
        json value;
        std::chrono::milliseconds d;
    };
    for (auto const& [value, d] : {duration_case{25000, 25s}, duration_case{"250ms", 250ms}, duration_case{"25s", 25s},
                                   duration_case{"5m", 5min}, duration_case{"1h", 1h}, duration_case{"1500", 1500ms}}) {
        auto const r = load_config(json{{"websocket", {{"ping_interval", value}}}}.dump());
        ASSERT_TRUE(r.ok()) << value << ": " << testing::PrintToString(error_lines(r));
        EXPECT_EQ(r.config.server.ws_ping_interval, d) << value;
    }
    auto const days = load_config(R"({"history": {"max_age": "7d"}})");
    ASSERT_TRUE(days.ok());
    EXPECT_EQ(days.config.server.history.limits.max_age, 7 * 24h);
    auto const ipv4 = load_config(R"({"listen": "0.0.0.0:0"})");
    ASSERT_TRUE(ipv4.ok());
    EXPECT_EQ(ipv4.config.server.address, "0.0.0.0");
    EXPECT_EQ(ipv4.config.server.port, 0);
}

TEST(config, unknown_keys_are_refused_with_their_path)
{
    struct refusal {
        char const* text;
        char const* error;
    };
    for (auto const& [text, error] : {
             refusal{R"({"limts": {}})", R"(limts: unknown key (did you mean "limits"?))"},
             refusal{R"({"limits": {"max_mesage_size": 1}})",
                     R"(limits.max_mesage_size: unknown key (did you mean "limits.max_message_size"?))"},
             refusal{R"({"max_message_size": 1})", R"(max_message_size: unknown key (did you mean "limits.max_message_size"?))"},
             refusal{R"({"websocket": {"subprotocols": ["x"]}})", "websocket.subprotocols: unknown key"},
             refusal{R"({"zzz": 1})", "zzz: unknown key"},
             refusal{R"({"history": {"overrides": [{"prefix": "a."}, {"prefix": "b.", "ttl": "1h"}]}})",
                     "history.overrides[1].ttl: unknown key (a rule has prefix, max_messages and max_age)"},
         }) {
        auto const r = load_config(text);
        EXPECT_EQ(error_lines(r), std::vector<std::string>{error}) << text;
    }
}

TEST(config, bad_values_are_refused_with_their_path)
{
    struct refusal {
        char const* text;
        char const* error;
    };
    for (auto const& [text, error] : {
             refusal{R"({"limits": {"max_message_size": "-1"}})",
                     R"(limits.max_message_size: expected a size (bytes or "64KiB"), got "-1")"},
             refusal{R"({"limits": {"max_message_size": -1}})",
                     R"(limits.max_message_size: expected a size (bytes or "64KiB"), got -1)"},
             refusal{R"({"limits": {"max_message_size": 65536.5}})",
                     R"(limits.max_message_size: expected a size (bytes or "64KiB"), got 65536.5)"},
             refusal{R"({"limits": {"max_message_size": 0}})",
                     "limits.max_message_size: must be from 1B to 256MiB, got 0B"},
             refusal{R"({"limits": {"max_message_size": "1GiB", "max_queue_bytes": "4GiB"}})",
                     "limits.max_message_size: must be from 1B to 256MiB, got 1GiB"},
             refusal{R"({"limits": {"max_message_size": "64KB"}})",
                     R"(limits.max_message_size: unknown unit "KB" in "64KB" (use B, KiB, MiB or GiB))"},
             refusal{R"({"limits": {"max_message_size": "99999999999999999999KiB"}})",
                     R"(limits.max_message_size: "99999999999999999999KiB" is too large)"},
             refusal{R"({"limits": {"max_subscriptions": "128"}})",
                     R"(limits.max_subscriptions: expected a whole number, got "128")"},
             refusal{R"({"limits": {"max_connections": 0}})",
                     "limits.max_connections: must be from 1 to 10000000, got 0"},
             refusal{R"({"limits": {"request_timeout": true}})",
                     R"(limits.request_timeout: expected a duration (milliseconds or "25s"), got true)"},
             refusal{R"({"limits": {"request_timeout": "10 s"}})",
                     R"(limits.request_timeout: unknown unit " s" in "10 s" (use ms, s, m, h or d))"},
             refusal{R"({"limits": {"max_queue_bytes": "64KiB"}})",
                     "limits.max_queue_bytes: must be at least twice limits.max_message_size (128KiB), got 64KiB"},
             refusal{R"({"websocket": {"ping_interval": 0}})",
                     "websocket.ping_interval: must be from 100ms to 1h, got 0ms"},
             refusal{R"({"long_polling": {"hold": "2h"}})", "long_polling.hold: must be from 0ms to 10m, got 2h"},
             refusal{R"({"history": {"max_age": "90ms"}})", "history.max_age: must be whole seconds, got 90ms"},
             refusal{R"({"history": {"sweep_interval": 0}})", "history.sweep_interval: must be from 1s to 1h, got 0ms"},
             refusal{R"({"listen": "localhost:8080"})",
                     R"(listen: expected an IP address before the port (not a host name), got "localhost:8080")"},
             refusal{R"({"listen": "127.0.0.1:70000"})",
                     R"(listen: expected a port from 0 to 65535 after the colon, got "127.0.0.1:70000")"},
             refusal{R"({"listen": 8080})", R"(listen: expected "HOST:PORT" with HOST an IP address, got 8080)"},
             refusal{R"({"sse": {"path": "events"}})", R"(sse.path: expected a path starting with "/", got "events")"},
             refusal{R"({"sse": {"path": "/"}})", R"(sse.path: "/" is the demo page; choose another path)"},
             refusal{R"({"sse": {"path": "/ws"}})", R"(sse.path: "/ws" is also websocket.path)"},
             refusal{R"({"health": {"ready_path": "/metrics"}})", R"(health.ready_path: "/metrics" is also metrics.path)"},
             refusal{R"({"metrics": {"path": "/admin"}})", R"(metrics.path: "/admin" is the admin view's; choose another path)"},
             refusal{R"({"publish": {"path": "/api/publish"}})",
                     R"(publish.path: "/api/publish" is under /api/, the server API's; choose another path)"},
             refusal{R"({"api": {"key": "short"}})", "api.key: must be 16 to 256 characters, got 5 (the value is not shown)"},
             refusal{R"({"sse": {"path": ""}})", R"(sse.path: expected a path starting with "/", got "")"},
             refusal{R"({"admin": {"token": "hunter2"}})",
                     "admin.token: must be 16 to 256 characters, got 7 (the value is not shown)"},
             refusal{R"({"admin": {"token": "correct horse battery staple"}})",
                     "admin.token: may hold only printable ASCII without spaces (the value is not shown)"},
             refusal{R"({"transports": []})", "transports: at least one transport must stay on"},
             refusal{R"({"transports": ["websocket", "ws"]})",
                     R"(transports: unknown transport "ws" (known: "websocket", "sse", "long-polling"))"},
             refusal{R"({"transports": ["sse", "sse"]})", R"(transports: "sse" is given twice)"},
             refusal{R"({"client": {"path": "/ws"}})", R"(client.path: "/ws" is also websocket.path)"},
             refusal{R"({"publish": {"path": "/a b"}})",
                     R"(publish.path: a path may not hold spaces, '?', '#' or non-ASCII characters, got "/a b")"},
             refusal{R"({"sse": 5})", "sse: expected an object (a section of keys), got 5"},
             refusal{R"({"log": {"level": "verbose"}})",
                     R"(log.level: expected one of "trace", "debug", "info", "warn", "error", "critical", "off", got "verbose")"},
             refusal{R"({"log": {"format": "xml"}})", R"(log.format: expected "text" or "json", got "xml")"},
             refusal{R"({"log": {"level": "info", "level": "debug"}})", "log.level: given twice in one object"},
             refusal{R"({"history": {"overrides": {"prefix": "a."}}})",
                     R"(history.overrides: expected an array of {"prefix", "max_messages", "max_age"}, got {"prefix":"a."})"},
             refusal{R"({"history": {"overrides": [{"max_age": "1h"}]}})",
                     "history.overrides[0].prefix: missing: every rule needs the topic prefix it applies to"},
             refusal{R"({"history": {"overrides": [{"prefix": "a.", "max_age": "1500ms"}]}})",
                     "history.overrides[0].max_age: must be whole seconds, got 1500ms"},
             refusal{R"({"history": {"overrides": [{"prefix": "a."}, {"prefix": "a."}]}})",
                     R"(history.overrides[1].prefix: "a." is given by an earlier rule)"},
             refusal{R"({"namespaces": []})", "namespaces: expected an object of namespaces by name, got []"},
             refusal{R"({"namespaces": {"a:b": {}}})", "namespaces.a:b: a namespace's name holds only A-Z a-z 0-9 _ -"},
             refusal{R"({"namespaces": {"chat": {"publish": "admins"}}})",
                     R"(namespaces.chat.publish: expected "everyone", "users" or "nobody", got "admins")"},
             refusal{R"({"namespaces": {"chat": {"presense": false}}})",
                     "namespaces.chat.presense: unknown key (a namespace has subscribe, publish, presence, join_leave, "
                     "transports, history, subscribe_url and publish_url)"},
             refusal{R"({"namespaces": {"chat": {"history": {"max_age": "1500ms"}}}})",
                     "namespaces.chat.history.max_age: must be whole seconds, got 1500ms"},
             refusal{R"({"history": {"overrides": [{"prefix": "chat:"}]}, "namespaces": {"chat": {"history": {}}}})",
                     R"(namespaces.chat.history: history.overrides has a rule for the prefix "chat:" already)"},
             refusal{R"({"namespaces": {"chat": {"publish_url": "https://backend/publish"}}})",
                     "namespaces.chat.publish_url: https is not supported for proxy backends: use http://"},
             refusal{"[]", "configuration: expected a JSON object at the top level, got []"},
         }) {
        auto const r = load_config(text);
        EXPECT_EQ(error_lines(r), std::vector<std::string>{error}) << text;
    }

    auto const syntax = load_config(R"({"limits": {)");
    ASSERT_EQ(syntax.errors.size(), 1u);
    EXPECT_TRUE(to_string(syntax.errors[0]).starts_with("configuration: not valid JSON: parse error at line 1"))
        << to_string(syntax.errors[0]);
}

TEST(config, every_error_is_reported_in_the_order_of_the_file)
{
    auto const r = load_config(R"({"listen": "x", "limits": {"max_connections": 0, "typo": 1}, "log": {"format": 1}})");
    auto const lines = error_lines(r);
    ASSERT_EQ(lines.size(), 4u) << testing::PrintToString(lines);
    EXPECT_TRUE(lines[0].starts_with("listen: "));
    EXPECT_TRUE(lines[1].starts_with("limits.max_connections: "));
    EXPECT_TRUE(lines[2].starts_with("limits.typo: "));
    EXPECT_TRUE(lines[3].starts_with("log.format: "));
}

TEST(config, environment_overrides_the_file_and_flags_override_the_environment)
{
    config_sources sources;
    sources.file_name = "switchboard.json";
    sources.file_text = R"({"limits": {"max_message_size": 1000, "max_connections": 10}, "log": {"level": "warn"}})";
    sources.environment = {{"SWITCHBOARD_LIMITS_MAX_MESSAGE_SIZE", "2000"}, {"SWITCHBOARD_LOG_LEVEL", "error"}};

    auto const from_environment = resolve_config(sources);
    ASSERT_TRUE(from_environment.ok()) << testing::PrintToString(error_lines(from_environment));
    EXPECT_EQ(from_environment.config.server.max_message_size, 2000u);
    EXPECT_EQ(from_environment.config.server.max_connections, 10u);  // the file's, untouched
    EXPECT_EQ(from_environment.config.log.level, spdlog::level::err);

    sources.flags = {{"limits.max_message_size", "3KiB", "--max-message-size"}};
    auto const from_flag = resolve_config(sources);
    ASSERT_TRUE(from_flag.ok()) << testing::PrintToString(error_lines(from_flag));
    EXPECT_EQ(from_flag.config.server.max_message_size, 3072u);
    EXPECT_EQ(from_flag.config.log.level, spdlog::level::err);
}

TEST(config, environment_and_flag_errors_name_where_the_value_came_from)
{
    config_sources sources;
    sources.environment = {{"SWITCHBOARD_LIMITS_MAX_MESSAGE_SIZE", "-1"},
                           {"SWITCHBOARD_LIMITS_MAX_MESAGE_SIZE", "5"},
                           {"SWITCHBOARD_HISTORY_OVERRIDES", R"([{"prefix": "chat.", "max_age": "24h"}])"}};
    sources.flags = {{"long_polling.hold", "forever", "--poll-hold"}};
    auto const r = resolve_config(sources);
    std::vector<std::string> const expected = {
        R"(limits.max_message_size (SWITCHBOARD_LIMITS_MAX_MESSAGE_SIZE): expected a size (bytes or "64KiB"), )"
        R"(got "-1")",
        R"(long_polling.hold (--poll-hold): expected a duration (milliseconds or "25s"), got "forever")"};
    EXPECT_EQ(error_lines(r), expected);
    // Other programs may share the prefix, so an unknown variable only warns.
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(to_string(r.warnings[0]), "SWITCHBOARD_LIMITS_MAX_MESAGE_SIZE: names no configuration key; ignored "
                                        "(did you mean SWITCHBOARD_LIMITS_MAX_MESSAGE_SIZE?)");
    ASSERT_EQ(r.config.server.history.overrides.size(), 1u);
    EXPECT_EQ(r.config.server.history.overrides[0].limits.max_age, 24h);
}

TEST(config, transports_come_as_a_list_from_every_layer)
{
    config_sources sources;
    sources.file_name = "switchboard.json";
    sources.file_text = R"({"transports": ["websocket"]})";
    sources.environment = {{"SWITCHBOARD_TRANSPORTS", "sse,long-polling"}};
    auto const from_environment = resolve_config(sources);
    ASSERT_TRUE(from_environment.ok()) << testing::PrintToString(error_lines(from_environment));
    EXPECT_FALSE(from_environment.config.server.transports.websocket);
    EXPECT_TRUE(from_environment.config.server.transports.sse);

    sources.flags = {{"transports", "long-polling", "--transports"}};
    auto const from_flag = resolve_config(sources);
    ASSERT_TRUE(from_flag.ok()) << testing::PrintToString(error_lines(from_flag));
    EXPECT_FALSE(from_flag.config.server.transports.sse);
    EXPECT_TRUE(from_flag.config.server.transports.long_polling);

    sources.flags = {{"transports", "websocket,carrier-pigeon", "--transports"}};
    auto const bad = resolve_config(sources);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(error_lines(bad).front().find("transports (--transports): unknown transport"), std::string::npos)
        << error_lines(bad).front();
}

TEST(config, history_rules_inherit_the_limits_every_layer_leaves)
{
    config_sources sources;
    sources.file_name = "switchboard.json";
    sources.file_text = R"({"history": {"overrides": [{"prefix": "chat.", "max_age": "1h"}], "max_messages": 10}})";
    sources.flags = {{"history.max_messages", "20", "--history-max-messages"}};
    auto const r = resolve_config(sources);
    ASSERT_TRUE(r.ok()) << testing::PrintToString(error_lines(r));
    ASSERT_EQ(r.config.server.history.overrides.size(), 1u);
    EXPECT_EQ(r.config.server.history.overrides[0].limits.max_messages, 20u);
    EXPECT_EQ(r.config.server.history.overrides[0].limits.max_age, 1h);
}

TEST(config, every_key_has_one_variable_and_the_docs_name_both)
{
    auto const docs = read_text(std::filesystem::path(SWITCHBOARD_SOURCE_DIR) / "docs" / "configuration.md");
    std::set<std::string> variables;
    for (auto const& key : config_keys()) {
        EXPECT_TRUE(variables.insert(env_name(key.path)).second) << env_name(key.path);
        EXPECT_NE(docs.find("`" + std::string(key.path) + "`"), std::string::npos) << key.path;
        EXPECT_NE(docs.find("`" + env_name(key.path) + "`"), std::string::npos) << env_name(key.path);
        if (!key.flag.empty())
            EXPECT_NE(docs.find("`" + std::string(key.flag)), std::string::npos) << key.flag;
    }
}

TEST(config, the_docs_show_the_example_file)
{
    auto const docs = read_text(std::filesystem::path(SWITCHBOARD_SOURCE_DIR) / "docs" / "configuration.md");
    auto const section = docs.find("## Complete example");
    ASSERT_NE(section, std::string::npos);
    auto const begin = docs.find("```json\n", section);
    ASSERT_NE(begin, std::string::npos);
    auto const end = docs.find("```", begin + 8);
    ASSERT_NE(end, std::string::npos);
    EXPECT_EQ(json::parse(docs.substr(begin + 8, end - begin - 8)), json::parse(read_text(SWITCHBOARD_EXAMPLE_CONFIG)));
}

TEST(config, json_log_lines_are_valid_json_whatever_the_message)
{
    std::ostringstream out;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    spdlog::logger logger("test", sink);
    logger.set_formatter(std::make_unique<json_log_formatter>());
    logger.set_level(spdlog::level::trace);

    std::vector<std::string> const messages = {
        "listening on 127.0.0.1:8080",
        "quote \" backslash \\ newline \n tab \t bell \x07 nul-free",
        "topic caf\xc3\xa9 \xe2\x9c\x93",
        "{\"looks\": \"like json\"}",
    };
    for (auto const& m : messages)
        logger.info("{}", m);
    logger.warn("a client's topic: {}", std::string("bad \xff\xfe utf-8"));
    logger.error("{} channels closed", 3);

    std::istringstream lines(out.str());
    std::vector<json> parsed;
    for (std::string line; std::getline(lines, line);) {
        auto v = json::parse(line, nullptr, false);
        ASSERT_FALSE(v.is_discarded()) << line;
        parsed.push_back(std::move(v));
    }
    ASSERT_EQ(parsed.size(), messages.size() + 2);
    std::regex const iso8601(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
    for (std::size_t i = 0; i < parsed.size(); ++i) {
        EXPECT_EQ(parsed[i].size(), 3u) << parsed[i];
        EXPECT_TRUE(std::regex_match(parsed[i]["time"].get<std::string>(), iso8601)) << parsed[i];
        if (i < messages.size()) {
            EXPECT_EQ(parsed[i]["message"], messages[i]);
            EXPECT_EQ(parsed[i]["level"], "info");
        }
    }
    EXPECT_EQ(parsed[messages.size()]["level"], "warn");
    EXPECT_EQ(parsed[messages.size()]["message"], "a client's topic: bad \xef\xbf\xbd\xef\xbf\xbd utf-8");
    EXPECT_EQ(parsed[messages.size() + 1]["level"], "error");
    EXPECT_EQ(parsed[messages.size() + 1]["message"], "3 channels closed");
}

// ---- The binary ----

std::optional<int> run_to_exit(std::vector<std::string> args, std::vector<std::string> env, std::string& output)
{
    server_process p(SWITCHBOARD_SERVER_PATH, std::move(args), std::move(env));
    auto const code = p.wait_exit(20s);
    output = p.output();
    return code;
}

TEST(config_check, accepts_the_example_file)
{
    std::string output;
    EXPECT_EQ(run_to_exit({"--check-config", SWITCHBOARD_EXAMPLE_CONFIG}, {}, output), 0) << output;
    EXPECT_EQ(output, "configuration OK\n");
}

TEST(config_check, refuses_bad_values_and_unknown_keys_with_their_paths)
{
    temp_file file(R"({
  "listen": "127.0.0.1:0",
  "limits": {"max_message_size": "-1", "max_conections": 10},
  "history": {"overrides": [{"prefix": "chat.", "max_age": "forever"}]}
})");
    std::string output;
    EXPECT_EQ(run_to_exit({"--check-config", file.path()}, {}, output), 1) << output;
    EXPECT_EQ(output,
              "limits.max_message_size: expected a size (bytes or \"64KiB\"), got \"-1\"\n"
              "limits.max_conections: unknown key (did you mean \"limits.max_connections\"?)\n"
              "history.overrides[0].max_age: expected a duration (milliseconds or \"25s\"), got \"forever\"\n");
}

TEST(config_check, includes_the_environment_and_flags_and_starts_nothing)
{
    temp_file file(R"({"listen": "127.0.0.1:0"})");
    std::string output;
    EXPECT_EQ(run_to_exit({"--check-config", file.path(), "--ping-interval", "0"},
                          {"SWITCHBOARD_LOG_FORMAT=yaml"}, output),
              1)
        << output;
    EXPECT_NE(output.find(R"(log.format (SWITCHBOARD_LOG_FORMAT): expected "text" or "json", got "yaml")"), std::string::npos)
        << output;
    EXPECT_NE(output.find("websocket.ping_interval (--ping-interval): must be from 100ms to 1h, got 0ms"), std::string::npos)
        << output;
    EXPECT_EQ(output.find("listening"), std::string::npos) << output;
}

TEST(config_check, an_unreadable_file_fails)
{
    std::string output;
    EXPECT_EQ(run_to_exit({"--check-config", "/nonexistent/switchboard.json"}, {}, output), 1) << output;
    EXPECT_NE(output.find("/nonexistent/switchboard.json: cannot read"), std::string::npos) << output;
}

TEST(config_server, refuses_to_start_with_a_bad_configuration)
{
    temp_file file(R"({"listen": "127.0.0.1:0", "limits": {"max_message_size": 0}})");
    std::string output;
    EXPECT_EQ(run_to_exit({"--config", file.path()}, {}, output), 2) << output;
    EXPECT_NE(output.find("limits.max_message_size: must be from 1B to 256MiB, got 0B"), std::string::npos) << output;
    EXPECT_EQ(output.find("listening"), std::string::npos) << output;
}

TEST(config_server, serves_tls_with_the_certificate_flags)
{
    switchboard::test::test_certificate cert;
    server_process server(SWITCHBOARD_SERVER_PATH, {"--listen", "127.0.0.1:0", "--tls-cert", cert.cert_file().string(),
                                                    "--tls-key", cert.key_file().string()});
    auto const port = server.wait_for_port(20s);
    ASSERT_TRUE(port) << server.output();
    boost::asio::io_context ioc;
    EXPECT_EQ(fetch(ioc, switchboard::test::tls_port(*port), "GET", "/healthz").status, 200);
    EXPECT_EQ(fetch(ioc, *port, "GET", "/healthz").status, 200);  // plain HTTP on the same port
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(15s), 0) << server.output();
}

TEST(config_server, refuses_to_start_with_a_key_that_is_not_the_certificates)
{
    switchboard::test::test_certificate cert;
    std::string output;
    EXPECT_EQ(run_to_exit({"--listen", "127.0.0.1:0", "--tls-cert", cert.cert_file().string(), "--tls-key",
                           cert.other_key_file().string()},
                          {}, output),
              2)
        << output;
    EXPECT_NE(output.find(cert.other_key_file().string()), std::string::npos) << output;
    EXPECT_NE(output.find("does not match"), std::string::npos) << output;
    EXPECT_EQ(output.find("listening"), std::string::npos) << output;

    // A file that cannot be read is found by --check-config already.
    EXPECT_EQ(run_to_exit({"--check-config", SWITCHBOARD_EXAMPLE_CONFIG, "--tls-cert", "/nonexistent/cert.pem",
                           "--tls-key", cert.key_file().string()},
                          {}, output),
              1);
    EXPECT_NE(output.find("tls.cert_file: cannot read /nonexistent/cert.pem"), std::string::npos) << output;
}

TEST(config_server, help_lists_the_flags_and_variables)
{
    std::string output;
    EXPECT_EQ(run_to_exit({"--help"}, {}, output), 0) << output;
    for (auto const* text : {"--config", "--check-config", "SWITCHBOARD_CONFIG"})
        EXPECT_NE(output.find(text), std::string::npos) << text;
    for (auto const& key : config_keys()) {
        if (!key.flag.empty())
            EXPECT_NE(output.find(std::string(key.flag) + " "), std::string::npos) << key.flag;
        EXPECT_NE(output.find(env_name(key.path)), std::string::npos) << env_name(key.path);
    }
}

// The status of a POST /publish of a JSON string `size` bytes long (quotes included).
int publish_status(boost::asio::io_context& ioc, std::uint16_t port, std::size_t size)
{
    auto const body = "\"" + std::string(size - 2, 'a') + "\"";
    return fetch(ioc, port, "POST", "/publish?topic=sized", body).status;
}

// Starts the server with `args` and `env`, and returns the publish statuses for each size.
std::vector<int> statuses(std::vector<std::string> args, std::vector<std::string> env, std::vector<std::size_t> sizes)
{
    server_process server(SWITCHBOARD_SERVER_PATH, std::move(args), std::move(env));
    auto const port = server.wait_for_port(20s);
    EXPECT_TRUE(port) << server.output();
    if (!port)
        return {};
    boost::asio::io_context ioc;
    std::vector<int> result;
    for (auto const size : sizes)
        result.push_back(publish_status(ioc, *port, size));
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(15s), 0) << server.output();
    return result;
}

TEST(config_server, applies_the_file_then_the_environment_then_flags)
{
    temp_file file(R"({"listen": "127.0.0.1:0", "limits": {"max_message_size": 1000}})");
    std::vector<std::string> const file_only = {"--config", file.path()};
    std::vector<std::string> const env = {"SWITCHBOARD_LIMITS_MAX_MESSAGE_SIZE=2000"};

    EXPECT_EQ(statuses(file_only, {}, {900, 1500}), (std::vector<int>{200, 413}));
    EXPECT_EQ(statuses(file_only, env, {1500, 2500}), (std::vector<int>{200, 413}));
    auto with_flag = file_only;
    with_flag.insert(with_flag.end(), {"--max-message-size", "3000"});
    EXPECT_EQ(statuses(with_flag, env, {2500, 3500}), (std::vector<int>{200, 413}));
}

TEST(config_server, the_config_file_can_come_from_the_environment)
{
    temp_file file(R"({"listen": "127.0.0.1:0", "limits": {"max_message_size": 1000}})");
    EXPECT_EQ(statuses({}, {"SWITCHBOARD_CONFIG=" + file.path()}, {900, 1500}), (std::vector<int>{200, 413}));
    // --check-config names its own file, whatever the variable says.
    std::string output;
    EXPECT_EQ(run_to_exit({"--check-config", SWITCHBOARD_EXAMPLE_CONFIG}, {"SWITCHBOARD_CONFIG=/nonexistent.json"}, output), 0)
        << output;
}

TEST(config_server, json_logs_are_one_object_per_line)
{
    temp_file file(R"({"listen": "127.0.0.1:0", "log": {"format": "json", "level": "debug"}})");
    server_process server(SWITCHBOARD_SERVER_PATH, {"--config", file.path()});
    auto const port = server.wait_for_port(20s);
    ASSERT_TRUE(port) << server.output();
    boost::asio::io_context ioc;
    // A rejected request logs nothing of its own body, but a request with an odd topic may be logged: any
    // line, whatever it holds, must stay one valid object.
    EXPECT_EQ(fetch(ioc, *port, "POST", "/publish?topic=%22quoted%22%0A", "1").status, 400);
    server.signal(SIGTERM);
    ASSERT_EQ(server.wait_exit(15s), 0) << server.output();

    std::istringstream lines(server.output());
    int count = 0;
    bool listening = false;
    for (std::string line; std::getline(lines, line); ++count) {
        auto const v = json::parse(line, nullptr, false);
        ASSERT_TRUE(v.is_object()) << line;
        EXPECT_TRUE(v.contains("time") && v.contains("level") && v.contains("message")) << line;
        listening = listening || v["message"].get<std::string>().starts_with("listening on 127.0.0.1:");
    }
    EXPECT_GE(count, 3);
    EXPECT_TRUE(listening) << server.output();
}

}  // namespace
}  // namespace switchboard_server
