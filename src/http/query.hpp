#pragma once
// The query string of a request target, percent-decoded ('+' stays a literal '+').

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::detail {

struct query {
    std::vector<std::pair<std::string, std::string>> params;

    /// The first value of `name`, or null.
    std::string const* find(std::string_view name) const;
    /// Every value of `name`, in order.
    std::vector<std::string> all(std::string_view name) const;
};

/// Splits a request target into its path and query. error::bad_request for a malformed percent-escape or more
/// than `max_params` parameters.
boost::system::error_code parse_target(std::string_view target, std::string_view& path, query& out,
                                       std::size_t max_params = 64);

bool percent_decode(std::string_view in, std::string& out);

/// Query parameters one request may carry: every topic the subscription limit allows, plus a few others.
constexpr std::size_t max_parameters(std::size_t max_subscriptions) noexcept { return max_subscriptions + 16; }

}  // namespace switchboard::detail
