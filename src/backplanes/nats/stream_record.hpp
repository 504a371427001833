#pragma once
// One record of the history stream as a node reads it, whichever way it came: a direct get, a republished live
// message, a push consumer's delivery. A record holds one message of a topic, or several in a row (a node
// publishes what queued up behind its topic's last publish as one record: jetstream_backplane.hpp). The stored
// headers carry switchboard's position and the link to the topic's previous record; the stream adds its
// sequence and time.
//
//   Switchboard-Offset: N                        the offset of the record's (first) message in its topic
//   Switchboard-Sizes: a,b,c                     several messages: their sizes, in order; the body is their
//                                                payloads one after another, and their offsets N, N+1, N+2
//   Switchboard-Epoch: E                         the topic's epoch
//   Nats-Expected-Last-Subject-Sequence: P       the stream sequence of the topic's previous record (0: none),
//                                                checked by JetStream at publish, stored with the message
//   Nats-Sequence / Nats-Time-Stamp              added by direct gets (Nats-Sequence also by republish)
//   reply "$JS.ACK.<stream>.<consumer>.<delivered>.<seq>.<cseq>.<ns>.<pending>"   a push consumer's delivery

#include <switchboard/message.hpp>

#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::nats {

inline constexpr char offset_header[] = "Switchboard-Offset";
inline constexpr char epoch_header[] = "Switchboard-Epoch";
inline constexpr char sizes_header[] = "Switchboard-Sizes";
inline constexpr char expected_header[] = "Nats-Expected-Last-Subject-Sequence";
// JetStream's duplicate detection: a publish whose id the stream saw within its duplicate window is not stored,
// and its PubAck says "duplicate" with the first one's stream sequence.
inline constexpr char msg_id_header[] = "Nats-Msg-Id";

// A message's sequence on this backplane (message::sequence, a pattern's position) is its record's stream
// sequence and its place in the record: sequence = stream sequence * 256 + index. Index 255 is never a
// message's: (S, 255) is the position after all of record S.
inline constexpr unsigned record_index_bits = 8;
inline constexpr std::uint64_t record_end = (1u << record_index_bits) - 1;
/// At most this many messages in one record, and this many bytes of payloads (unless NATS or the stream take
/// less) in a record of several.
inline constexpr std::size_t max_record_messages = record_end;
inline constexpr std::size_t max_record_bytes = 128 * 1024;

constexpr std::uint64_t message_sequence(std::uint64_t record_seq, std::uint64_t index)
{
    return record_seq << record_index_bits | index;
}
constexpr std::uint64_t record_of(std::uint64_t sequence)
{
    return sequence >> record_index_bits;
}
constexpr std::uint64_t index_in_record(std::uint64_t sequence)
{
    return sequence & record_end;
}

struct stream_record {
    std::uint64_t offset = 0;    // its first message's; 0: an epoch marker (no message)
    std::string epoch;
    std::uint64_t seq = 0;       // its stream sequence
    std::uint64_t prev = 0;      // the stream sequence of the topic's previous record (0: none)
    std::int64_t at_ms = 0;      // when the stream stored it (0: not told)
    std::uint64_t consumer_seq = 0;  // push consumer deliveries: 1, 2, 3... (a hole means a dropped message)
    std::uint64_t pending = 0;       // push consumer deliveries: how many more match after this one
    std::string data;                // the body: one payload, or several one after another (sizes)
    std::vector<std::uint32_t> sizes;  // several messages: each one's size; empty: one message

    std::size_t count() const noexcept { return sizes.empty() ? 1 : sizes.size(); }
    /// The offset of its last message.
    std::uint64_t last_offset() const noexcept { return offset + count() - 1; }
    /// Its messages of `topic`, oldest first, each with its offset and sequence; none for an epoch marker.
    std::vector<message_ptr> messages(std::string const& topic) const;
};

/// The wall clock in the unit of stream_record::at_ms, to judge a record's age against history's max_age.
std::int64_t now_ms();

/// The body and Switchboard-Sizes value of a record of several payloads.
std::string join_payloads(std::vector<std::string_view> const& payloads, std::string& sizes);

/// A direct get's answer or a republished message; nullopt when a header is missing or malformed.
std::optional<stream_record> parse_stored(natsMsg* m);
/// A push consumer's delivery (sequence, time and pending from its reply subject).
std::optional<stream_record> parse_delivery(natsMsg* m);

}  // namespace switchboard::nats
