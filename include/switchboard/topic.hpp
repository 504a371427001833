#pragma once
// Topic names: the pub/sub addresses. 1 to 128 characters of [A-Za-z0-9_.:@/-], so a topic never needs
// escaping in JSON, URLs' paths, SSE ids or cursors.
//
// Patterns: what a subscription may name instead of one topic. A topic is read as tokens separated by '.'
// ("sports.tennis.live" has three; "a..b" has an empty middle one). A pattern is 1 to 128 characters of
// non-empty tokens, each a literal token (topic characters but '.'), `*` (exactly one token, whatever it is)
// or, as the last token only, `>` (one or more tokens): NATS' semantics. A pattern has at least one wildcard
// token (a subscription to one topic names that topic), so a pattern is never a valid topic name and the two
// cannot be mistaken for each other.

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard {

inline constexpr std::size_t max_topic_length = 128;
/// Tokens in one pattern, at most: matching a message costs at most a walk of this depth per wildcard branch.
inline constexpr std::size_t max_pattern_tokens = 16;

/// True when `topic` is a valid topic name.
bool is_valid_topic(std::string_view topic) noexcept;

/// Why `pattern` is not a valid pattern, for the client (a sentence naming the rule it breaks); empty when it is.
std::string pattern_problem(std::string_view pattern);
/// True when `pattern` is a valid pattern (pattern_problem would say nothing).
bool is_valid_pattern(std::string_view pattern) noexcept;
/// True when the valid topic `topic` matches the valid pattern `pattern`. O(length); the hub does not use it
/// (its token trie matches every pattern at once) but it says what the trie must answer.
bool pattern_matches(std::string_view pattern, std::string_view topic) noexcept;

}  // namespace switchboard
