-- A page of a topic's members in client id order. Keys and formats: redis_scripts.hpp.
-- KEYS: present, members. ARGV: after (empty: from the first), limit.
-- Returns {more (0 or 1), client, record, client, record, ...}: at most `limit` members after `after`, and
-- whether more follow. `present` holds every client with score 0, so ZRANGEBYLEX walks them in byte order:
-- O(log n + limit), whatever joins or leaves behind the cursor.
local from = '-'
if ARGV[1] ~= '' then
  from = '(' .. ARGV[1]
end
local limit = tonumber(ARGV[2])
local clients = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, limit + 1)
local out = {0}
if #clients > limit then
  out[1] = 1
  clients[#clients] = nil
end
if #clients == 0 then
  return out
end
local records = redis.call('HMGET', KEYS[2], unpack(clients))
for i = 1, #clients do
  if records[i] then
    out[#out + 1] = clients[i]
    out[#out + 1] = records[i]
  end
end
return out
