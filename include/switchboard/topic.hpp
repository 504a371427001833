#pragma once
// Topic names: the pub/sub addresses. 1 to 128 characters of [A-Za-z0-9_.:@/-], so a topic never needs
// escaping in JSON, URLs' paths, SSE ids or cursors.

#include <cstddef>
#include <string_view>

namespace switchboard {

inline constexpr std::size_t max_topic_length = 128;

/// True when `topic` is a valid topic name.
bool is_valid_topic(std::string_view topic) noexcept;

}  // namespace switchboard
