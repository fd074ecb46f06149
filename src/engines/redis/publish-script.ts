import { Script } from './script.js';

/**
 * A publish, atomic per topic: creates the topic's epoch if it has none (its history was
 * lost or never existed), assigns the next offset, appends to the capped stream, renews the
 * history TTL and publishes the encoded message on the topic's channel. Because one script
 * does it all, offsets, history and live order agree on every node.
 *
 * KEYS: meta, log, channel (a key slot too: SPUBLISH must stay in the topic's shard).
 * ARGV: candidate epoch, message JSON without its closing "}" (id, topic, userId, kind, body),
 *       history size, history TTL ms, PUBLISH or SPUBLISH.
 * Returns {offset, epoch, ts}.
 */
export const publishScript = new Script(`
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
end
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
local t = redis.call('TIME')
local ts = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
local m = ARGV[2] .. ',"offset":' .. string.format('%d', offset) .. ',"epoch":"' .. epoch .. '","ts":' .. ts .. '}'
local size = tonumber(ARGV[3])
if size > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', size, string.format('%d', offset) .. '-1', 'm', m)
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call(ARGV[5], KEYS[3], m)
return {offset, epoch, ts}
`, 3);
