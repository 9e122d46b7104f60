/**
 * The Lua scripts. Each runs atomically, so "store + publish" and "prune + read" can never interleave with another
 * instance's writes. Expiry times come from the Redis server's clock (TIME), not from each instance's, so clock
 * skew between service instances cannot make an entry live longer or shorter than its TTL.
 *
 * Expired entries never show: `list` only returns members whose expiry is in the future. They are physically
 * removed by the next `announce` of the document (ZREMRANGEBYSCORE + HDEL), and both keys carry a PEXPIRE just
 * past their newest entry, so a document everybody left silently disappears from Redis on its own.
 */

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** KEYS: clients, states. ARGV: clientId, state JSON, ttl ms, channel, event JSON. */
export const ANNOUNCE = `${NOW}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(expired) do redis.call('HDEL', KEYS[2], id) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local keyTtl = math.max(1, tonumber(newest[2]) - now) + 1000
redis.call('PEXPIRE', KEYS[1], keyTtl)
redis.call('PEXPIRE', KEYS[2], keyTtl)
redis.call('PUBLISH', ARGV[4], ARGV[5])
return #expired
`;

/** KEYS: clients, states. ARGV: clientId, channel, event JSON. */
export const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

/** KEYS: clients, states. Returns the state JSON of every member whose expiry is after now. Read-only. */
export const LIST = `${NOW}
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', now), '+inf')
local out = {}
for i = 1, #live, 500 do
  local states = redis.call('HMGET', KEYS[2], unpack(live, i, math.min(i + 499, #live)))
  for _, s in ipairs(states) do if s then out[#out + 1] = s end end
end
return out
`;
