#pragma once
// What the Redis backplane's presence scripts store and publish, and back: no I/O, no state (tested with
// hand-made text in tests/unit/redis_presence_codec_test.cpp).
//
// A member's record (the value of <prefix>{<topic>}.members, and the tail of every event):
//   "<node> <user bytes> <user><info>"
// the owning node's id (8 letters and digits), the user's length in bytes, the user, then the info (JSON text).
// Length-prefixed rather than JSON so that the scripts find the user (to count distinct users) with two
// string.find calls, with no JSON decode inside Redis (its cost, its nesting limit) and no escaping: any user and
// any info go through.
// An event on the presence channel: "<j|l> <client> <topic> <record>" (client ids are hex and topic names have
// no spaces, topic.hpp).

#include <switchboard/presence.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::redis {

std::string presence_record(std::string_view node, presence_member const& m);
/// The member `client` whose record is `record`; nullopt when it is not a record.
std::optional<presence_member> presence_member_of(std::string_view client, std::string_view record);
/// The event published on the presence channel; null when malformed.
presence_event_ptr presence_event_of(std::string_view payload);

}  // namespace switchboard::redis
