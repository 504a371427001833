#pragma once
// Parsing JSON that comes from the network: never throws, and refuses nesting deeper than a fixed bound
// (serializing a deeply nested value recurses, so depth is a resource like size).

#include <nlohmann/json.hpp>

#include <boost/system/error_code.hpp>

#include <string_view>

namespace switchboard::detail {

inline constexpr std::size_t max_json_depth = 64;

/// Parses `text` into `out`; error::invalid_json when it is not JSON or nests deeper than max_json_depth.
boost::system::error_code parse_json(std::string_view text, nlohmann::json& out);

}  // namespace switchboard::detail
