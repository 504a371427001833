#pragma once
// What nodes say to each other about presence over NATS (nats_presence.hpp), as text: no I/O, no state (tested
// with hand-made text in tests/unit/nats_presence_wire_test.cpp). Every message is one of:
//
//   "j " entry                       a member of the sender joined
//   "l <client> <topic>"             a member of the sender left
//   "h <members> <digest>"           heartbeat: the sender is alive, with this many members and this digest
//   "w <node>"                       asks node <node> ("*": every node) for all its members
//   "d <for> <total> <page> <last>"  a page of the sender's members (entries follow the line's space), asked
//                                    for by node <for> ("*": every node); <total> in all, <last> 1 on the last
//
// An entry is "<client> <topic> <user bytes> <info bytes> <user><info>": length-prefixed, so any user and any
// info (JSON text, which may hold spaces and line feeds) go through, and entries follow each other unseparated.
// Client ids are hex and topic names have no spaces (topic.hpp).

#include <switchboard/presence.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::nats {

struct presence_entry {
    std::string topic;
    presence_member member;
};

/// Appends `m` of `topic` as an entry.
void append_entry(std::string& out, std::string_view topic, presence_member const& m);
/// The entry at the start of `in`, which is advanced past it; nullopt (and `in` unspecified) when malformed.
std::optional<presence_entry> read_entry(std::string_view& in);

/// The next space-separated field of `in` (advanced past it and its space); empty when there is none.
std::string_view read_field(std::string_view& in);
/// `field` as an unsigned number; nullopt when it is not one.
std::optional<std::uint64_t> number_of(std::string_view field);

/// What a node's digest of its members mixes in for one member: a stable 64-bit hash of (client, topic), the
/// same on every node and every build. A digest is the XOR of its members', so adding and removing one is O(1)
/// and two nodes holding the same set of members agree on it whatever the order they learnt them.
std::uint64_t member_hash(std::string_view client, std::string_view topic) noexcept;

}  // namespace switchboard::nats
