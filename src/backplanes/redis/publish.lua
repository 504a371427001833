-- Publishes one message of a topic: the next offset, the append to its bounded history and the publish to the
-- nodes, atomically, so offsets are the same on every node and history has no hole. Keys and entry format:
-- redis_scripts.hpp.
-- KEYS: position, history. ARGV: data, epoch if new, max_messages, max_age_ms, position_ttl_s, channel.
-- Returns {offset, epoch}.
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
