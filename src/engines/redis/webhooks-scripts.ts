import { Script } from './script.js';

// Webhook events live in one stream in the {cluster} slot (keys.ts), so the cluster view
// scripts, which keep the summed subscriber counts there, append topic.occupied/vacated in the
// same atomic call that moves a count across zero, including the call that removes a dead
// node's share: whichever survivor's script purges it writes the vacated events, once.
//
// `emitter` is Lua to put after a script's other setup; it expects the last three KEYS to be
// the stream, the dropped counter and the "on" key (holding the bound), and defines emit().
export const emitter = `
local whStream, whDropped = KEYS[#KEYS - 2], KEYS[#KEYS - 1]
local whMax = tonumber(redis.call('GET', KEYS[#KEYS]) or '0')
local function emit(kind, topic, user, id, time)
  if whMax <= 0 then return end
  if redis.call('XLEN', whStream) >= whMax then
    redis.call('INCR', whDropped)
    return
  end
  local fields = {'type', kind, 'topic', topic}
  if user then fields[#fields + 1] = 'user'; fields[#fields + 1] = user end
  if id then fields[#fields + 1] = 'id'; fields[#fields + 1] = id; fields[#fields + 1] = 'time'; fields[#fields + 1] = time end
  redis.call('XADD', whStream, '*', unpack(fields))
end
`;

/**
 * Appends events. KEYS: stream, dropped, on. ARGV: type, topic, user, id, time, ... ('' = none;
 * without an id the event's id is its stream entry id, its time that entry's).
 */
export const webhookAddScript = new Script(`${emitter}
for i = 1, #ARGV, 5 do
  local user, id = ARGV[i + 2], ARGV[i + 3]
  if user == '' then user = nil end
  if id == '' then id = nil end
  emit(ARGV[i], ARGV[i + 1], user, id, ARGV[i + 4])
end
return 1
`, 3);

/**
 * Takes or renews the delivery lease, and marks webhooks on (with the bound) for every
 * script. KEYS: lease, on. ARGV: node, lease ms, max pending, "on" ms. Returns 1 when this node delivers.
 */
export const webhookLeaseScript = new Script(`
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`, 2);

/** Gives the lease up if this node holds it. KEYS: lease. ARGV: node. */
export const webhookReleaseScript = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`, 1);

/** Delivered: acknowledged and deleted (the stream holds only what is undelivered). KEYS: stream. ARGV: group, id... */
export const webhookAckScript = new Script(`
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
return 1
`, 1);

/**
 * Takes up to ARGV[1] due entries of the sweep set, holding them ARGV[2] ms (so a node that dies
 * while sweeping leaves them to the next). KEYS: sweep. Returns the entries ("node topic").
 */
export const webhookSweepTakeScript = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), m) end
return due
`, 1);
