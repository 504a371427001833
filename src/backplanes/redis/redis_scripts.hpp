#pragma once
// The server-side scripts of the Redis backplane. Each runs atomically in Redis, which is what makes a topic's
// offsets, the sequence and history agree on every node. Each lives in its own file beside this one
// (publish.lua, history.lua, pattern_history.lua, presence_*.lua), checkable on its own with `redis-cli --eval`; CMake embeds
// their bytes at build time (switchboard_embed, re-run when a file changes), and
// tests/backplanes/redis_scripts_test.cpp checks that Redis compiles each one and that the backplane loads
// exactly these.
//
// Keys per topic (the {topic} hash tag keeps both in one Redis Cluster slot):
//   <prefix>{<topic>}.position  hash: o = last offset, e = epoch, q = the sequence of its last message,
//                               se = the sequence epoch of q, sb = its first offset in that sequence epoch;
//                               expires position_ttl after the last write
//   <prefix>{<topic>}.history   list of entries, newest first; bounded by count, trimmed by age
// Keys shared by every topic and node (pattern resumes, backplane::pattern_history):
//   <prefix>sequence            hash: s = the last sequence given, e = the sequence epoch (made when missing, and
//                               then the index starts empty), p = the newest sequence the index let go; no TTL
//   <prefix>topics              sorted set: each topic by the sequence of its last message; at most
//                               redis_options::max_indexed_topics, the oldest let go first (recorded in p); no TTL
// Presence (presence_*.lua; redis_presence.hpp, presence_codec.hpp for the record and event formats):
//   <prefix>{<topic>}.present   sorted set: the topic's member client ids, every score 0, so ZRANGEBYLEX pages
//                               them in client id order (a score per expiry would lose that order)
//   <prefix>{<topic>}.members   hash: client id -> the member's record (its node, user and info)
//   <prefix>{<topic>}.users     hash: user -> members of that user ("": the anonymous ones), for distinct users
//                               in O(1): one field per distinct user
//   <prefix>presence.expiry     sorted set shared by every topic: "<client><topic>" by expiry time (Redis' clock,
//                               unix ms; client ids are 32 characters, so the topic starts at the 33rd); the
//                               owning node pushes it back, the sweep removes what is past
// Presence events go to one pub/sub channel every node subscribes to, <prefix>#presence (never a topic's: '#'
// is no topic character). The keys go with their last member; no TTL (the sweep bounds them).
// (pattern_history.lua and presence_sweep.lua build the per-topic keys of the topics it reads from the prefix, which Redis Cluster
// does not allow: like pub/sub, it needs one Redis per deployment, docs/scaling.md.)
// Pub/sub channel per topic: <prefix><topic>. An entry and a pub/sub payload are the same text:
//   "<offset> <epoch> <unix time ms> <sequence> <previous> <data>"   (previous: the sequence of the topic's
//   message before, 0 when none in this sequence epoch; data is the publisher's JSON text, line feeds and all:
//   the entry is read up to the fifth space, and the rest is the data). Entries of versions before sequences,
//   "<offset> <epoch> <unix time ms> <data>", are read with sequence 0.

#include <array>
#include <string_view>

// Generated from the .lua files beside this one (see CMakeLists.txt).
std::string_view switchboard_redis_publish_script();
std::string_view switchboard_redis_history_script();
std::string_view switchboard_redis_pattern_history_script();
std::string_view switchboard_redis_presence_join_script();
std::string_view switchboard_redis_presence_leave_script();
std::string_view switchboard_redis_presence_members_script();
std::string_view switchboard_redis_presence_stats_script();
std::string_view switchboard_redis_presence_refresh_script();
std::string_view switchboard_redis_presence_sweep_script();

namespace switchboard::redis {

/// publish.lua: the next offset and sequence, the append to history and the topic index, the publish to the
/// nodes. Returns {offset, epoch, sequence}.
inline std::string_view publish_script() { return switchboard_redis_publish_script(); }
/// history.lua: a topic's position and a page of its history after a position.
inline std::string_view history_script() { return switchboard_redis_history_script(); }
/// pattern_history.lua: the sequence and a page of a pattern's history after a sequence.
inline std::string_view pattern_history_script() { return switchboard_redis_pattern_history_script(); }

/// presence_join.lua: adds a member (refused past max_members), publishes its join. 1 joined, 0 present, -1 full.
inline std::string_view presence_join_script() { return switchboard_redis_presence_join_script(); }
/// presence_leave.lua: removes a member, publishes its leave. 1 left, 0 was not there.
inline std::string_view presence_leave_script() { return switchboard_redis_presence_leave_script(); }
/// presence_members.lua: a page of members after a client id.
inline std::string_view presence_members_script() { return switchboard_redis_presence_members_script(); }
/// presence_stats.lua: {clients, distinct users}.
inline std::string_view presence_stats_script() { return switchboard_redis_presence_stats_script(); }
/// presence_refresh.lua: pushes back a node's members' expiry; answers the ones gone.
inline std::string_view presence_refresh_script() { return switchboard_redis_presence_refresh_script(); }
/// presence_sweep.lua: removes expired members and publishes their leave events.
inline std::string_view presence_sweep_script() { return switchboard_redis_presence_sweep_script(); }

struct script_file {
    std::string_view file;  // its name in src/backplanes/redis/
    std::string_view text;  // the bytes embedded from it
};

/// Every script the backplane loads, for the tests that check them against their files.
inline std::array<script_file, 9> scripts()
{
    return {{{"publish.lua", publish_script()},
             {"history.lua", history_script()},
             {"pattern_history.lua", pattern_history_script()},
             {"presence_join.lua", presence_join_script()},
             {"presence_leave.lua", presence_leave_script()},
             {"presence_members.lua", presence_members_script()},
             {"presence_stats.lua", presence_stats_script()},
             {"presence_refresh.lua", presence_refresh_script()},
             {"presence_sweep.lua", presence_sweep_script()}}};
}

}  // namespace switchboard::redis
