-- A topic's member counts. Keys: redis_scripts.hpp.
-- KEYS: present, users. Returns {clients, distinct users}: O(1). `users` counts members per user, the
-- anonymous ones under "" (each anonymous member is a user of its own).
local anonymous = tonumber(redis.call('HGET', KEYS[2], '') or '0')
local users = redis.call('HLEN', KEYS[2])
if anonymous > 0 then
  users = users - 1 + anonymous
end
return {redis.call('ZCARD', KEYS[1]), users}
