import { Script } from './script.js';

// Milliseconds by the Redis clock, so every node agrees on when something expires; with the
// microseconds as a fraction, so two changes in one millisecond still order (eviction).
const now = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
-- Lua would print a number with 14 digits (0.1 ms here): scores keep the microseconds.
local function score(ms) return string.format('%.3f', ms) end
`;

// A set of registration ids scored by expiry lives exactly as long as its longest member.
const keepSet = `
local function keep(key)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #top == 0 then return end
  redis.call('PEXPIREAT', key, string.format('%d', math.ceil(tonumber(top[2]))))
end
`;

/**
 * Reserves a place in the user's set. At the per-user limit it evicts the user's least recently
 * connected registration that has no live socket: in the user's set a registration's score is
 * its expiry (last connect, disconnect or lease renewal plus the TTL), so the lowest score not
 * in the live set is the one seen longest ago. Expired ids count for nothing.
 * KEYS: user set, user live set. ARGV: id, max, ttlMs. Returns {1|0, ids held before, evicted id or false}.
 */
export const reserveScript = new Script(`${now}${keepSet}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])
local victim = false
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and held >= tonumber(ARGV[2]) then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if redis.call('ZSCORE', KEYS[2], id) == false then victim = id break end
  end
  if not victim then return {0, held, false} end
  redis.call('ZREM', KEYS[1], victim)
end
redis.call('ZADD', KEYS[1], score(now + tonumber(ARGV[3])), ARGV[1])
keep(KEYS[1])
return {1, held, victim}
`, 2);

/**
 * A registration of the user connected, renewed its lease, disconnected or went away.
 * KEYS: user set, user live set. ARGV: id, mode, ttlMs. While connected, an id is in the live
 * set with its lease's expiry, so a crashed node's sockets stop counting as live one TTL later.
 */
export const userScript = new Script(`${now}${keepSet}
local mode = ARGV[2]
local until_ = score(now + tonumber(ARGV[3]))
if mode == 'remove' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[1], 'XX', until_, ARGV[1])
  if mode == 'disconnected' or redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then
    redis.call('ZREM', KEYS[2], ARGV[1])
  else
    redis.call('ZADD', KEYS[2], until_, ARGV[1])
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
keep(KEYS[1])
keep(KEYS[2])
return 1
`, 2);

/**
 * Rescores an id in a set of registrations. KEYS: set. ARGV: id, mode, ttlMs; mode is add
 * (expires in ttl), touch (expires in ttl, only if present) or remove.
 */
export const rescoreScript = new Script(`${now}${keepSet}
local mode = ARGV[2]
if mode == 'remove' then redis.call('ZREM', KEYS[1], ARGV[1])
elseif mode == 'touch' then redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[3]), ARGV[1])
else redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
keep(KEYS[1])
return 1
`, 1);

/**
 * A socket opened, is still open, or closed. KEYS: registration. ARGV: mode, ttlMs, holder.
 * A connected registration is leased, not made permanent: its holder (one engine instance)
 * renews the TTL while the socket is open, so the registration of a node that crashed still
 * expires one TTL later. Only the current holder may renew or disconnect it: a node that
 * learns late that its socket died must not start the TTL of a socket now open elsewhere.
 * connected: take the lease; renew: extend it if still ours; disconnected: release it if ours.
 * Returns the owner (String(userId)), or nil when gone or not ours.
 */
export const connectionScript = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local mode = ARGV[1]
local holder = redis.call('HGET', KEYS[1], 'holder')
if mode == 'connected' then
  redis.call('HSET', KEYS[1], 'connected', '1', 'holder', ARGV[3])
elseif holder and holder ~= ARGV[3] then
  return false
elseif mode == 'renew' then
  if not holder then return false end
else
  redis.call('HSET', KEYS[1], 'connected', '0')
  redis.call('HDEL', KEYS[1], 'holder')
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('HGET', KEYS[1], 'owner')
`, 1);

/**
 * Updates fields of a live registration at once, never recreating a gone one.
 * KEYS: registration. ARGV: field, value, ... Returns the whole hash (flat), or nil when gone.
 */
export const updateScript = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HGETALL', KEYS[1])
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
