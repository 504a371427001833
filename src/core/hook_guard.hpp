#pragma once
// The boundary around an application hook: a throw is caught, logged and becomes error::internal_error, so that
// nothing escapes into the loop (STYLE.md, "Errors").

#include <switchboard/error.hpp>

#include <boost/system/error_code.hpp>

namespace switchboard::detail {

/// Logs the exception being handled, naming the hook that threw it. Call it from a catch block only.
void log_hook_exception(char const* hook_name) noexcept;

/// Runs an application hook through `f` (which returns an error_code); a throw is logged and becomes
/// error::internal_error.
template <class F>
boost::system::error_code guarded(char const* hook_name, F&& f) noexcept
{
    try {
        return f();
    } catch (...) {
        log_hook_exception(hook_name);
        return make_error_code(error::internal_error);
    }
}

}  // namespace switchboard::detail
