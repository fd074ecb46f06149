// Rights changes and revocations this node heard of lately. A connection is checked (its
// registration read, its token verified) before the upgrade and joins the hub after it; an
// event that arrives in between finds no socket to act on. The relay looks here when the socket
// is added, so a PATCH or a DELETE /users/:user racing a reconnect still reaches it.

interface Noted<T> {
  /** When this node heard of it (ms, this node's clock). */
  heardAt: number;
  value: T;
}

/** Entries older than this cannot concern a connection still being accepted. */
const KEEP_MS = 30_000;
/** A bound on memory whatever the rate of changes; the oldest go first. */
const MAX_ENTRIES = 50_000;

class Recent<T> {
  readonly #entries = new Map<string, Noted<T>>();

  note(key: string, value: T, now = Date.now()): void {
    this.#entries.delete(key); // re-inserted last: the map stays ordered by heardAt
    this.#entries.set(key, { heardAt: now, value });
    for (const [k, e] of this.#entries) {
      if (e.heardAt > now - KEEP_MS && this.#entries.size <= MAX_ENTRIES) break;
      this.#entries.delete(k);
    }
  }

  /** The value heard of at or after `since`, if any. */
  since(key: string, since: number): T | undefined {
    const e = this.#entries.get(key);
    return e && e.heardAt >= since ? e.value : undefined;
  }
}

export class RecentChanges {
  /** Client id -> its latest rights (topics, grants). */
  readonly rights = new Recent<{ topics: string[]; grants: string[] }>();
  /** User -> the second of its latest revocation. */
  readonly revocations = new Recent<number>();
}
