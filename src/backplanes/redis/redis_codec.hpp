#pragma once
// The Redis backplane's wire codec: the answers of its scripts (hiredis replies) and the entries they store and
// publish, turned into positions, messages and history results; and the key and channel names of a topic. No
// I/O and no state, so tests feed it hand-made replies (tests/unit/redis_codec_test.cpp).
//
// Entry format, keys and script answers: redis_scripts.hpp.

#include <switchboard/backplane.hpp>
#include <switchboard/message.hpp>
#include <switchboard/position.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct redisReply;

namespace switchboard::redis {

/// A reply's string (a status, an error or a bulk string).
std::string_view text(redisReply const* r);
/// True for no reply (the connection ended) or an error reply.
bool is_error(redisReply const* r);

/// "<offset> <epoch> <unix ms> <sequence> <previous> <data>": the entry a publish stores and sends. `previous` is
/// the sequence of the topic's message before it in the same sequence epoch (0: none known).
struct entry {
    std::uint64_t offset = 0;
    std::string_view epoch;
    std::int64_t at_ms = 0;
    std::uint64_t sequence = 0;  // 0 for an entry of an older version, "<offset> <epoch> <unix ms> <data>"
    std::uint64_t previous = 0;
    std::string_view data;  // the rest, line feeds and spaces included; never empty
};
/// Nullopt when `s` is not an entry. An entry written before sequences (no sequence and previous) is read with
/// sequence 0: its data is JSON text or binary_prefix..., never two numbers and a space, so the two cannot be
/// confused.
std::optional<entry> parse_entry(std::string_view s);

/// publish.lua's answer {offset, epoch, sequence}; nullopt for an error or anything else.
std::optional<position> publish_reply(redisReply const* r);

/// history.lua's answer {offset, epoch, unix ms, entries oldest first} as the result of a read of `topic` after
/// `since`; nullopt when the reply is not that. Only a run of consecutive offsets of the topic's current epoch,
/// younger than `max_age`, is history, and the page ends before its envelopes exceed `max_bytes` (the first
/// message always), as backplane::history promises: the script bounds its page by entry bytes, fewer than
/// envelope bytes, so it sends this page and perhaps a few more messages, which are left out.
std::optional<history_result> history_reply(std::string const& topic, std::optional<position> const& since,
                                            std::chrono::seconds max_age, std::size_t max_bytes, redisReply const* r);

/// pattern_history.lua's answer as the result of a read after `since`: the messages (each with its sequence),
/// cut to envelopes totalling at most `max_bytes` (the first always; the script over-sends a little, as
/// history.lua does), `lost`, `recovered`, `more`. Nullopt when the reply is not that, or (too_many_topics set)
/// when the pattern matched more topics than asked.
struct pattern_reply {
    bool too_many_topics = false;
    pattern_history_result result;
};
std::optional<pattern_reply> pattern_history_reply(std::optional<position> const& since, std::size_t max_bytes,
                                                   redisReply const* r);

/// A message as it arrives on a topic's pub/sub channel (an entry); null when malformed.
message_ptr live_message(std::string const& topic, std::string_view payload);

/// Where a topic lives in Redis. The prefix keeps deployments sharing one Redis apart.
struct redis_names {
    std::string prefix;

    /// <prefix>{<topic>}.<what>: the {topic} hash tag keeps a topic's keys in one Redis Cluster slot.
    std::string key(std::string_view topic, std::string_view what) const;
    /// <prefix><what>: a key shared by every topic (the sequence, the topic index).
    std::string shared_key(std::string_view what) const { return prefix + std::string(what); }
    /// <prefix><topic>: the topic's pub/sub channel.
    std::string channel(std::string_view topic) const;
    /// The Redis glob (PSUBSCRIBE) that covers every channel of a topic the valid `pattern` matches: the
    /// prefix and literal tokens escaped, each wildcard token (`*` or `>`) a glob `*`. A superset: Redis' `*`
    /// crosses dots, so "a.*" also covers a.b.c, and "a.*" and "a.>" share a glob; the node filters with
    /// pattern_matches. Several patterns may map to one glob.
    std::string glob(std::string_view pattern) const;
    /// The topic of a pub/sub channel; nullopt when the channel is not one of this prefix.
    std::optional<std::string_view> topic_of(std::string_view channel) const;
};

}  // namespace switchboard::redis
