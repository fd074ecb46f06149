import { HeraldError } from '../../errors.js';
import type { StreamPosition } from '../../core/message.js';
import type { CursorSave, Registration, Registry } from '../registry.js';

interface Entry {
  reg: Registration;
  connected: boolean;
  /** When an unconnected registration expires (ms since epoch). */
  expiresAt: number;
}

/** Registrations in this process's memory, swept when unconnected for the TTL. */
export class MemoryRegistry implements Registry {
  readonly #entries = new Map<string, Entry>();
  /** Registrations per user: only the count is needed (for the per-user limit). */
  readonly #perUser = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #sweep: NodeJS.Timeout;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
    this.#sweep = setInterval(() => this.sweep(), Math.min(Math.max(ttlMs / 4, 50), 60_000));
    this.#sweep.unref();
  }

  async create(reg: Registration, maxPerUser: number): Promise<void> {
    const user = String(reg.userId);
    const held = this.#perUser.get(user) ?? 0;
    if (held >= maxPerUser) throw new HeraldError('too_many_registrations', `User ${user} already holds ${held} registrations (HERALD_MAX_REGISTRATIONS_PER_USER=${maxPerUser}); unregister one first.`);
    const old = this.#entries.get(reg.id);
    if (old) this.#remove(reg.id, old);
    this.#perUser.set(user, (this.#perUser.get(user) ?? 0) + 1);
    this.#entries.set(reg.id, { reg: copy(reg), connected: false, expiresAt: Date.now() + this.#ttlMs });
  }

  async get(id: string): Promise<Registration | undefined> {
    const e = this.#live(id);
    return e && copy(e.reg);
  }

  async delete(id: string): Promise<boolean> {
    const e = this.#entries.get(id);
    if (!e) return false;
    this.#remove(id, e);
    return true;
  }

  async setTopics(id: string, topics: string[]): Promise<void> {
    const e = this.#live(id);
    if (e) e.reg.topics = [...topics];
  }

  async saveCursors(id: string, cursors: Record<string, StreamPosition>): Promise<void> {
    const e = this.#live(id);
    if (e) e.reg.cursors = { ...cursors };
  }

  saveManyCursors(entries: ReadonlyArray<CursorSave>): Promise<Array<PromiseSettledResult<void>>> {
    return Promise.allSettled(entries.map((e) => this.saveCursors(e.id, e.cursors)));
  }

  async markConnected(id: string): Promise<void> {
    const e = this.#live(id);
    if (e) e.connected = true;
  }

  async markDisconnected(id: string): Promise<void> {
    const e = this.#live(id);
    if (e) {
      e.connected = false;
      e.expiresAt = Date.now() + this.#ttlMs;
    }
  }

  async count(): Promise<number> {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
  }

  /** Drops unconnected registrations past their TTL. */
  sweep(now = Date.now()): void {
    for (const [id, e] of this.#entries) if (!e.connected && e.expiresAt <= now) this.#remove(id, e);
  }

  #live(id: string): Entry | undefined {
    const e = this.#entries.get(id);
    if (e && !e.connected && e.expiresAt <= Date.now()) {
      this.#remove(id, e);
      return undefined;
    }
    return e;
  }

  #remove(id: string, e: Entry): void {
    this.#entries.delete(id);
    const user = String(e.reg.userId);
    const held = (this.#perUser.get(user) ?? 1) - 1;
    if (held > 0) this.#perUser.set(user, held);
    else this.#perUser.delete(user);
  }
}

/** What crosses the engine boundary is a copy, as it would be from Redis (cheaper than structuredClone). */
function copy(reg: Registration): Registration {
  return { id: reg.id, userId: reg.userId, topics: [...reg.topics], cursors: { ...reg.cursors }, createdAt: reg.createdAt };
}
