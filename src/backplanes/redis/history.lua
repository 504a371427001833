-- Reads a topic's position and a page of its history. Keys and entry format: redis_scripts.hpp.
-- KEYS: position, history. ARGV: since offset (-1: the position only), epoch if new, position_ttl_s, max_bytes.
-- Returns {offset, epoch, unix time ms, entries oldest first}: the entries after `since`, while they total at
-- most max_bytes (the first one always), read from the list's oldest wanted end in chunks, so a reader pages
-- through a long history without Redis building (or the node holding) all of it. A topic seen for the first
-- time gets its epoch here, so that a subscriber starting from now holds a position later publishes continue.
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
