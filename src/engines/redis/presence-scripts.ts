import { Script } from './script.js';

// Presence of one topic lives in its slot, next to its channel (keys.ts):
//   users  hash user -> clients on every node  (HLEN = users: counts never read the members)
//   count  integer, clients on every node
//   nodes  sorted set node -> expiry (ms, Redis clock): nodes that have members here
//   nodes:N  hash user -> clients, node N's share
// Every script first removes the shares of expired nodes (a node that died stops renewing)
// and announces the users that left with them, so whichever node touches the topic next, or
// reads it, sends the dead node's `leave`s. Join/leave are published on the topic's channel,
// by the same Redis that orders its messages: every node sees them in one order.
//
// With webhooks on, what a script announces is also appended, in the same call, to the topic's
// outbox stream (KEYS[#KEYS], {t:TOPIC}:wo): the node that ran it then moves it to the webhook
// stream (another slot) and deletes it; if that node dies first, the outbox waits for the sweep
// of its topics (webhooks-redis.ts). Every script also returns what it announced ('' if nothing).
//
// Common KEYS: users, count, nodes, channel, ..., outbox (last). Common ARGV: topic, PUBLISH or
// SPUBLISH (with a "+": webhooks on).
const common = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local joined, left = {}, {}
local announced = ''
-- "PUBLISH+" / "SPUBLISH+": webhooks are on, announcements also go to the topic's outbox.
local publish, toOutbox = ARGV[2], false
if string.sub(publish, -1) == '+' then
  publish = string.sub(publish, 1, -2)
  toOutbox = true
end
local function move(user, delta)
  if delta == 0 then return end
  local total = redis.call('HINCRBY', KEYS[1], user, delta)
  local old = total - delta
  if redis.call('INCRBY', KEYS[2], delta) <= 0 then redis.call('DEL', KEYS[2]) end
  if total <= 0 then
    redis.call('HDEL', KEYS[1], user)
    if old > 0 then left[#left + 1] = user end
  elseif old <= 0 then
    joined[#joined + 1] = user
  end
end
local function purge()
  local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
  for _, node in ipairs(dead) do
    local share = KEYS[3] .. ':' .. node
    local all = redis.call('HGETALL', share)
    for i = 1, #all, 2 do move(all[i], -tonumber(all[i + 1])) end
    redis.call('DEL', share)
    redis.call('ZREM', KEYS[3], node)
  end
end
local function list(users)
  local out = {}
  for i, u in ipairs(users) do out[i] = cjson.encode(u) end
  return '[' .. table.concat(out, ',') .. ']'
end
local function announce()
  if #joined == 0 and #left == 0 then return end
  announced = '{"presence":' .. cjson.encode(ARGV[1]) .. ',"joined":' .. list(joined) .. ',"left":' .. list(left) .. '}'
  redis.call(publish, KEYS[4], announced)
  if toOutbox then
    redis.call('XADD', KEYS[#KEYS], 'MAXLEN', '~', 10000, '*', 'e', announced)
    redis.call('PEXPIRE', KEYS[#KEYS], 86400000)
  end
end
`;

/**
 * Writes this node's share of a topic: the absolute client count of each listed user (0 =
 * gone), and with replace, drops the node's users not listed. A strict write (the node wrote
 * this topic before) is refused when the node's share had expired or vanished (Redis lost it,
 * or the node was taken for dead): the caller then writes the topic whole.
 * KEYS: users, count, nodes, channel, share, outbox. ARGV: topic, publish command, node, entry TTL ms,
 * key TTL ms, replace (0/1), strict (0/1), user, clients, user, clients, ...
 * Returns {0 when refused, 1 when the node has members left here, 2 when it has none; announced}.
 */
export const presenceWriteScript = new Script(`${common}
local score = redis.call('ZSCORE', KEYS[3], ARGV[3])
local alive = score and tonumber(score) > now
purge()
if ARGV[7] == '1' and ARGV[6] ~= '1' and not alive then
  announce()
  return {0, announced}
end
if ARGV[6] == '1' then
  local listed = {}
  for i = 8, #ARGV, 2 do listed[ARGV[i]] = true end
  local all = redis.call('HGETALL', KEYS[5])
  for i = 1, #all, 2 do
    if not listed[all[i]] then
      redis.call('HDEL', KEYS[5], all[i])
      move(all[i], -tonumber(all[i + 1]))
    end
  end
end
for i = 8, #ARGV, 2 do
  local user, n = ARGV[i], tonumber(ARGV[i + 1])
  local old = tonumber(redis.call('HGET', KEYS[5], user) or '0')
  if n ~= old then
    if n > 0 then redis.call('HSET', KEYS[5], user, n) else redis.call('HDEL', KEYS[5], user) end
    move(user, n - old)
  end
end
local result = 2
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[3])
  redis.call('PEXPIRE', KEYS[5], ARGV[5])
  result = 1
else
  redis.call('ZREM', KEYS[3], ARGV[3])
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
announce()
return {result, announced}
`, 6);

/**
 * Renews this node's share of a topic. KEYS: users, count, nodes, channel, share, outbox. ARGV: topic,
 * publish command, node, entry TTL ms, key TTL ms. Returns 1, or 0 when the share had expired
 * or vanished (the caller writes it whole).
 */
export const presenceRenewScript = new Script(`${common}
local score = redis.call('ZSCORE', KEYS[3], ARGV[3])
local alive = score and tonumber(score) > now and redis.call('EXISTS', KEYS[5]) == 1
purge()
if not alive then
  announce()
  return {0, announced}
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[3])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
redis.call('PEXPIRE', KEYS[5], ARGV[5])
announce()
return {1, announced}
`, 6);

/**
 * The topic's counts, after removing expired nodes. KEYS: users, count, nodes, channel, outbox.
 * ARGV: topic, publish command. Returns {clients, users, announced}.
 */
export const presenceCountScript = new Script(`${common}
purge()
announce()
return {tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('HLEN', KEYS[1]), announced}
`, 5);

/**
 * Removes expired nodes' shares of the topic (announcing their leaves) and tells whether node
 * N still has a share here. KEYS: users, count, nodes, channel, outbox. ARGV: topic, publish command,
 * N. Returns {0 (N has nothing here) or the expiry of N's share (not yet expired), announced}.
 */
export const presenceSweepScript = new Script(`${common}
purge()
announce()
local score = redis.call('ZSCORE', KEYS[3], ARGV[3])
return {score and tonumber(score) or 0, announced}
`, 5);
