#include "core/hook_guard.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace switchboard::detail {

void log_hook_exception(char const* hook_name) noexcept
{
    try {
        throw;
    } catch (std::exception const& e) {
        spdlog::error("{} threw: {}", hook_name, e.what());
    } catch (...) {
        spdlog::error("{} threw a non-exception", hook_name);
    }
}

}  // namespace switchboard::detail
