#pragma once
// What the process is given: command-line flags (CLI11) and SWITCHBOARD_* environment variables. Only
// collected here; config.hpp gives them meaning.

#include "config.hpp"

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace switchboard_server {

struct command_line {
    std::string config_file;  // --config FILE, else $SWITCHBOARD_CONFIG; empty: defaults only
    std::string check_file;   // --check-config FILE: validate and exit
    std::vector<flag_value> flags;  // configuration flags given, e.g. {"listen", "127.0.0.1:0", "--listen"}
};

// Parses argv. On --help or a usage error CLI11 prints what it has to say and the exit code comes back instead.
std::variant<command_line, int> parse_command_line(int argc, char** argv);

// This process's SWITCHBOARD_* variables, less SWITCHBOARD_CONFIG (the file's name, not a key).
std::vector<std::pair<std::string, std::string>> switchboard_environment();

}  // namespace switchboard_server
