import { Script } from './script.js';

/**
 * Reads the generation of this Redis dataset, creating one if there is none. A node that
 * saw another generation before knows Redis came back empty (a reset), whichever node
 * noticed first. KEYS: alive marker. ARGV: candidate generation. Returns the generation.
 */
export const aliveScript = new Script(`
local gen = redis.call('GET', KEYS[1])
if not gen then
  gen = ARGV[1]
  redis.call('SET', KEYS[1], gen)
end
return gen
`, 1);
