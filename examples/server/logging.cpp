#include "logging.hpp"

#include "config_values.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace switchboard_server {

namespace {

void append(spdlog::memory_buf_t& dest, std::string_view text)
{
    dest.append(text.data(), text.data() + text.size());
}

// nlohmann's serializer does the escaping, including the replacement of invalid UTF-8, which a hand-written
// escaper would be likely to get wrong; log lines are rare enough (never one per message) for its allocation.
void append_json_string(spdlog::memory_buf_t& dest, std::string_view text)
{
    append(dest, nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// 2024-05-01T12:00:00.123Z
void append_time(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point time)
{
    auto const since_epoch = time.time_since_epoch();
    auto const seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    auto const millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    std::time_t const t = seconds.count();
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[32];
    auto const n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    append(dest, {text, n});
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, ".%03dZ", static_cast<int>(millis));
    append(dest, fraction);
}

}  // namespace

void json_log_formatter::format(spdlog::details::log_msg const& msg, spdlog::memory_buf_t& dest)
{
    append(dest, R"({"time":")");
    append_time(dest, msg.time);
    append(dest, R"(","level":")");
    append(dest, level_name(msg.level));
    append(dest, R"(","message":)");
    append_json_string(dest, {msg.payload.data(), msg.payload.size()});
    append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> json_log_formatter::clone() const
{
    return std::make_unique<json_log_formatter>();
}

void apply_log_options(log_options const& options)
{
    spdlog::set_level(options.level);
    if (options.format == log_format::json)
        spdlog::set_formatter(std::make_unique<json_log_formatter>());
    else
        spdlog::set_formatter(std::make_unique<spdlog::pattern_formatter>());  // spdlog's default pattern
    // Lines that matter reach a pipe or a file at once, for operators tailing them and for tests reading them.
    spdlog::flush_on(spdlog::level::info);
}

}  // namespace switchboard_server
