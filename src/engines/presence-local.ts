/** This node's client count for one user in one topic, as written to the engine. */
export type PresenceCount = [user: string, clients: number];

/**
 * One write of a topic's presence: the absolute counts of the listed users on this node (so
 * writing twice is harmless); `replace` also drops this node's users that are not listed.
 */
export interface PresenceWrite {
  topic: string;
  users: PresenceCount[];
  replace: boolean;
}

/** Writes a batch; resolves with the topics whose write failed (they are written whole later). */
export type PresenceWriter = (writes: PresenceWrite[]) => Promise<string[]>;

/** Shortest time between two batches while changes keep coming. */
const BATCH_WINDOW_MS = 100;

/**
 * This node's presence, the source of truth for its own share: which users hold which topics
 * here, and how many of their clients. Changes are counted at once and written in batches, one
 * write per changed topic, at the end of the tick; while a batch is being written the next one
 * gathers (so a burst of 10,000 joins leaves in a few writes, not 10,000). The maps hold only
 * what this node's sessions hold, so they are bounded by its connections times their topics.
 */
/** Vacated topics whose failed write is retried after an outage, at most. */
const MAX_VACATED_RETRIES = 100_000;

export class LocalPresence {
  readonly #counts = new Map<string, Map<string, number>>();
  /** Users changed since the last write, per topic. */
  readonly #dirty = new Map<string, Set<string>>();
  /** Topics to write whole (a write failed, or the engine lost them). */
  readonly #replace = new Set<string>();
  readonly #writer: PresenceWriter;
  readonly #retryMs: number;
  readonly #waiters: Array<{ seq: number; resolve: () => void }> = [];
  #changeSeq = 0;
  /** performance.now() when the last batch left. */
  #flushedAt = -Infinity;
  #doneSeq = 0;
  #scheduled = false;
  #writing = false;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(writer: PresenceWriter, retryMs = 1_000) {
    this.#writer = writer;
    this.#retryMs = retryMs;
  }

  add(topic: string, user: string): void {
    this.#change(topic, user, 1);
  }

  remove(topic: string, user: string): void {
    this.#change(topic, user, -1);
  }

  /** Topics where this node has members. */
  topics(): IterableIterator<string> {
    return this.#counts.keys();
  }

  /** This node's users of a topic and their client counts. */
  users(topic: string): PresenceCount[] {
    return [...(this.#counts.get(topic) ?? [])];
  }

  /** These topics are written whole at the next flush. */
  rewrite(topics: Iterable<string>): void {
    for (const t of topics) this.#replace.add(t);
    this.#schedule();
  }

  /** Every topic this node holds is written whole (the engine came back empty). */
  rewriteAll(): void {
    this.rewrite([...this.#counts.keys()]);
  }

  flushed(): Promise<void> {
    const seq = this.#changeSeq;
    if (seq <= this.#doneSeq) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  /**
   * Writes what is pending (the leaves of a node shutting down: otherwise they would show
   * until the TTL), waiting at most `timeoutMs`, then closes.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    if (this.#retry) {
      clearTimeout(this.#retry);
      this.#retry = undefined;
    }
    const pending = this.flushed();
    if (!this.#scheduled && !this.#writing && (this.#dirty.size > 0 || this.#replace.size > 0)) this.#schedule();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([pending, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.close();
  }

  close(): void {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  #change(topic: string, user: string, delta: 1 | -1): void {
    let users = this.#counts.get(topic);
    if (!users) {
      if (delta < 0) return;
      users = new Map();
      this.#counts.set(topic, users);
    }
    const n = (users.get(user) ?? 0) + delta;
    if (n < 0) return;
    if (n === 0) users.delete(user);
    else users.set(user, n);
    if (users.size === 0) this.#counts.delete(topic);
    let dirty = this.#dirty.get(topic);
    if (!dirty) this.#dirty.set(topic, (dirty = new Set()));
    dirty.add(user);
    this.#changeSeq++;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing || this.#retry || this.#closed) return;
    this.#scheduled = true;
    // A lone change goes at the end of the tick; in a burst, batches leave at most every
    // BATCH_WINDOW_MS, so a storm of joins becomes few writes and few, full join/leave frames.
    const wait = this.#flushedAt + BATCH_WINDOW_MS - performance.now();
    if (wait > 0) setTimeout(this.#onFlush, wait);
    else setImmediate(this.#onFlush);
  }

  readonly #onFlush = (): void => void this.#flush();

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#flushedAt = performance.now();
    if (this.#closed) return;
    const writes: PresenceWrite[] = [];
    for (const topic of this.#replace) writes.push({ topic, users: this.users(topic), replace: true });
    for (const [topic, users] of this.#dirty) {
      if (this.#replace.has(topic)) continue;
      const counts = this.#counts.get(topic);
      writes.push({ topic, users: [...users].map((u): PresenceCount => [u, counts?.get(u) ?? 0]), replace: false });
    }
    this.#replace.clear();
    this.#dirty.clear();
    const seq = this.#changeSeq;
    this.#writing = true;
    let failed: string[];
    try {
      failed = writes.length === 0 ? [] : await this.#writer(writes);
    } catch {
      failed = writes.map((w) => w.topic);
    }
    this.#writing = false;
    // A topic still held is written again; a vacated one only within a bound (a client can
    // touch fresh topics for the whole outage): past it, this node's share of it expires by its TTL.
    for (const t of failed) if (this.#counts.has(t) || this.#replace.size < MAX_VACATED_RETRIES) this.#replace.add(t);
    this.#doneSeq = Math.max(this.#doneSeq, seq);
    // Waiters come in rising seq order: the settled ones are a prefix (10,000 joins, one splice).
    let settled = 0;
    while (settled < this.#waiters.length && this.#waiters[settled]!.seq <= this.#doneSeq) settled++;
    for (const w of this.#waiters.splice(0, settled)) w.resolve();
    if (failed.length > 0 && !this.#closed) {
      // The engine is away: try again a little later, not in a tight loop.
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#schedule();
      }, this.#retryMs);
      this.#retry.unref();
    } else if (this.#dirty.size > 0 || this.#replace.size > 0) {
      this.#schedule();
    }
  }
}
