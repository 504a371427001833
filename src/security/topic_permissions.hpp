#pragma once
// Whether an identity may subscribe or publish to a topic, from configuration and token claims (no hooks):
// the topic must match the configured patterns for its kind of client (anonymous or user), and, when the
// token has a "sub_topics" / "pub_topics" claim, that list too. Pure functions, thread-safe.

#include <switchboard/identity.hpp>
#include <switchboard/security_options.hpp>

#include <nlohmann/json_fwd.hpp>

#include <string_view>

namespace switchboard::detail {

/// "*" matches everything, "p*" every topic starting with "p", anything else that exact topic.
bool topic_matches(std::string_view pattern, std::string_view topic) noexcept;
bool any_matches(topic_patterns const& patterns, std::string_view topic) noexcept;

bool may_subscribe(security_options const& options, identity const& who, std::string_view topic);
bool may_publish(security_options const& options, identity const& who, std::string_view topic);

/// True when every topic the subscription pattern `pattern` (valid, topic.hpp) can match is one `permission`
/// matches: a pattern never reaches a topic its subscriber could not subscribe to by name. A pattern's topics
/// begin with its literal tokens up to its first wildcard (then any character), so "p*" contains it when "p"
/// is a prefix of those tokens and their dot; an exact topic contains no pattern.
bool permission_contains(std::string_view permission, std::string_view pattern) noexcept;
/// may_subscribe for a pattern: one configured permission (and, with the claim, one claimed topic) contains it.
bool may_subscribe_pattern(security_options const& options, identity const& who, std::string_view pattern);

/// The claim naming the topics a token may subscribe to, and publish to.
inline constexpr char const* subscribe_claim = "sub_topics";
inline constexpr char const* publish_claim = "pub_topics";

}  // namespace switchboard::detail
