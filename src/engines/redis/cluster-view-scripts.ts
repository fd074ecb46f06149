import { Script } from './script.js';
import { emitter } from './webhooks-scripts.js';

// The cluster view lives in one slot ({cluster}, keys.ts):
//   topics   sorted set topic -> subscribers summed over the live nodes
//   nodes    sorted set node -> expiry (ms, Redis clock)
//   nodes:N  hash topic -> node N's subscribers;  nodes:N:stats  node N's /stats JSON
// Every script first removes the shares of expired nodes from the sum. A sum that crosses zero
// appends topic.occupied / topic.vacated to the webhook stream (webhooks-scripts.ts), so the
// events follow the sums exactly, a dead node's vacated ones included.
//
// A dead node's topics also go to the webhook sweep set: the delivering node then removes its
// presence shares there (member.left), even where no survivor holds the topic.
//
// Common KEYS: topics, nodes, then (last) the webhook sweep set, stream, dropped counter and "on" key.
const common = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
${emitter}
local function add(topic, delta)
  if delta == 0 then return end
  local n = tonumber(redis.call('ZINCRBY', KEYS[1], delta, topic))
  local old = n - delta
  if n <= 0 then redis.call('ZREM', KEYS[1], topic) end
  if old <= 0 and n > 0 then
    emit('topic.occupied', topic)
  elseif old > 0 and n <= 0 then
    emit('topic.vacated', topic)
  end
end
local function purge()
  local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  for _, node in ipairs(dead) do
    local share = KEYS[2] .. ':' .. node
    local all = redis.call('HGETALL', share)
    for i = 1, #all, 2 do
      add(all[i], -tonumber(all[i + 1]))
      if whMax > 0 then redis.call('ZADD', KEYS[#KEYS - 3], now, node .. ' ' .. all[i]) end
    end
    redis.call('DEL', share, share .. ':stats')
    redis.call('ZREM', KEYS[2], node)
  end
end
`;

/**
 * Writes this node's subscriber counts. KEYS: topics, nodes, share, webhook keys (4). ARGV: node, entry TTL ms,
 * key TTL ms, replace (0/1), strict (0/1), topic, count, ... A strict write finding the node's
 * share gone (expired, or Redis lost it) is refused: returns 0, and the caller writes it whole.
 */
export const clusterWriteScript = new Script(`${common}
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
local alive = score and tonumber(score) > now
purge()
if ARGV[5] == '1' and ARGV[4] ~= '1' and not alive then return 0 end
if ARGV[4] == '1' then
  -- Only the topics no longer listed go; the listed ones move by their difference (no
  -- vacated-then-occupied pair for a topic that stayed).
  local listed = {}
  for i = 6, #ARGV, 2 do listed[ARGV[i]] = true end
  local all = redis.call('HGETALL', KEYS[3])
  for i = 1, #all, 2 do
    if not listed[all[i]] then
      redis.call('HDEL', KEYS[3], all[i])
      add(all[i], -tonumber(all[i + 1]))
    end
  end
end
for i = 6, #ARGV, 2 do
  local topic, n = ARGV[i], tonumber(ARGV[i + 1])
  local old = tonumber(redis.call('HGET', KEYS[3], topic) or '0')
  if n > 0 then redis.call('HSET', KEYS[3], topic, n) else redis.call('HDEL', KEYS[3], topic) end
  add(topic, n - old)
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return 1
`, 7);

/**
 * Renews this node's share and stores its /stats. KEYS: topics, nodes, share, stats, webhook keys (4). ARGV:
 * node, entry TTL ms, key TTL ms, stats JSON. Returns 0 when the share had expired or vanished.
 */
export const clusterRenewScript = new Script(`${common}
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
local alive = score and tonumber(score) > now
purge()
redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[3])
if not alive then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return 1
`, 8);

/** A page of topics, most subscribed first. KEYS: topics, nodes. ARGV: offset, limit. Returns {total, topic, n, ...}. */
export const clusterTopicsScript = new Script(`${common}
purge()
local page = redis.call('ZREVRANGE', KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1, 'WITHSCORES')
table.insert(page, 1, redis.call('ZCARD', KEYS[1]))
return page
`, 6);

/** The /stats of every live node. KEYS: topics, nodes. Returns a list of JSON texts. */
export const clusterStatsScript = new Script(`${common}
purge()
local out = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')) do
  local s = redis.call('GET', KEYS[2] .. ':' .. node .. ':stats')
  if s then out[#out + 1] = s end
end
return out
`, 6);
