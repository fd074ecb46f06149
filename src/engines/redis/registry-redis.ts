import { randomBytes } from 'node:crypto';
import type { StreamPosition, UserId } from '../../core/message.js';
import { HeraldError } from '../../errors.js';
import type { CursorSave, Registration, RegistrationLimits, Registry, RightsUpdate } from '../registry.js';
import type { RedisKeys } from './keys.js';
import type { RedisLink } from './link.js';
import { connectionScript, deleteScript, reserveScript, rescoreScript, updateScript, userScript, writeScript } from './registry-scripts.js';

/**
 * Registrations as Redis hashes with a TTL. While a socket is open here the registration is
 * leased: this instance renews its TTL every third of it, so it never expires while connected,
 * yet the registrations of a crashed node expire one TTL after the crash (see
 * connectionScript). keys.ts says why the per-user set is a separate key.
 */
export class RedisRegistry implements Registry {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;
  readonly #ttlMs: number;
  /** Names this engine instance as the holder of the leases it renews. */
  readonly #holder = randomBytes(8).toString('hex');
  /** Registrations connected on this node: their leases are renewed. */
  readonly #held = new Set<string>();
  readonly #renewTimer: NodeJS.Timeout;

  constructor(link: RedisLink, keys: RedisKeys, ttlMs: number) {
    this.#link = link;
    this.#keys = keys;
    this.#ttlMs = ttlMs;
    this.#renewTimer = setInterval(() => void this.renewLeases(), Math.max(50, Math.min(Math.floor(ttlMs / 3), 600_000)));
    this.#renewTimer.unref();
  }

