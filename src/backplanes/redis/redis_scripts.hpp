#pragma once
// The server-side scripts of the Redis backplane. Each runs atomically in Redis, which is what makes a topic's
// offsets and history agree on every node. Each lives in its own file beside this one (publish.lua,
// history.lua), checkable on its own with `redis-cli --eval`; CMake embeds their bytes at build time
// (switchboard_embed, re-run when a file changes), and tests/backplanes/redis_scripts_test.cpp checks that
// Redis compiles each one and that the backplane loads exactly these.
//
// Keys per topic (the {topic} hash tag keeps both in one Redis Cluster slot):
//   <prefix>{<topic>}.position  hash: o = last offset, e = epoch; expires position_ttl after the last write
//   <prefix>{<topic>}.history   list of entries, newest first; bounded by count, trimmed by age
// Pub/sub channel per topic: <prefix><topic>. An entry and a pub/sub payload are the same text:
//   "<offset> <epoch> <unix time ms> <data>"   (data is the publisher's JSON text, line feeds and all: the
//   entry is read up to the third space, and the rest is the data)

#include <array>
#include <string_view>

// Generated from publish.lua and history.lua (see CMakeLists.txt).
std::string_view switchboard_redis_publish_script();
std::string_view switchboard_redis_history_script();

namespace switchboard::redis {

/// publish.lua: the next offset, the append to history, the publish to the nodes. Returns {offset, epoch}.
inline std::string_view publish_script() { return switchboard_redis_publish_script(); }
/// history.lua: a topic's position and a page of its history after a position.
inline std::string_view history_script() { return switchboard_redis_history_script(); }

struct script_file {
    std::string_view file;  // its name in src/backplanes/redis/
    std::string_view text;  // the bytes embedded from it
};

/// Every script the backplane loads, for the tests that check them against their files.
inline std::array<script_file, 2> scripts()
{
    return {{{"publish.lua", publish_script()}, {"history.lua", history_script()}}};
}

}  // namespace switchboard::redis
