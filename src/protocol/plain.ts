// The tutorial's protocol, byte for byte. Server to client: the published payload only, one
// frame per message. Client to server: `ping` (ignored) or {"topics": [...]} (replace the list);
// anything else is ignored and the connection stays up.

import { DEFAULT_MAX_JSON_DEPTH, nestedDeeperThan } from './json-safety.js';

export type PlainRequest = { type: 'ping' } | { type: 'topics'; topics: unknown } | { type: 'ignored'; reason: string; tooDeep?: true };

/** Never throws; JSON nested deeper than `maxDepth` is ignored before it is parsed. */
export function decodePlain(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): PlainRequest {
  if (text === 'ping' || text === 'ping\n') return { type: 'ping' };
  if (nestedDeeperThan(text, maxDepth)) return { type: 'ignored', reason: `JSON nested deeper than ${maxDepth} levels (HERALD_MAX_JSON_DEPTH)`, tooDeep: true };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: 'ignored', reason: 'not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('topics' in value)) {
    return { type: 'ignored', reason: 'not a {"topics": [...]} request' };
  }
  return { type: 'topics', topics: (value as { topics: unknown }).topics };
}
