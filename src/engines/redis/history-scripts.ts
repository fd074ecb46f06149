import { Script } from './script.js';

// Reading never creates a topic (a client could otherwise make keys by naming topics): a topic
// that was never published, or whose history expired, stands at offset 0 of epoch "". Offset 0
// means "from the start", so a client that joined there later gets the whole new epoch.
const read = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local offset = 0
if epoch then offset = tonumber(redis.call('HGET', KEYS[1], 'offset')) else epoch = '' end
`;

/** KEYS: meta, log. Returns {offset, epoch}. */
export const positionScript = new Script(`${read}
return {offset, epoch}
`, 2);

/**
 * What a client at (since offset, since epoch) missed, read atomically with the position so
 * replay and live meet exactly at the returned offset (the seam).
 * KEYS: meta, log. ARGV: since offset, since epoch, max bytes (0: no cap; else only the newest
 * messages whose JSON fits, at least one, and complete 0 if that cut the gap).
 * Returns {offset, epoch, complete (1|0), message JSON...}.
 */
export const sinceScript = new Script(`${read}
local since = tonumber(ARGV[1])
local out = {offset, epoch, 0}
local entries
if since > 0 and ARGV[2] ~= epoch then
  entries = redis.call('XRANGE', KEYS[2], '-', '+')
elseif since >= offset then
  out[3] = 1
  return out
else
  entries = redis.call('XRANGE', KEYS[2], string.format('%d', since + 1) .. '-0', '+')
  if #entries > 0 and tonumber(string.match(entries[1][1], '^(%d+)')) == since + 1 then out[3] = 1 end
end
local first = 1
local cap = tonumber(ARGV[3] or '0')
if cap > 0 then
  local bytes = 0
  local i = #entries
  while i >= 1 do
    local n = #entries[i][2][2]
    if bytes + n > cap and i < #entries then break end
    bytes = bytes + n
    i = i - 1
  end
  first = i + 1
  if first > 1 then out[3] = 0 end
end
for i = first, #entries do out[#out + 1] = entries[i][2][2] end
return out
`, 2);