  async create(reg: Registration, limits: RegistrationLimits): Promise<{ evicted?: string }> {
    const owner = String(reg.userId);
    const userKeys = [this.#keys.userRegistrations(owner), this.#keys.userLive(owner)];
    const reserve = async (): Promise<[number, number, string | null]> =>
      (await this.#link.call((c) => reserveScript.run(c, userKeys, [reg.id, limits.perUser, this.#ttlMs]))) as [number, number, string | null];
    let [ok, held, victim] = await reserve();
    if (ok !== 1 && (await this.#forgetGone(userKeys[0]!)) > 0) [ok, held, victim] = await reserve();
    if (ok !== 1) throw new HeraldError('too_many_registrations', `Every one of user ${owner}'s ${held} registrations is connected (HERALD_MAX_REGISTRATIONS_PER_USER=${limits.perUser}); close or unregister one first.`);
    if (victim) {
      await this.#dropEvicted(victim);
    } else if ((await this.count()) >= limits.total) {
      // The total spans every user's slot, so it is checked beside the script: approximate under races.
      await this.#user(owner, reg.id, 'remove');
      throw new HeraldError('registrations_full', `Herald holds HERALD_MAX_REGISTRATIONS=${limits.total} registrations: unregister clients, or raise the limit.`);
    }
    const fields = ['owner', owner, 'user', JSON.stringify(reg.userId), 'topics', JSON.stringify(reg.topics), 'grants', JSON.stringify(reg.grants), 'cursors', JSON.stringify(reg.cursors), 'createdAt', String(reg.createdAt), 'connected', '0'];
    if (reg.held) fields.push('held', JSON.stringify(reg.held));
    try {
      await this.#link.call((c) => writeScript.run(c, [this.#keys.registration(reg.id)], [this.#ttlMs, ...fields]));
    } catch (err) {
      await this.#user(owner, reg.id, 'remove');
      throw err;
    }
    await this.#rescore(this.#keys.allRegistrations(), reg.id, 'add');
    return victim ? { evicted: victim } : {};
  }

  async get(id: string): Promise<Registration | undefined> {
    const h = await this.#link.call((c) => c.hgetall(this.#keys.registration(id)));
    return parse(id, h);
  }

  async delete(id: string): Promise<boolean> {
    const owner = (await this.#link.call((c) => deleteScript.run(c, [this.#keys.registration(id)], []))) as string | null;
    this.#held.delete(id);
    if (owner === null) return false;
    await Promise.all([this.#user(owner, id, 'remove'), this.#rescore(this.#keys.allRegistrations(), id, 'remove')]);
    return true;
  }

  async update(id: string, change: RightsUpdate): Promise<Registration | undefined> {
    const fields: string[] = [];
    for (const k of ['topics', 'grants', 'held'] as const) {
      const v = change[k];
      if (v) fields.push(k, JSON.stringify(v));
    }
    if (fields.length === 0) return this.get(id);
    const flat = (await this.#link.call((c) => updateScript.run(c, [this.#keys.registration(id)], fields))) as string[] | null;
    if (!flat) return undefined;
    const h: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
    return parse(id, h);
  }

  async setHeld(id: string, topics: string[]): Promise<void> {
    await this.#link.call((c) => updateScript.run(c, [this.#keys.registration(id)], ['held', JSON.stringify(topics)]));
  }

  async saveCursors(id: string, cursors: Record<string, StreamPosition>): Promise<void> {
    await this.#link.call((c) => updateScript.run(c, [this.#keys.registration(id)], ['cursors', JSON.stringify(cursors)]));
  }

  async saveManyCursors(entries: ReadonlyArray<CursorSave>): Promise<Array<PromiseSettledResult<void>>> {
    // Issued with the sockets corked: the commands leave in one write per connection.
    return Promise.allSettled(this.#link.corked(() => entries.map((e) => this.saveCursors(e.id, e.cursors))));
  }

  async markConnected(id: string): Promise<void> {
    this.#held.add(id);
    if (!(await this.#connection(id, 'connected'))) this.#held.delete(id);
  }

  async markDisconnected(id: string): Promise<void> {
    this.#held.delete(id);
    await this.#connection(id, 'disconnected');
  }

  /** Extends the leases of the registrations connected here; drops those now held elsewhere. */
  async renewLeases(): Promise<void> {
    if (!this.#link.usable()) return;
    const ids = [...this.#held];
    for (let i = 0; i < ids.length; i += 200) {
      await Promise.all(
        ids.slice(i, i + 200).map(async (id) => {
          try {
            if (!(await this.#connection(id, 'renew'))) this.#held.delete(id);
          } catch {
            // Redis went away mid-round: the next round retries.
          }
        }),
      );
    }
  }

  async deleteUser(user: string): Promise<string[]> {
    const ids = await this.#link.call((c) => c.zrange(this.#keys.userRegistrations(user), 0, -1));
    const gone = await Promise.all(ids.map(async (id) => ((await this.delete(id)) ? id : undefined)));
    return gone.filter((id): id is string => id !== undefined);
  }

  async revokeUser(user: string, atSeconds: number, ttlMs: number): Promise<void> {
    await this.#link.call((c) => c.set(this.#keys.userRevoked(user), String(atSeconds), 'PX', ttlMs));
  }

  async revokedAt(user: string): Promise<number | undefined> {
    const v = await this.#link.call((c) => c.get(this.#keys.userRevoked(user)));
    return v === null ? undefined : Number(v);
  }

  async count(): Promise<number> {
    return await this.#link.call((c) => c.zcount(this.#keys.allRegistrations(), `(${Date.now()}`, '+inf'));
  }

  async close(): Promise<void> {
    clearInterval(this.#renewTimer);
  }

  /** Returns false when the registration is gone (or, renewing, no longer ours). */
  async #connection(id: string, mode: 'connected' | 'renew' | 'disconnected'): Promise<boolean> {
    const owner = (await this.#link.call((c) => connectionScript.run(c, [this.#keys.registration(id)], [mode, this.#ttlMs, this.#holder]))) as string | null;
    if (owner === null) return false;
    await Promise.all([this.#user(owner, id, mode), this.#rescore(this.#keys.allRegistrations(), id, 'touch')]);
    return true;
  }

  /** An evicted registration: its hash goes (the reserve script already took it from the user's sets). */
  async #dropEvicted(id: string): Promise<void> {
    const owner = (await this.#link.call((c) => deleteScript.run(c, [this.#keys.registration(id)], []))) as string | null;
    this.#held.delete(id);
    if (owner !== null) await Promise.all([this.#user(owner, id, 'remove'), this.#rescore(this.#keys.allRegistrations(), id, 'remove')]);
  }

  /** Keeps the user's sets in step (limit, eviction); best effort like #rescore. */
  async #user(owner: string, id: string, mode: 'connected' | 'renew' | 'disconnected' | 'remove'): Promise<void> {
    try {
      await this.#link.call((c) => userScript.run(c, [this.#keys.userRegistrations(owner), this.#keys.userLive(owner)], [id, mode, this.#ttlMs]));
    } catch {
      // best effort: the scores run out on their own
    }
  }

  /**
   * Drops ids whose registration is gone from a user's set: after a lost update (Redis blinked
   * between two steps) an id may outlive its registration by up to one TTL.
   */
  async #forgetGone(userKey: string): Promise<number> {
    const ids = await this.#link.call((c) => c.zrange(userKey, 0, -1));
    const exists = await Promise.all(ids.map((id) => this.#link.call((c) => c.exists(this.#keys.registration(id)))));
    const gone = ids.filter((_, i) => exists[i] === 0);
    if (gone.length > 0) await this.#link.call((c) => c.zrem(userKey, ...gone));
    return gone.length;
  }

  // The sets only count registrations (limit, metrics): an update lost while Redis blinks
  // heals when the entry's score runs out, so it must not fail the caller's operation.
  async #rescore(key: string, id: string, mode: 'add' | 'touch' | 'remove'): Promise<void> {
    try {
      await this.#link.call((c) => rescoreScript.run(c, [key], [id, mode, this.#ttlMs]));
    } catch {
      // best effort, see above
    }
  }
}

function parse(id: string, h: Record<string, string>): Registration | undefined {
  if (!h['owner']) return undefined;
  const reg: Registration = {
    id,
    userId: JSON.parse(h['user'] ?? 'null') as UserId,
    topics: JSON.parse(h['topics'] ?? '[]') as string[],
    grants: JSON.parse(h['grants'] ?? '[]') as string[],
    cursors: JSON.parse(h['cursors'] ?? '{}') as Record<string, StreamPosition>,
    createdAt: Number(h['createdAt']),
  };
  if (h['held'] !== undefined) reg.held = JSON.parse(h['held']) as string[];
  return reg;
}
