import { HeraldError } from '../../errors.js';
import type { StreamPosition } from '../../core/message.js';
import type { CursorSave, Registration, RegistrationLimits, Registry, RightsUpdate } from '../registry.js';

interface Entry {
  reg: Registration;
  connected: boolean;
  /** A tick of the registry's clock when it was created, connected or disconnected: eviction takes the oldest. */
  lastSeen: number;
  /** When an unconnected registration expires (ms since epoch). */
  expiresAt: number;
}

/** Registrations in this process's memory, swept when unconnected for the TTL. */
export class MemoryRegistry implements Registry {
  readonly #entries = new Map<string, Entry>();
  /** Registration ids per user (the per-user limit and its eviction). */
  readonly #perUser = new Map<string, Set<string>>();
  readonly #ttlMs: number;
  /** Revoked users (DELETE /users/:user): tokens issued up to `at` (seconds) are refused until `until` (ms). */
  readonly #revoked = new Map<string, { at: number; until: number }>();
  /** Orders lastSeen strictly, even within one millisecond. */
  #clock = 0;
  readonly #sweep: NodeJS.Timeout;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
    this.#sweep = setInterval(() => this.sweep(), Math.min(Math.max(ttlMs / 4, 50), 60_000));
    this.#sweep.unref();
  }

  async create(reg: Registration, limits: RegistrationLimits): Promise<{ evicted?: string }> {
    const user = String(reg.userId);
    const old = this.#entries.get(reg.id);
    if (old) this.#remove(reg.id, old);
    const mine = this.#perUser.get(user);
    let evicted: string | undefined;
    if (mine && mine.size >= limits.perUser) {
      evicted = this.#leastRecent(mine);
      if (evicted === undefined) throw new HeraldError('too_many_registrations', `Every one of user ${user}'s ${mine.size} registrations is connected (HERALD_MAX_REGISTRATIONS_PER_USER=${limits.perUser}); close or unregister one first.`);
    }
    if (evicted === undefined && this.#entries.size >= limits.total) throw new HeraldError('registrations_full', `Herald holds ${this.#entries.size} registrations (HERALD_MAX_REGISTRATIONS=${limits.total}): unregister clients, or raise the limit.`);
    if (evicted !== undefined) this.#remove(evicted, this.#entries.get(evicted)!);
    this.#entries.set(reg.id, { reg: copy(reg), connected: false, lastSeen: ++this.#clock, expiresAt: Date.now() + this.#ttlMs });
    const ids = this.#perUser.get(user);
    if (ids) ids.add(reg.id);
    else this.#perUser.set(user, new Set([reg.id]));
    return evicted === undefined ? {} : { evicted };
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

  async update(id: string, change: RightsUpdate): Promise<Registration | undefined> {
    const e = this.#live(id);
    if (!e) return undefined;
    if (change.topics) e.reg.topics = [...change.topics];
    if (change.grants) e.reg.grants = [...change.grants];
    if (change.held) e.reg.held = [...change.held];
    return copy(e.reg);
  }

  async setHeld(id: string, topics: string[]): Promise<void> {
    const e = this.#live(id);
    if (e) e.reg.held = [...topics];
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
    if (e) {
      e.connected = true;
      e.lastSeen = ++this.#clock;
    }
  }

  async markDisconnected(id: string): Promise<void> {
    const e = this.#live(id);
    if (e) {
      e.connected = false;
      e.lastSeen = ++this.#clock;
      e.expiresAt = Date.now() + this.#ttlMs;
    }
  }

  async deleteUser(user: string): Promise<string[]> {
    const ids = [...(this.#perUser.get(user) ?? [])];
    for (const id of ids) this.#remove(id, this.#entries.get(id)!);
    return ids;
  }

  async revokeUser(user: string, atSeconds: number, ttlMs: number): Promise<void> {
    this.#revoked.set(user, { at: atSeconds, until: Date.now() + ttlMs });
  }

  async revokedAt(user: string): Promise<number | undefined> {
    const r = this.#revoked.get(user);
    if (r && r.until <= Date.now()) this.#revoked.delete(user);
    return r && r.until > Date.now() ? r.at : undefined;
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
    for (const [user, r] of this.#revoked) if (r.until <= now) this.#revoked.delete(user);
  }

  /** The user's least recently seen registration without a socket, if any. */
  #leastRecent(ids: Set<string>): string | undefined {
    let best: string | undefined;
    let bestSeen = Infinity;
    for (const id of ids) {
      const e = this.#entries.get(id)!;
      if (!e.connected && e.lastSeen < bestSeen) {
        best = id;
        bestSeen = e.lastSeen;
      }
    }
    return best;
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
    const ids = this.#perUser.get(user);
    if (ids?.delete(id) && ids.size === 0) this.#perUser.delete(user);
  }
}

/** What crosses the engine boundary is a copy, as it would be from Redis (cheaper than structuredClone). */
function copy(reg: Registration): Registration {
  const out: Registration = { id: reg.id, userId: reg.userId, topics: [...reg.topics], grants: [...reg.grants], cursors: { ...reg.cursors }, createdAt: reg.createdAt };
  if (reg.held) out.held = [...reg.held];
  return out;
}
