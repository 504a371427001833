-- Adds a member to a topic's presence, for the node that owns it. Keys and formats: redis_scripts.hpp.
-- KEYS: present, members, users, expiry. ARGV: client, record, user, max_members, expiry_ms, presence channel,
-- topic.
-- Returns 1 (joined: the join event is published), 0 (present already: nothing) or -1 (max_members reached).
-- The count includes members expired but not swept yet: a dead node's seats free up at the next sweep.
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return -1
end
-- Redis' clock, not the node's: every node's expiries and every sweep compare times of one clock, so a node
-- whose clock runs ahead cannot sweep the others' live members (scripts replicate their effects, so TIME is
-- allowed here).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[5]), ARGV[1] .. ARGV[7])
redis.call('PUBLISH', ARGV[6], 'j ' .. ARGV[1] .. ' ' .. ARGV[7] .. ' ' .. ARGV[2])
return 1
