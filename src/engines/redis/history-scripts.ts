import { Script } from './script.js';

// A topic gets its epoch the first time anyone looks at it, not only at its first publish,
// so a client that read position() before the first message sees the same epoch afterwards.
const ensure = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local offset = tonumber(redis.call('HGET', KEYS[1], 'offset'))
`;

/** KEYS: meta, log. ARGV: candidate epoch, history TTL ms. Returns {offset, epoch}. */
export const positionScript = new Script(`${ensure}
return {offset, epoch}
`, 2);

/**
 * What a client at (since offset, since epoch) missed, read atomically with the position so
 * replay and live meet exactly at the returned offset (the seam).
 * KEYS: meta, log. ARGV: candidate epoch, history TTL ms, since offset, since epoch.
 * Returns {offset, epoch, complete (1|0), message JSON...}.
 */
export const sinceScript = new Script(`${ensure}
local since = tonumber(ARGV[3])
local out = {offset, epoch, 0}
local entries
if since > 0 and ARGV[4] ~= epoch then
  entries = redis.call('XRANGE', KEYS[2], '-', '+')
elseif since >= offset then
  out[3] = 1
  return out
else
  entries = redis.call('XRANGE', KEYS[2], string.format('%d', since + 1) .. '-0', '+')
  if #entries > 0 and tonumber(string.match(entries[1][1], '^(%d+)')) == since + 1 then out[3] = 1 end
end
for i = 1, #entries do out[#out + 1] = entries[i][2][2] end
return out
`, 2);
