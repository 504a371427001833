-- Removes a member from a topic's presence. Keys and formats: redis_scripts.hpp.
-- KEYS: present, members, users, expiry. ARGV: client, presence channel, topic.
-- Returns 1 (it left: the leave event is published) or 0 (it was not a member: nothing, so a leave the sweep
-- made already is not made twice).
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local record = redis.call('HGET', KEYS[2], ARGV[1]) or ''
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1] .. ARGV[3])
-- record: "<node> <user bytes> <user><info>"
local node_end = string.find(record, ' ', 1, true) or 0
local length_end = string.find(record, ' ', node_end + 1, true) or node_end
local user = string.sub(record, length_end + 1, length_end + (tonumber(string.sub(record, node_end + 1, length_end - 1)) or 0))
if redis.call('HINCRBY', KEYS[3], user, -1) <= 0 then
  redis.call('HDEL', KEYS[3], user)
end
redis.call('PUBLISH', ARGV[2], 'l ' .. ARGV[1] .. ' ' .. ARGV[3] .. ' ' .. record)
return 1
