import { HeraldError } from '../../errors.js';
import type { StreamPosition } from '../../core/message.js';
import type { Registration, Registry } from '../registry.js';

interface Entry {
  reg: Registration;
  connected: boolean;
  /** When an unconnected registration expires (ms since epoch). */
  expiresAt: number;
}

/** Registrations in this process's memory, swept when unconnected for the TTL. */
export class MemoryRegistry implements Registry {
  readonly #entries = new Map<string, Entry>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #ttlMs: number;
  readonly #sweep: NodeJS.Timeout;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
    this.#sweep = setInterval(() => this.sweep(), Math.min(Math.max(ttlMs / 4, 50), 60_000));
    this.#sweep.unref();
  }

  async create(reg: Registration, maxPerUser: number): Promise<void> {
    const user = String(reg.userId);
    const ids = this.#byUser.get(user) ?? new Set<string>();
    if (ids.size >= maxPerUser) throw new HeraldError('too_many_registrations', `User ${user} already holds ${ids.size} registrations (HERALD_MAX_REGISTRATIONS_PER_USER=${maxPerUser}); unregister one first.`);
    ids.add(reg.id);
    this.#byUser.set(user, ids);
    this.#entries.set(reg.id, { reg: structuredClone(reg), connected: false, expiresAt: Date.now() + this.#ttlMs });
  }

  async get(id: string): Promise<Registration | undefined> {
    const e = this.#live(id);
    return e && structuredClone(e.reg);
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
    const ids = this.#byUser.get(user);
    ids?.delete(id);
    if (ids?.size === 0) this.#byUser.delete(user);
  }
}
