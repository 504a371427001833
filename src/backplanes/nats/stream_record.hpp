#pragma once
// One message of the history stream as a node reads it, whichever way it came: a direct get, a republished live
// message, a push consumer's delivery. The stored headers carry switchboard's position and the link to the
// topic's previous message; the stream adds its sequence and time.
//
//   Switchboard-Offset: N                        the message's offset in its topic
//   Switchboard-Epoch: E                         the topic's epoch
//   Nats-Expected-Last-Subject-Sequence: P       the stream sequence of the topic's previous message (0: none),
//                                                checked by JetStream at publish, stored with the message
//   Nats-Sequence / Nats-Time-Stamp              added by direct gets (Nats-Sequence also by republish)
//   reply "$JS.ACK.<stream>.<consumer>.<delivered>.<seq>.<cseq>.<ns>.<pending>"   a push consumer's delivery

#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::nats {

inline constexpr char offset_header[] = "Switchboard-Offset";
inline constexpr char epoch_header[] = "Switchboard-Epoch";
inline constexpr char expected_header[] = "Nats-Expected-Last-Subject-Sequence";
// JetStream's duplicate detection: a publish whose id the stream saw within its duplicate window is not stored,
// and its PubAck says "duplicate" with the first one's stream sequence.
inline constexpr char msg_id_header[] = "Nats-Msg-Id";

struct stream_record {
    std::uint64_t offset = 0;
    std::string epoch;
    std::uint64_t seq = 0;       // its stream sequence
    std::uint64_t prev = 0;      // the stream sequence of the topic's previous message (0: none)
    std::int64_t at_ms = 0;      // when the stream stored it (0: not told)
    std::uint64_t consumer_seq = 0;  // push consumer deliveries: 1, 2, 3... (a hole means a dropped message)
    std::uint64_t pending = 0;       // push consumer deliveries: how many more match after this one
    std::string data;
};

/// The wall clock in the unit of stream_record::at_ms, to judge a record's age against history's max_age.
std::int64_t now_ms();

/// A direct get's answer or a republished message; nullopt when a header is missing or malformed.
std::optional<stream_record> parse_stored(natsMsg* m);
/// A push consumer's delivery (sequence, time and pending from its reply subject).
std::optional<stream_record> parse_delivery(natsMsg* m);

}  // namespace switchboard::nats
