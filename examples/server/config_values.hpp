#pragma once
// The value types of the configuration: reading a JSON value as a count, a size ("64KiB"), a duration ("25s"),
// a listen address, a URL path or a log setting, and writing sizes and durations back in the same notation.
// Errors are messages without the key's path (the caller knows it). Pure functions, thread-safe.

#include "config.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard_server {

// A value or, when error is not empty, why the input is not one.
template <class T>
struct parsed {
    T value{};
    std::string error;
    explicit operator bool() const noexcept { return error.empty(); }
};

// A whole number >= 0 (JSON integer only: a string "128" is a wrong type in a file).
parsed<std::uint64_t> parse_count(nlohmann::json const& v);
// Bytes: an integer, or a string of digits with an optional unit B, KiB, MiB or GiB ("64KiB", "8MiB").
// Only binary units: "64KB" would be 64,000 to some readers and 65,536 to others.
parsed<std::uint64_t> parse_size(nlohmann::json const& v);
// Milliseconds: an integer, or a string of digits with an optional unit ms, s, m, h or d ("250ms", "24h").
parsed<std::chrono::milliseconds> parse_duration(nlohmann::json const& v);
// "HOST:PORT" with HOST an IP address ("[::1]:8080" for IPv6) and PORT 0-65535.
parsed<listen_address> parse_listen(nlohmann::json const& v);
// An absolute URL path without query, fragment, spaces or control characters, other than "/" (the demo page).
parsed<std::string> parse_url_path(nlohmann::json const& v);
// "" (off), or 16 to 256 printable ASCII characters without spaces. Errors never show the value: it is a secret.
parsed<std::string> parse_secret(nlohmann::json const& v);
parsed<std::string> parse_redis_url(nlohmann::json const& v);
parsed<std::string> parse_key_prefix(nlohmann::json const& v);
parsed<std::string> parse_nats_url(nlohmann::json const& v);
parsed<std::string> parse_subject_prefix(nlohmann::json const& v);
// Up to 256 printable ASCII characters (may be empty).
parsed<std::string> parse_text(nlohmann::json const& v);
// A path (a string) to a readable PEM public key: the file's text. Errors name the path, not the contents.
parsed<std::string> read_pem_file(nlohmann::json const& v);
// true or false; from a variable or flag the strings "true" and "false".
parsed<bool> parse_boolean(nlohmann::json const& v);
// An array of non-empty printable strings, or one string of them joined by commas ("" is the empty list).
parsed<std::vector<std::string>> parse_text_list(nlohmann::json const& v);
// A number >= 0, fractions allowed (a rate per second); a string of one from a variable or flag.
parsed<double> parse_per_second(nlohmann::json const& v);
parsed<spdlog::level::level_enum> parse_level(nlohmann::json const& v);
parsed<log_format> parse_format(nlohmann::json const& v);
// The transports that answer: an array of "websocket", "sse", "long-polling" (at least one, each once), or the
// same names as one comma-separated string (the form a flag or variable gives).
parsed<switchboard::enabled_transports> parse_transports(nlohmann::json const& v);
// "websocket,sse,long-polling": the enabled ones, in that order.
std::string format_transports(switchboard::enabled_transports const& t);

// The value as a flag or environment variable gives it, turned into the JSON a file would hold: digits become
// an integer where the kind wants a number, anything else stays a string (and so fails as a file's would).
nlohmann::json number_or_string(std::string_view text);

// The shortest exact form: 65536 -> "64KiB", 1000 -> "1000B"; 25000 -> "25s", 1500 -> "1500ms".
std::string format_size(std::uint64_t bytes);
std::string format_duration(std::chrono::milliseconds d);
// A value quoted for a message: strings with quotes, long values cut short.
std::string show(nlohmann::json const& v);

std::string_view level_name(spdlog::level::level_enum level);
std::string_view format_name(log_format format);

}  // namespace switchboard_server
