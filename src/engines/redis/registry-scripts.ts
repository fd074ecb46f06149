import { Script } from './script.js';

// Milliseconds by the Redis clock, so every node agrees on when something expires.
const now = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// A set of registration ids scored by expiry lives exactly as long as its longest member.
const keepSet = `
local function keep(key)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #top == 0 then return end
  if top[2] == 'inf' then redis.call('PERSIST', key)
  else redis.call('PEXPIREAT', key, string.format('%d', math.ceil(tonumber(top[2])))) end
end
`;

/**
 * Reserves a place in the user's set, or refuses past the per-user limit (expired ids do not
 * count). KEYS: user set. ARGV: id, max, ttlMs. Returns {1|0, ids held before}.
 */
export const reserveScript = new Script(`${now}${keepSet}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and held >= tonumber(ARGV[2]) then
  return {0, held}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
keep(KEYS[1])
return {1, held}
`, 1);

/**
 * Rescores an id in a set of registrations. KEYS: set. ARGV: id, mode, ttlMs; mode is add
 * (expires in ttl), connected (never expires), disconnected (expires in ttl, only if present)
 * or remove.
 */
export const rescoreScript = new Script(`${now}${keepSet}
local mode = ARGV[2]
if mode == 'remove' then redis.call('ZREM', KEYS[1], ARGV[1])
elseif mode == 'connected' then redis.call('ZADD', KEYS[1], 'XX', '+inf', ARGV[1])
elseif mode == 'disconnected' then redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[3]), ARGV[1])
else redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
keep(KEYS[1])
return 1
`, 1);

/**
 * The socket opened (TTL stops) or closed (TTL starts again). KEYS: registration.
 * ARGV: connected|disconnected, ttlMs. Returns the owner (String(userId)) or nil when gone.
 */
export const connectionScript = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[1] == 'connected' then
  redis.call('PERSIST', KEYS[1])
  redis.call('HSET', KEYS[1], 'connected', '1')
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('HSET', KEYS[1], 'connected', '0')
end
return redis.call('HGET', KEYS[1], 'owner')
`, 1);

/** Updates one field of a live registration, never recreating a gone one. KEYS: registration. */
export const updateScript = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`, 1);

/** Deletes a registration. KEYS: registration. Returns its owner, or nil when it did not exist. */
export const deleteScript = new Script(`
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then return false end
redis.call('DEL', KEYS[1])
return owner
`, 1);

/** Writes a new registration with its TTL. KEYS: registration. ARGV: ttlMs, field, value, ... */
export const writeScript = new Script(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`, 1);
