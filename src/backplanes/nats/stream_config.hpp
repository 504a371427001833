#pragma once
// The JetStream stream that holds switchboard's history, and how it is made from switchboard's options.
//
// One stream per prefix (default "switchboard"), over "<prefix>.topic.>", file storage, limits retention:
//   max_msgs_per_subject  the largest history.max_messages of any rule (at least 1: a topic's last message is
//                         its position); smaller per-topic limits are applied when history is read
//   max_age               jetstream_options::position_ttl, at least every history.max_age: a topic's last message
//                         must outlive its history, because it carries the topic's position; per-topic ages
//                         are applied when history is read (nats-server 2.9 has no per-subject age)
//   max_bytes             jetstream_options::max_bytes: the total bound of all history (discard old)
//   allow_direct          history reads are direct gets ($JS.API.DIRECT.GET.<stream>), no consumer
//   duplicate_window      history.idempotency_window (at most max_age, at least 1 ms): how long the stream
//                         remembers a publish's Nats-Msg-Id, the topic and its idempotency key
//   republish             "<prefix>.topic.>" -> "<prefix>.live.>": each stored message is republished, in
//                         stream order, with Nats-Sequence and Nats-Last-Sequence (the previous message of the
//                         same subject): what nodes subscribe to for live delivery and gap detection

#include <switchboard/history_options.hpp>

#include "backplanes/nats/subject.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace switchboard::nats {

struct jetstream_options {
    /// Subject prefix (tokens, see subject.hpp); several deployments share one NATS with different prefixes.
    std::string prefix = "switchboard";
    /// The stream's name; empty: made from the prefix ("switchboard").
    std::string stream;
    /// "file" (survives a server restart) or "memory".
    std::string storage = "file";
    int replicas = 1;
    /// How long a topic's last message (its position) is kept after it was published: the stream's max_age.
    std::chrono::seconds position_ttl{86'400};
    /// All history together, in bytes (-1: no bound but the server's own). The oldest messages go first.
    std::int64_t max_bytes = -1;
    /// The largest message the stream takes, in bytes (-1: the server's max_payload).
    std::int32_t max_message_size = -1;
    /// Create the stream when it is missing, and update its limits when they differ. false: expect it.
    bool manage_stream = true;
    /// Publishes waiting (all topics); past it, publishes are refused with nats_error::overloaded.
    std::size_t max_pending_publishes = 100'000;
    /// A publish that loses the race for its topic's next offset this many times in a row fails (conflict).
    int max_conflicts = 32;
    /// Live messages a topic holds while its node reads the ones it missed; past it, the topic has a gap.
    std::size_t max_held = 10'000;
    /// Bytes of recent messages kept for history reads (nats_options::recent_bytes).
    std::size_t recent_bytes = 16 * 1024 * 1024;
    /// Topics followed through patterns (nats_options::max_pattern_topics).
    std::size_t max_pattern_topics = 10'000;
    /// How often the stream is looked for again while it cannot be found or made, and failed catch-ups retried.
    std::chrono::milliseconds stream_retry{1'000};
};

/// The stream configuration (the JSON of $JS.API.STREAM.CREATE / UPDATE).
nlohmann::json stream_config(subjects const& names, std::string const& stream, jetstream_options const& options,
                             history_options const& history);

/// What must be changed for `have` (a stream's current config) to serve as `want`: "" when nothing,
/// "update" when only limits differ (STREAM.UPDATE fixes them), or why it cannot serve (subjects or republish
/// differ: a stream update cannot change republish in nats-server 2.9).
std::string stream_difference(nlohmann::json const& have, nlohmann::json const& want);

/// The request ($JS.API.CONSUMER.CREATE.<stream>) for the short-lived push consumer a long history read uses: the
/// stream's messages on `filter` from sequence `start` on, pushed to `deliver_subject` at once, unacknowledged, in
/// memory; the server removes it after `inactive` should the node not delete it.
nlohmann::json reader_consumer_request(std::string const& stream, std::string const& deliver_subject,
                                       std::uint64_t start, std::string const& filter,
                                       std::chrono::milliseconds inactive);

}  // namespace switchboard::nats
