-- Reads a pattern's history after a sequence: a page of the messages of every indexed topic the pattern matches,
-- in sequence order, and the topics whose messages after it are partly gone. Keys and entry format:
-- redis_scripts.hpp.
-- KEYS: sequence, topics. ARGV: pattern, since sequence (-1: the sequence only), since epoch, sequence epoch if
-- new, max_topics, max_bytes, key prefix, default max_age_ms, then pairs of a topic prefix and its max_age_ms
-- (history_options' rules: the longest matching prefix wins, the later of two equal ones).
-- Returns {sequence, epoch, past, status, lost topics, {topic, entry, topic, entry, ...} in sequence order, more}:
-- past is the newest sequence the index let go (a resume from before it is not recovered); status 0 read,
-- 1 too many topics, 2 `since` is of another epoch or past the sequence (nothing read).
--
-- What one call makes Redis build is bounded: the index entries after `since` (at most max_indexed_topics), a
-- binary search per matched topic (LINDEX), and the page plus one chunk per matched topic.
local function tokens(s)
  local out = {}
  local from = 1
  while true do
    local dot = string.find(s, '.', from, true)
    if not dot then
      out[#out + 1] = string.sub(s, from)
      return out
    end
    out[#out + 1] = string.sub(s, from, dot - 1)
    from = dot + 1
  end
end

-- NATS semantics, as pattern_matches (src/core/topic.cpp): `*` one token, `>` (last only) one or more.
local function matches(pattern_tokens, topic)
  local t = tokens(topic)
  for i = 1, #pattern_tokens do
    local want = pattern_tokens[i]
    if want == '>' then return #t >= i end
    if i > #t then return false end
    if want ~= '*' and want ~= t[i] then return false end
  end
  return #t == #pattern_tokens
end

local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 's', 0, 'p', 0)
end
local state = redis.call('HMGET', KEYS[1], 's', 'p')
local last = tonumber(state[1] or '0')
local past = tonumber(state[2] or '0')
local since = tonumber(ARGV[2])
if since < 0 then
  return {last, epoch, past, 0, {}, {}, 0}
end
local same_epoch = ARGV[3] == epoch or (ARGV[3] == '' and since == 0)
if not same_epoch or since > last then
  return {last, epoch, past, 2, {}, {}, 0}
end

-- The topics published after `since`, newest first, that the pattern matches.
local pattern = tokens(ARGV[1])
local max_topics = tonumber(ARGV[5])
local indexed = redis.call('ZREVRANGEBYSCORE', KEYS[2], '+inf', '(' .. ARGV[2], 'WITHSCORES')
local matched = {}
for i = 1, #indexed, 2 do
  if matches(pattern, indexed[i]) then
    if #matched == max_topics then
      return {last, epoch, past, 1, {}, {}, 0}
    end
    matched[#matched + 1] = {name = indexed[i], last = tonumber(indexed[i + 1])}
  end
end

local function max_age_of(topic)
  local age = tonumber(ARGV[8])
  local best = 0
  for i = 9, #ARGV, 2 do
    local prefix = ARGV[i]
    if #prefix >= best and string.sub(topic, 1, #prefix) == prefix then
      age = tonumber(ARGV[i + 1])
      best = #prefix
    end
  end
  return age
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- "<offset> <epoch> <unix ms> <sequence> <previous> <data>"
local function parse(entry)
  local offset, entry_epoch, at, sequence, previous, rest =
    string.match(entry, '^(%d+) (%S+) (%d+) (%d+) (%d+) ()')
  if not offset then return nil end
  return {offset = tonumber(offset), epoch = entry_epoch, at = tonumber(at), sequence = tonumber(sequence),
          previous = tonumber(previous), data = #entry - rest + 1, text = entry}
end

local lost = {}
local heads = {}  -- per topic with messages after `since`: where its oldest unread one is, and its list
for _, topic in ipairs(matched) do
  local key = ARGV[7] .. '{' .. topic.name .. '}.'
  local history = key .. 'history'
  local position = redis.call('HMGET', key .. 'position', 'e', 'o', 'se', 'sb')
  local count = 0
  local oldest
  if position[1] and position[3] == epoch then
    local offset = tonumber(position[2])
    local first = tonumber(position[4] or offset)  -- the topic's first offset of this sequence epoch
    local oldest_at = now - max_age_of(topic.name)
    -- Newest first: entry i is offset - i while the list is whole. The entries a resume wants are a prefix of
    -- the list (this epoch, consecutive offsets, after `since`, young enough): found by binary search.
    local function wanted(i)
      local e = parse(redis.call('LINDEX', history, i) or '')
      if e and e.epoch == position[1] and e.offset == offset - i and e.offset >= first and e.sequence > since and
         e.at >= oldest_at then
        return e
      end
      return nil
    end
    local low, high = 0, math.min(redis.call('LLEN', history), offset - first + 1)
    while low < high do  -- the count of wanted entries is in [low, high]
      local middle = math.floor((low + high + 1) / 2)
      local e = wanted(middle - 1)
      if e then
        low = middle
        oldest = e
      else
        high = middle - 1
      end
    end
    count = low
    if count > 0 and (not oldest or oldest.offset ~= offset - count + 1) then
      oldest = wanted(count - 1)
    end
  end
  -- Its messages after `since` are partly gone: the one before the oldest held was after `since`, or it holds
  -- none of them though it had some.
  if (count > 0 and oldest.previous > since) or (count == 0 and topic.last > since) then
    lost[#lost + 1] = topic.name
  end
  if count > 0 then
    heads[#heads + 1] = {name = topic.name, history = history, at = count - 1, chunk = {}, next = 0}
  end
end

-- The head's next entry, read from its list in chunks of 64, oldest first.
local function peek(head)
  if head.next == 0 then
    if head.at < 0 then return nil end
    local from = math.max(0, head.at - 63)
    head.chunk = redis.call('LRANGE', head.history, from, head.at)
    head.next = #head.chunk
    head.at = from - 1
  end
  if head.entry == nil then
    head.entry = parse(head.chunk[head.next])
  end
  return head.entry
end

local function advance(head)
  head.next = head.next - 1
  head.entry = nil
end

-- A binary heap of heads by their next entry's sequence: the page is merged in sequence order.
local heap = {}
local function less(a, b) return peek(heap[a]).sequence < peek(heap[b]).sequence end
local function swap(a, b) heap[a], heap[b] = heap[b], heap[a] end
local function up(i)
  while i > 1 and less(i, math.floor(i / 2)) do
    swap(i, math.floor(i / 2))
    i = math.floor(i / 2)
  end
end
local function down(i)
  while true do
    local smallest = i
    for _, child in ipairs({2 * i, 2 * i + 1}) do
      if child <= #heap and less(child, smallest) then smallest = child end
    end
    if smallest == i then return end
    swap(i, smallest)
    i = smallest
  end
end
for _, head in ipairs(heads) do
  if peek(head) then
    heap[#heap + 1] = head
    up(#heap)
  end
end

-- The page: while its messages total at most max_bytes, counted below their envelopes' size (the topic and the
-- data, and 40 bytes), so the node, which counts envelopes, cuts it exactly.
local budget = tonumber(ARGV[6])
local bytes = 0
local page = {}
local more = 0
while #heap > 0 do
  local head = heap[1]
  local e = peek(head)
  bytes = bytes + #head.name + e.data + 40
  if #page > 0 and bytes > budget then
    more = 1
    break
  end
  page[#page + 1] = head.name
  page[#page + 1] = e.text
  advance(head)
  if not peek(head) then  -- its last wanted entry (or one that is not an entry: what follows is not read)
    heap[1] = heap[#heap]
    heap[#heap] = nil
  end
  if #heap > 0 then down(1) end
end
return {last, epoch, past, 0, lost, page, more}
