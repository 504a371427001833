#pragma once
// The bundled server's configuration: server_options plus log settings, read from a JSON file, environment
// variables and command-line flags, each layer over the one before:
//
//   defaults < file (--config) < environment (SWITCHBOARD_*) < flags
//
// Every key is in config_keys.cpp and docs/configuration.md. Nothing here starts a server or touches spdlog.

#include <switchboard/nats_backplane.hpp>
#include <switchboard/redis_backplane.hpp>
#include <switchboard/server_options.hpp>

#include <spdlog/common.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard_server {

enum class log_format {
    text,  // spdlog's default pattern
    json,  // one object per line: {"time":..., "level":..., "message":...}
};

struct log_options {
    spdlog::level::level_enum level = spdlog::level::info;
    log_format format = log_format::text;
};

struct server_config {
    server_config()
    {
        redis.url.clear();
        nats.url.clear();
    }
    switchboard::server_options server;
    switchboard::redis_options redis;  // url "" (the default): the in-memory backplane, no Redis
    switchboard::nats_options nats;    // url "" (the default): no NATS; at most one of the two is set
    log_options log;
    // Event loops, each on its own thread with its own listener on the shared port (SO_REUSEPORT), joined as
    // the nodes of one cluster (docs/scaling.md). 1: one loop, exactly the single-threaded server.
    std::size_t threads = 1;
};

struct listen_address {
    std::string host;
    std::uint16_t port = 0;
};

// One problem, named by the key's path ("limits.max_message_size", "history.overrides[1].prefix"; empty for
// the file as a whole) and, for a value from the environment or a flag, by where it came from.
struct config_error {
    std::string path;
    std::string message;
    std::string origin;  // "" (the file), "SWITCHBOARD_LISTEN", "--listen"
};

// "limits.max_message_size: expected ...", or "limits.max_message_size (--max-message-size): expected ...".
std::string to_string(config_error const& e);

// A value given on the command line for the key at `path`.
struct flag_value {
    std::string path;
    std::string text;
    std::string flag;  // "--max-message-size"
};

struct config_sources {
    std::string file_name;  // empty: no file
    std::string file_text;
    std::vector<std::pair<std::string, std::string>> environment;  // SWITCHBOARD_* variables: name, value
    std::vector<flag_value> flags;
};

struct config_result {
    server_config config;
    std::vector<config_error> errors;
    std::vector<config_error> warnings;  // SWITCHBOARD_* variables that name no key
    bool ok() const noexcept { return errors.empty(); }
};

// The layers in order over the defaults, then the checks that span keys. Collects every error rather than
// stopping at the first, so one --check-config run shows them all. A value in error leaves the one below it.
config_result resolve_config(config_sources const& sources);

// A JSON text alone over the defaults.
config_result load_config(std::string_view json_text);

}  // namespace switchboard_server
