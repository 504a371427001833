#pragma once
// The server-side scripts of the Redis backplane. Each runs atomically in Redis, which is what makes a topic's
// offsets and history agree on every node.
//
// Keys per topic (the {topic} hash tag keeps both in one Redis Cluster slot):
//   <prefix>{<topic>}.position  hash: o = last offset, e = epoch; expires position_ttl after the last write
//   <prefix>{<topic>}.history   list of entries, newest first; bounded by count, trimmed by age
// Pub/sub channel per topic: <prefix><topic>. An entry and a pub/sub payload are the same text:
//   "<offset> <epoch> <unix time ms> <data>"   (data is the publisher's JSON text, line feeds and all: the
//   entry is read up to the third space, and the rest is the data)

namespace switchboard::redis {

// KEYS: position, history. ARGV: data, epoch if new, max_messages, max_age_ms, position_ttl_s, channel.
// Returns {offset, epoch}.
inline constexpr char publish_script[] = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entry = string.format('%d %s %d %s', offset, epoch, now, ARGV[1])
local max = tonumber(ARGV[3])
local age = tonumber(ARGV[4])
if max > 0 then
  redis.call('LPUSH', KEYS[2], entry)
  redis.call('LTRIM', KEYS[2], 0, max - 1)
  if age > 0 then
    while true do
      local oldest = redis.call('LINDEX', KEYS[2], -1)
      local at = oldest and tonumber(string.match(oldest, '^%d+ %S+ (%d+) '))
      if not at or at >= now - age then break end
      redis.call('RPOP', KEYS[2])
    end
    redis.call('PEXPIRE', KEYS[2], age)
  end
else
  redis.call('DEL', KEYS[2])
end
redis.call('PUBLISH', ARGV[6], entry)
return {offset, epoch}
)lua";

// KEYS: position, history. ARGV: since offset (-1: the position only), epoch if new, position_ttl_s, max_bytes.
// Returns {offset, epoch, unix time ms, entries oldest first}: the entries after `since`, while they total at
// most max_bytes (the first one always), read from the list's oldest wanted end in chunks, so a reader pages
// through a long history without Redis building (or the node holding) all of it. A topic seen for the first
// time gets its epoch here, so that a subscriber starting from now holds a position later publishes continue.
inline constexpr char history_script[] = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
local offset = tonumber(redis.call('HGET', KEYS[1], 'o') or '0')
local since = tonumber(ARGV[1])
local budget = tonumber(ARGV[4])
local entries = {}
if since >= 0 and since < offset then
  -- Newest first in the list: the entry after `since` is at index offset - since - 1, when the list is whole.
  local at = math.min(offset - since, redis.call('LLEN', KEYS[2])) - 1
  local bytes = 0
  while at >= 0 do
    local chunk = redis.call('LRANGE', KEYS[2], math.max(0, at - 63), at)
    for i = #chunk, 1, -1 do
      if #entries > 0 and bytes + #chunk[i] > budget then
        at = -1
        break
      end
      entries[#entries + 1] = chunk[i]
      bytes = bytes + #chunk[i]
    end
    at = at - 64
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return {offset, epoch, now, entries}
)lua";

}  // namespace switchboard::redis
