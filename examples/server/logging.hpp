#pragma once
// spdlog set up from the configuration: the level, and either spdlog's default text pattern or JSON lines.

#include "config.hpp"

#include <spdlog/formatter.h>

#include <memory>

namespace switchboard_server {

// Applies `options` to spdlog's default logger (and so to every log line of the library). Call before the
// server starts: spdlog's set_formatter is not meant to race with logging threads.
void apply_log_options(log_options const& options);

// One JSON object per line for log shippers:
//   {"time":"2024-05-01T12:00:00.123Z","level":"info","message":"listening on 127.0.0.1:8080"}
// Time in UTC with milliseconds; level in the configuration's names (trace ... critical). The message is
// escaped as JSON strings require; invalid UTF-8 (a client's topic, say) becomes U+FFFD, so every line parses.
class json_log_formatter final : public spdlog::formatter {
public:
    void format(spdlog::details::log_msg const& msg, spdlog::memory_buf_t& dest) override;
    std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace switchboard_server
