-- Pushes back the expiry of members a live node owns. Keys and formats: redis_scripts.hpp.
-- KEYS: expiry. ARGV: expiry_ms, then entries ("<client><topic>").
-- Returns the entries that are not there any more (swept while the node was stalled, or Redis lost its data):
-- the node joins them again, so that what every node was told (a leave) and what is true agree again.
-- The node sends its members in batches (redis_options: presence_refresh_batch), so one call holds Redis for
-- a bounded time.
local t = redis.call('TIME')
local expires = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local missing = {}
for i = 2, #ARGV do
  if redis.call('ZADD', KEYS[1], 'XX', 'CH', expires, ARGV[i]) == 0 and not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    missing[#missing + 1] = ARGV[i]
  end
end
return missing
