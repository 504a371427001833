#pragma once
// Building request targets with percent-encoded query strings.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::test {

// Query parameters in order; a name may repeat (`topic=a&topic=b`).
using query_params = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes every byte except the RFC 3986 unreserved set [A-Za-z0-9-._~],
// so ':', '/', '@', '+' and spaces reach the server encoded.
std::string percent_encode(std::string_view text);

// "/path?n1=v1&n2=v2" with names and values percent-encoded; just `path` when `params` is empty.
std::string make_target(std::string_view path, query_params const& params);

}  // namespace switchboard::test
