#pragma once
// Topic names as NATS subjects. A topic (1-128 characters of [A-Za-z0-9_.:@/-]) keeps its '.' hierarchy as
// subject tokens, so NATS permissions and stream filters can follow it ("<prefix>.topic.chat.>"). NATS forbids
// empty tokens, which a topic may have ("a..b", ".a", "a."): an empty part is written "~", a character no topic
// has, so the mapping stays one-to-one and every topic has a subject. No other character needs escaping: '*'
// and '>' (wildcards) and whitespace are not topic characters.
//
//   <prefix>.topic.<tokens>   what nodes publish to: the stream's subjects (history)
//   <prefix>.live.<tokens>    where the stream republishes each stored message: what nodes subscribe to

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::nats {

/// The subject tokens of a valid topic: "a..b" -> "a.~.b".
std::string topic_tokens(std::string_view topic);
/// The topic of subject tokens made by topic_tokens; nullopt for tokens no topic gives.
std::optional<std::string> topic_of_tokens(std::string_view tokens);

/// True for a prefix of non-empty tokens without whitespace or wildcards ("switchboard", "acme.prod").
bool is_valid_prefix(std::string_view prefix) noexcept;

struct subjects {
    explicit subjects(std::string prefix);

    std::string stored(std::string_view topic) const { return stored_ + topic_tokens(topic); }
    std::string live(std::string_view topic) const { return live_ + topic_tokens(topic); }
    /// The live subjects of every topic a valid pattern matches: its tokens as they are (a pattern's tokens
    /// are never empty, and its `*` and `>` are NATS' own; `*` also matches the "~" of an empty topic token).
    std::string live_pattern(std::string_view pattern) const { return live_ + std::string(pattern); }
    std::string stored_wildcard() const { return stored_ + ">"; }
    std::string live_wildcard() const { return live_ + ">"; }
    /// The topic of a stored or live subject of this prefix; nullopt for any other subject.
    std::optional<std::string> topic_of(std::string_view subject) const;
    /// A stream name from the prefix: every character outside [A-Za-z0-9-] becomes '_'.
    std::string stream_name() const;

    std::string prefix;

private:
    std::string stored_;  // "<prefix>.topic."
    std::string live_;    // "<prefix>.live."
};

}  // namespace switchboard::nats
