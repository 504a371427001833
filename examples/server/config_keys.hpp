#pragma once
// The configuration's schema: one row per key with its kind, allowed range, flag and where it lands in
// server_config. The file reader, the environment, the flags, --help and the tests all read this table, so a
// key added here is everywhere at once (docs/configuration.md is written by hand: a test checks it names every key).

#include "config.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace switchboard_server {

enum class value_kind {
    count,              // a whole number
    size,               // bytes: 65536 or "64KiB"
    duration,           // milliseconds: 25000 or "25s"
    seconds,            // a duration in whole seconds: 300000 or "5m"
    url_path,           // "/ws"
    optional_url_path,  // "/metrics", or "" to turn the endpoint off
    secret,             // "" (off) or a token of 16+ printable characters; never echoed in errors
    listen,             // "127.0.0.1:8080"
    level,              // "info"
    format,             // "text" or "json"
    history_overrides,  // [{"prefix": "chat.", "max_messages": 50000, "max_age": "24h"}]
    namespaces,         // {"chat": {"publish": "users", "history": {"max_messages": 100}}}
    redis_url,          // "" (the in-memory backplane) or "redis://[:password@]host[:port][/db]"; never echoed
    key_prefix,         // "switchboard:": printable ASCII without spaces
    nats_url,           // "" (no NATS) or "nats://[user:password@|token@]host[:port]", tls://, ','-separated; never echoed
    subject_prefix,     // "switchboard": NATS subject tokens separated by '.', no whitespace, '*' or '>'
    transports,         // ["websocket", "sse", "long-polling"], or "websocket,sse" as text
    text,               // any string of printable characters (an audience, a cookie name)
    pem_file,           // a path to a PEM public key; the key's text is what is kept
    boolean,            // true or false ("true"/"false" from a variable or flag)
    text_list,          // ["a", "b"], or "a,b" (a variable, repeated flags)
    per_second,         // a rate: a number >= 0 (fractions allowed); 0 turns the limit off
    file,               // a file's path, or "" for none
};

template <class T>
using field_ref = T& (*)(server_config&);

// Where a key's value goes; the listen address sets both server_options::address and ::port, the history
// overrides the whole rule list, so those two take the enclosing struct; the namespaces add history rules too,
// so they take the whole configuration.
using config_field = std::variant<field_ref<std::size_t>, field_ref<std::chrono::milliseconds>,
                                  field_ref<std::chrono::seconds>, field_ref<std::string>,
                                  field_ref<switchboard::server_options>, field_ref<switchboard::history_options>,
                                  field_ref<spdlog::level::level_enum>, field_ref<log_format>,
                                  field_ref<switchboard::enabled_transports>, field_ref<bool>,
                                  field_ref<std::vector<std::string>>, field_ref<double>, field_ref<server_config>>;

struct config_key {
    std::string_view path;  // "limits.max_message_size"
    value_kind kind;
    std::uint64_t min = 0;  // counts, bytes, milliseconds; ignored by the other kinds
    std::uint64_t max = 0;
    std::string_view flag;  // "--max-message-size", or empty
    std::string_view help;  // one line for --help
    config_field field;
};

std::span<config_key const> config_keys();

// One limit of a history rule (a history.overrides rule, a namespace's history): `name` "max_messages" or
// "max_age", read into `limits` in the range of history.max_messages / history.max_age; a bad value appends its
// error (at `path`) and leaves `limits` as it was. False when `name` is neither.
bool read_history_limit(std::string const& name, nlohmann::json const& value, std::string const& path,
                        std::string const& origin, switchboard::history_limits& limits,
                        std::vector<config_error>& errors);
config_key const* find_key(std::string_view path);

// SWITCHBOARD_ and the path in capitals with '.' as '_': limits.max_message_size ->
// SWITCHBOARD_LIMITS_MAX_MESSAGE_SIZE.
std::string env_name(std::string_view path);

// Reads `value` as `key` wants and stores it in `config`; on any error appends it (path and origin filled) and
// leaves `config` as it was. `origin` is "" for the file, else the variable or flag that gave the value.
void apply_value(config_key const& key, nlohmann::json const& value, std::string const& origin,
                 server_config& config, std::vector<config_error>& errors);

// The key's current value in the notation a file would use ("64KiB", "25s", "info"): for --help's defaults.
std::string show_value(config_key const& key, server_config const& config);

}  // namespace switchboard_server
