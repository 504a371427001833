#include "command_line.hpp"

#include "config_keys.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <deque>
#include <string_view>

extern char** environ;

namespace switchboard_server {

namespace {

constexpr char const* config_variable = "SWITCHBOARD_CONFIG";

std::string type_name(value_kind kind)
{
    switch (kind) {
    case value_kind::count: return "N";
    case value_kind::size: return "SIZE";
    case value_kind::duration:
    case value_kind::seconds: return "DURATION";
    case value_kind::listen: return "HOST:PORT";
    case value_kind::pem_file: return "FILE";
    case value_kind::text_list: return "TEXT (repeatable)";
    case value_kind::level: return "LEVEL";
    case value_kind::format: return "FORMAT";
    case value_kind::redis_url:
    case value_kind::nats_url: return "URL";
    case value_kind::transports: return "LIST";
    case value_kind::file: return "FILE";
    case value_kind::boolean: return "BOOL";
    default: return "TEXT";
    }
}

// Every key's variable, since most keys have no flag.
std::string footer()
{
    std::string text =
        "Precedence: defaults < --config file < SWITCHBOARD_* environment < flags.\n"
        "SIZE: bytes or 64KiB, 8MiB (B, KiB, MiB, GiB). DURATION: milliseconds or 250ms, 25s, 5m, 24h, 7d.\n"
        "Every key of the file has a variable (see docs/configuration.md):\n";
    for (auto const& key : config_keys())
        text += "  " + env_name(key.path) + std::string(key.path.size() < 36 ? 36 - key.path.size() : 1, ' ') +
                std::string(key.path) + "\n";
    return text;
}

}  // namespace

std::variant<command_line, int> parse_command_line(int argc, char** argv)
{
    CLI::App app{"switchboard-server: WebSocket, SSE and long polling on one port"};
    command_line result;
    // SWITCHBOARD_CONFIG is read below rather than with CLI11's envname, which would count it as --config given
    // and so refuse --check-config whenever the variable is set.
    app.add_option("--config", result.config_file, "JSON configuration file (else $SWITCHBOARD_CONFIG)")
        ->type_name("FILE");
    app.add_option("--check-config", result.check_file,
                   "validate FILE (with the environment and flags applied), print \"configuration OK\" or each "
                   "error, exit 0 or 1; starts nothing")
        ->type_name("FILE")
        ->excludes("--config");

    // One string per flag, parsed later with the file's rules so that errors read the same from every layer.
    server_config const defaults;
    std::deque<std::pair<config_key const*, std::string>> values;
    std::deque<std::vector<std::string>> lists;  // a list key's flag may be repeated; joined with ',' below
    std::vector<CLI::Option*> options;
    for (auto const& key : config_keys()) {
        if (key.flag.empty())
            continue;
        auto& text = values.emplace_back(&key, std::string()).second;
        auto& list = lists.emplace_back();
        auto const help = std::string(key.help) + " [" + std::string(key.path) + ", default " +
                          show_value(key, defaults) + "]";
        if (key.kind == value_kind::text_list)
            options.push_back(app.add_option(std::string(key.flag), list, help)->type_name(type_name(key.kind)));
        else
            options.push_back(app.add_option(std::string(key.flag), text, help)->type_name(type_name(key.kind)));
    }
    bool no_http2 = false;  // a switch rather than "--http2 false": HTTP/2 is on unless asked
    app.add_flag("--no-http2", no_http2, "serve HTTP/1.1 only [http2.enabled false]");
    app.footer(footer());

    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e);
    }
    if (result.config_file.empty())
        if (char const* file = std::getenv(config_variable))
            result.config_file = file;
    for (std::size_t i = 0; i < options.size(); ++i) {
        for (auto const& item : lists[i])
            values[i].second += (values[i].second.empty() ? "" : ",") + item;
        if (options[i]->count() > 0)
            result.flags.push_back({std::string(values[i].first->path), values[i].second, std::string(values[i].first->flag)});
    }
    if (no_http2)
        result.flags.push_back({"http2.enabled", "false", "--no-http2"});
    return result;
}

std::vector<std::pair<std::string, std::string>> switchboard_environment()
{
    std::vector<std::pair<std::string, std::string>> found;
    for (char** e = environ; *e; ++e) {
        std::string_view const entry = *e;
        auto const eq = entry.find('=');
        auto const name = entry.substr(0, eq);
        if (eq == std::string_view::npos || !name.starts_with("SWITCHBOARD_") || name == config_variable)
            continue;
        found.emplace_back(std::string(name), std::string(entry.substr(eq + 1)));
    }
    return found;
}

}  // namespace switchboard_server
