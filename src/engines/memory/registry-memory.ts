import { HeraldError } from '../../errors.js';
import type { StreamPosition } from '../../core/message.js';
import type { CursorSave, Registration, RegistrationLimits, Registry, RightsUpdate } from '../registry.js';

/**
 * One stored registration and its bookkeeping in one object of fixed shape: an idle client is
 * mostly this record, so it holds no wrapper, no optional field added later (which would give it
 * an out-of-object property array) and no empty list of its own (see NONE, NO_CURSORS).
 */
class Entry {
  readonly id: string;
  readonly userId: Registration['userId'];
  readonly createdAt: number;
  topics: readonly string[];
  grants: readonly string[];
  held: readonly string[] | undefined;
  cursors: Readonly<Record<string, StreamPosition>>;
  connected = false;
  /** A tick of the registry's clock when it was created, connected or disconnected: eviction takes the oldest. */
  lastSeen: number;
  /** When an unconnected registration expires (ms since epoch). */
  expiresAt: number;

  constructor(reg: Registration, lastSeen: number, expiresAt: number) {
    this.id = reg.id;
    this.userId = reg.userId;
    this.createdAt = reg.createdAt;
    this.topics = list(reg.topics);
    this.grants = list(reg.grants);
    this.held = reg.held && sameOr(reg.held, this.topics);
    this.cursors = cursorsOf(reg.cursors);
    this.lastSeen = lastSeen;
    this.expiresAt = expiresAt;
  }

  /** What crosses the engine boundary is a copy, as it would be from Redis (cheaper than structuredClone). */
  registration(): Registration {
    const out: Registration = { id: this.id, userId: this.userId, topics: [...this.topics], grants: [...this.grants], cursors: { ...this.cursors }, createdAt: this.createdAt };
    if (this.held) out.held = [...this.held];
    return out;
  }
}

/** Shared by every entry without grants, topics or cursors (never changed: entries replace, not edit). */
const NONE: readonly string[] = Object.freeze([]);
const NO_CURSORS: Readonly<Record<string, StreamPosition>> = Object.freeze({});

function list(items: readonly string[]): readonly string[] {
  return items.length === 0 ? NONE : [...items];
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** The held topics are most often the registration's topics: then they share its list. */
function sameOr(held: readonly string[], topics: readonly string[]): readonly string[] {
  return same(held, topics) ? topics : list(held);
}

function cursorsOf(cursors: Readonly<Record<string, StreamPosition>>): Readonly<Record<string, StreamPosition>> {
  for (const topic in cursors) if (Object.hasOwn(cursors, topic)) return { ...cursors };
  return NO_CURSORS;
}

/** Registrations in this process's memory, swept when unconnected for the TTL. */
export class MemoryRegistry implements Registry {
  readonly #entries = new Map<string, Entry>();
  /** Registration ids per user (the per-user limit and its eviction): the id itself while there is one (most users), a Set beyond. */
  readonly #perUser = new Map<string, string | Set<string>>();
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
    const mine = idsOf(this.#perUser.get(user));
    let evicted: string | undefined;
    if (mine.length >= limits.perUser) {
      evicted = this.#leastRecent(mine);
      if (evicted === undefined) throw new HeraldError('too_many_registrations', `Every one of user ${user}'s ${mine.length} registrations is connected (HERALD_MAX_REGISTRATIONS_PER_USER=${limits.perUser}); close or unregister one first.`);
    }
    if (evicted === undefined && this.#entries.size >= limits.total) throw new HeraldError('registrations_full', `Herald holds ${this.#entries.size} registrations (HERALD_MAX_REGISTRATIONS=${limits.total}): unregister clients, or raise the limit.`);
    if (evicted !== undefined) this.#remove(evicted, this.#entries.get(evicted)!);
    this.#entries.set(reg.id, new Entry(reg, ++this.#clock, Date.now() + this.#ttlMs));
    const ids = this.#perUser.get(user);
    if (ids === undefined) this.#perUser.set(user, reg.id);
    else if (typeof ids === 'string') this.#perUser.set(user, new Set([ids, reg.id]));
    else ids.add(reg.id);
    return evicted === undefined ? {} : { evicted };
  }

  async get(id: string): Promise<Registration | undefined> {
    return this.#live(id)?.registration();
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
    if (change.topics) e.topics = list(change.topics);
    if (change.grants) e.grants = list(change.grants);
    if (change.held) e.held = sameOr(change.held, e.topics);
    return e.registration();
  }

  async setHeld(id: string, topics: string[]): Promise<void> {
    const e = this.#live(id);
    // Every connection stores them again, most often unchanged: then no new list.
    if (e && !(e.held && same(topics, e.held))) e.held = sameOr(topics, e.topics);
  }

  async saveCursors(id: string, cursors: Record<string, StreamPosition>): Promise<void> {
    const e = this.#live(id);
    if (e) e.cursors = cursorsOf(cursors);
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
    const ids = idsOf(this.#perUser.get(user));
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
  #leastRecent(ids: readonly string[]): string | undefined {
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
    const user = String(e.userId);
    const ids = this.#perUser.get(user);
    if (ids === id) this.#perUser.delete(user);
    else if (typeof ids === 'object' && ids.delete(id) && ids.size === 1) this.#perUser.set(user, ids.values().next().value!);
  }
}

/** A user's registration ids (a copy: removing them changes the index). */
function idsOf(ids: string | Set<string> | undefined): string[] {
  if (ids === undefined) return [];
  return typeof ids === 'string' ? [ids] : [...ids];
}
