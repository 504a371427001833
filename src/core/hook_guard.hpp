#pragma once
// The boundary around an application hook or completion handler: a throw is caught and logged (a hook's becomes
// error::internal_error), so that nothing escapes into the loop (STYLE.md, "Errors").

#include <switchboard/error.hpp>

#include <boost/system/error_code.hpp>

#include <functional>
#include <utility>

namespace switchboard::detail {

/// Logs the exception being handled, naming what threw it (a hook, a handler). Call it from a catch block only.
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

/// An application's completion handler (a server object's `done`) that logs a throw under `name` and lets it go no
/// further: a throw may not unwind through the loop, nor through the backplane code that calls it. Empty stays
/// empty.
template <class... Args>
std::function<void(Args...)> guarded_handler(char const* name, std::function<void(Args...)> f)
{
    if (!f)
        return f;
    return [name, f = std::move(f)](Args... args) noexcept {
        try {
            f(std::forward<Args>(args)...);
        } catch (...) {
            log_hook_exception(name);
        }
    };
}

}  // namespace switchboard::detail
