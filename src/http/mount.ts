// Where Herald is mounted when it is embedded under a prefix (src/embed/): requests reach its
// routes with the prefix stripped, and the prefix is kept here so the URLs Herald hands out
// (the registration's ws:// URL) still lead back through it.
import type { IncomingMessage } from 'node:http';

const kMount = Symbol('herald.mount');
type Mounted = IncomingMessage & { [kMount]?: string };

/** Records that `raw` arrived under `prefix` ("/realtime"), before Herald routes it. */
export function setMountPrefix(raw: IncomingMessage, prefix: string): void {
  (raw as Mounted)[kMount] = prefix;
}

/** The prefix `raw` arrived under: "" when Herald runs on its own. */
export function mountPrefix(raw: IncomingMessage): string {
  return (raw as Mounted)[kMount] ?? '';
}
