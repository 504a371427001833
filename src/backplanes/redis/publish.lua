-- Publishes one message of a topic: the next offset, the next sequence, the append to its bounded history, the
-- topic index and the publish to the nodes, atomically, so offsets and sequences are the same on every node and
-- history has no hole. Keys and entry format: redis_scripts.hpp.
-- KEYS: position, history, sequence, topics, and the idempotency key's when the publish has one. ARGV: data, epoch
-- if new, max_messages, max_age_ms, position_ttl_s, channel, sequence epoch if new, max_indexed_topics, topic, and
-- the idempotency window in ms with the key.
-- Returns {offset, epoch, sequence}: a retry (a key recorded within the window) gets the first publish's, and
-- nothing is published. Checked and recorded in this one script, so two nodes' retries cannot both publish.
if KEYS[5] then
  local first = redis.call('GET', KEYS[5])
  if first then
    local o, e, s = string.match(first, '^(%d+) (%S+) (%d+)$')
    return {tonumber(o), e, tonumber(s)}
  end
end
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[2]
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))

-- The sequence, shared by every topic and node. A new sequence epoch starts an empty topic index.
local sequence_epoch = redis.call('HGET', KEYS[3], 'e')
if not sequence_epoch then
  sequence_epoch = ARGV[7]
  redis.call('DEL', KEYS[4])
  redis.call('HSET', KEYS[3], 'e', sequence_epoch, 's', 0, 'p', 0)
end
local sequence = redis.call('HINCRBY', KEYS[3], 's', 1)
if sequence > 1 and redis.call('EXISTS', KEYS[4]) == 0 then
  -- The index is gone (evicted): every topic published before now is one a resume can no longer name.
  redis.call('HSET', KEYS[3], 'p', sequence - 1)
end
-- The topic's previous sequence in this sequence epoch (0: none). The index remembers it also when the topic's
-- position is gone (a new topic epoch): a resume from before it then finds the topic's chain broken (lost).
local previous = tonumber(redis.call('ZSCORE', KEYS[4], ARGV[9]) or '0')
local known = redis.call('HMGET', KEYS[1], 'se', 'q')
if known[1] == sequence_epoch then
  previous = math.max(previous, tonumber(known[2] or '0'))
else
  redis.call('HSET', KEYS[1], 'se', sequence_epoch, 'sb', offset)  -- its older entries are of another
end
redis.call('HSET', KEYS[1], 'q', sequence)

-- The topic index: every topic by its last sequence, the oldest let go past max_indexed_topics (a resume from
-- before the newest one let go is not recovered, with nobody named).
redis.call('ZADD', KEYS[4], sequence, ARGV[9])
local excess = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[8])
if excess > 0 then
  local gone = redis.call('ZPOPMIN', KEYS[4], excess)
  local newest = tonumber(gone[#gone])
  if newest > tonumber(redis.call('HGET', KEYS[3], 'p') or '0') then
    redis.call('HSET', KEYS[3], 'p', newest)
  end
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entry = string.format('%d %s %d %d %d %s', offset, epoch, now, sequence, previous, ARGV[1])
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
if KEYS[5] then
  redis.call('SET', KEYS[5], string.format('%d %s %d', offset, epoch, sequence), 'PX', tonumber(ARGV[10]))
end
return {offset, epoch, sequence}
