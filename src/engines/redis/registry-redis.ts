import { randomBytes } from 'node:crypto';
import type { StreamPosition, UserId } from '../../core/message.js';
import { HeraldError } from '../../errors.js';
import type { CursorSave, Registration, Registry } from '../registry.js';
import type { RedisKeys } from './keys.js';
import type { RedisLink } from './link.js';
import { connectionScript, deleteScript, reserveScript, rescoreScript, updateScript, writeScript } from './registry-scripts.js';

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

  async create(reg: Registration, maxPerUser: number): Promise<void> {
    const owner = String(reg.userId);
    const userKey = this.#keys.userRegistrations(owner);
    const reserve = async (): Promise<[number, number]> => (await this.#link.call((c) => reserveScript.run(c, [userKey], [reg.id, maxPerUser, this.#ttlMs]))) as [number, number];
    let [ok, held] = await reserve();
    if (ok !== 1 && (await this.#forgetGone(userKey)) > 0) [ok, held] = await reserve();
    if (ok !== 1) throw new HeraldError('too_many_registrations', `User ${owner} already holds ${held} registrations (HERALD_MAX_REGISTRATIONS_PER_USER=${maxPerUser}); unregister one first.`);
    const fields = ['owner', owner, 'user', JSON.stringify(reg.userId), 'topics', JSON.stringify(reg.topics), 'cursors', JSON.stringify(reg.cursors), 'createdAt', String(reg.createdAt), 'connected', '0'];
    try {
      await this.#link.call((c) => writeScript.run(c, [this.#keys.registration(reg.id)], [this.#ttlMs, ...fields]));
    } catch (err) {
      await this.#rescore(userKey, reg.id, 'remove');
      throw err;
    }
    await this.#rescore(this.#keys.allRegistrations(), reg.id, 'add');
  }

  async get(id: string): Promise<Registration | undefined> {
    const h = await this.#link.call((c) => c.hgetall(this.#keys.registration(id)));
    if (!h['owner']) return undefined;
    return {
      id,
      userId: JSON.parse(h['user'] ?? 'null') as UserId,
      topics: JSON.parse(h['topics'] ?? '[]') as string[],
      cursors: JSON.parse(h['cursors'] ?? '{}') as Record<string, StreamPosition>,
      createdAt: Number(h['createdAt']),
    };
  }

  async delete(id: string): Promise<boolean> {
    const owner = (await this.#link.call((c) => deleteScript.run(c, [this.#keys.registration(id)], []))) as string | null;
    this.#held.delete(id);
    if (owner === null) return false;
    await Promise.all([this.#rescore(this.#keys.userRegistrations(owner), id, 'remove'), this.#rescore(this.#keys.allRegistrations(), id, 'remove')]);
    return true;
  }

  async setTopics(id: string, topics: string[]): Promise<void> {
    await this.#link.call((c) => updateScript.run(c, [this.#keys.registration(id)], ['topics', JSON.stringify(topics)]));
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
    await Promise.all([this.#rescore(this.#keys.userRegistrations(owner), id, 'touch'), this.#rescore(this.#keys.allRegistrations(), id, 'touch')]);
    return true;
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
