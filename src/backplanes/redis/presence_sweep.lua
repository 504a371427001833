-- Removes members whose node stopped refreshing them (it died) and publishes their leave events. Every live
-- node runs it on a timer; it is atomic, so each expired member is removed, and its leave published, by one of
-- them only. Keys and formats: redis_scripts.hpp.
-- KEYS: expiry. ARGV: key prefix, presence channel, limit.
-- Returns how many it removed (`limit` of them at most, so one call holds Redis for a bounded time; the node
-- sweeps again at once when it got that many).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, entry in ipairs(expired) do
  redis.call('ZREM', KEYS[1], entry)
  local client = string.sub(entry, 1, 32)
  local topic = string.sub(entry, 33)
  local base = ARGV[1] .. '{' .. topic .. '}.'
  if redis.call('ZREM', base .. 'present', client) == 1 then
    local record = redis.call('HGET', base .. 'members', client) or ''
    redis.call('HDEL', base .. 'members', client)
    local node_end = string.find(record, ' ', 1, true) or 0
    local length_end = string.find(record, ' ', node_end + 1, true) or node_end
    local user = string.sub(record, length_end + 1, length_end + (tonumber(string.sub(record, node_end + 1, length_end - 1)) or 0))
    if redis.call('HINCRBY', base .. 'users', user, -1) <= 0 then
      redis.call('HDEL', base .. 'users', user)
    end
    redis.call('PUBLISH', ARGV[2], 'l ' .. client .. ' ' .. topic .. ' ' .. record)
  end
end
return #expired
