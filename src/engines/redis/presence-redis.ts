import { createHash, randomBytes } from 'node:crypto';
import { memberNotices, type WebhookNotice } from '../webhooks.js';
import type { Presence, PresenceEvent, PresenceHandler, PresenceMember, PresenceSnapshot } from '../presence.js';
import { LocalPresence, type PresenceWrite } from '../presence-local.js';
import type { EngineLog } from './broker-redis.js';
import type { RedisKeys } from './keys.js';
import type { RedisLink } from './link.js';
import { presenceCountScript, presenceRenewScript, presenceSweepScript, presenceWriteScript } from './presence-scripts.js';

/** Users per write script: a big burst is split so Redis is never held long by one call. */
const WRITE_CHUNK = 1000;
/** Topics renewed per tick. */
const RENEW_CHUNK = 500;
/** Members read per HSCAN page. */
const SCAN_COUNT = 2000;

export interface RedisPresenceOptions {
  /** A dead node's members are gone within this time (HERALD_PRESENCE_TTL). */
  ttlMs: number;
  log: EngineLog;
  /**
   * Webhooks on: scripts also append their joins/leaves to the topic's outbox, and the node that
   * ran them moves them here (with ids made from their outbox entries, so a second move of the
   * same entry gives the same ids), before the write counts as flushed.
   */
  forward?: (notices: WebhookNotice[]) => Promise<void>;
  /** Names this node's share (the cluster view's share of the same engine has the same name). */
  node?: string;
}

type Reply = [result: number, announced: string];

/** Outbox entries moved per read. */
const MOVE_CHUNK = 100;
/** Topics whose outbox could not be moved, kept for the next try (beyond: the sweep of a dead node, or the next change). */
const MAX_UNMOVED = 10_000;

/**
 * Presence in Redis (layout in presence-scripts.ts). This node's share of a topic expires two
 * thirds of a TTL after it was last written or renewed, and is renewed every third: so a live
 * node keeps it with one renewal to spare, and a dead node's share is expired and removed by
 * the next renewal of any survivor that holds the topic, within one TTL of the death.
 */
export class RedisPresence implements Presence {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;
  readonly #o: RedisPresenceOptions;
  /** Names this engine instance's share (never a registration id, never the node's name). */
  readonly #node: string;
  readonly #local: LocalPresence;
  /** Topics whose share was written: a later write of them must find it alive. */
  readonly #written = new Set<string>();
  readonly #timer: NodeJS.Timeout;
  #renewing = false;
  /** Topics whose outbox a move left behind (bounded by MAX_UNMOVED). */
  readonly #unmoved = new Set<string>();
  #onEvent: PresenceHandler = () => {};

  constructor(link: RedisLink, keys: RedisKeys, options: RedisPresenceOptions) {
    this.#link = link;
    this.#keys = keys;
    this.#o = options;
    this.#node = options.node ?? randomBytes(6).toString('hex');
    this.#local = new LocalPresence((writes) => this.#write(writes));
    this.#timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(options.ttlMs / 3)));
    this.#timer.unref();
  }

  add(topic: string, user: string): void {
    this.#local.add(topic, user);
  }

  remove(topic: string, user: string): void {
    this.#local.remove(topic, user);
  }

  flushed(): Promise<void> {
    return this.#local.flushed();
  }

  async get(topic: string, members: boolean): Promise<PresenceSnapshot> {
    const [clients, users, announced] = (await this.#link.call((c) => presenceCountScript.run(c, [...this.#common(topic), this.#keys.presenceOutbox(topic)], this.#commonArgs(topic)))) as [number, number, string];
    if (announced) await this.#move([topic]);
    if (!members) return { clients, users };
    // Read in pages (HSCAN) so a topic of 100,000 members never holds Redis for one long
    // command; the counts are then those of the list, so the answer agrees with itself.
    const found = new Map<string, number>();
    const key = this.#keys.presenceUsers(topic);
    let cursor = '0';
    do {
      const [next, flat] = await this.#link.call((c) => c.hscan(key, cursor, 'COUNT', SCAN_COUNT));
      for (let i = 0; i < flat.length; i += 2) found.set(flat[i]!, Number(flat[i + 1]));
      cursor = next;
    } while (cursor !== '0');
    const list: PresenceMember[] = [];
    let total = 0;
    for (const [user, n] of found) {
      list.push({ user, clients: n });
      total += n;
    }
    return { clients: total, users: list.length, members: list };
  }

  onEvent(handler: PresenceHandler): void {
    this.#onEvent = handler;
  }

  /** An event from a topic channel (the broker hands it over, in order with the messages). */
  receive(event: PresenceEvent): void {
    this.#onEvent(event);
  }

  /**
   * A dead node's share of `topic` is removed now if it has expired (its leaves announced and
   * queued, and any outbox a dead node left moved). Returns 0 when nothing of `node` is left there, else the time (ms,
   * Redis clock) its share expires: sweep again then.
   */
  async sweep(node: string, topic: string): Promise<number> {
    const [expiry] = (await this.#link.call((c) => presenceSweepScript.run(c, [...this.#common(topic), this.#keys.presenceOutbox(topic)], [...this.#commonArgs(topic), node]))) as [number, string];
    // Also what the dead node announced but had not moved yet.
    if (!(await this.#move([topic]))) throw new Error('the outbox could not be moved');
    return expiry;
  }

  /** Redis came back empty: write this node's share of every topic again. */
  reset(): void {
    this.#written.clear();
    this.#local.rewriteAll();
  }

  /** Renews this node's share of every topic it holds; a share found gone is written whole. */
  async renew(): Promise<void> {
    if (this.#renewing || !this.#link.usable()) return;
    this.#renewing = true;
    try {
      const topics = [...this.#local.topics()];
      const lost: string[] = [];
      for (let i = 0; i < topics.length; i += RENEW_CHUNK) {
        if (i > 0) await new Promise((r) => setImmediate(r));
        const chunk = topics.slice(i, i + RENEW_CHUNK);
        const results = await Promise.allSettled(this.#link.corked(() => chunk.map((t) => this.#link.call((c) => presenceRenewScript.run(c, this.#share(t), [...this.#commonArgs(t), this.#node, this.#entryTtl, this.#keyTtl])))));
        const announced: string[] = [...this.#unmoved];
        results.forEach((r, j) => {
          const reply = r.status === 'fulfilled' ? (r.value as Reply) : undefined;
          if (reply?.[1]) announced.push(chunk[j]!);
          if (!reply || reply[0] === 0) lost.push(chunk[j]!);
        });
        await this.#move(announced);
      }
      if (lost.length > 0) {
        this.#o.log.debug({ topics: lost.length }, 'presence: writing back shares that were gone or not renewed');
        this.#local.rewrite(lost);
      }
    } finally {
      this.#renewing = false;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    // A node shutting down has closed its sockets: their leaves go out now, not after the TTL.
    if (this.#link.usable()) await this.#local.drain(2_000);
    else this.#local.close();
  }

  get #entryTtl(): number {
    return Math.max(1, Math.floor((this.#o.ttlMs * 2) / 3));
  }

  get #keyTtl(): number {
    return this.#o.ttlMs * 2;
  }

  async #write(writes: PresenceWrite[]): Promise<string[]> {
    const calls: Array<{ topic: string; last: boolean; run: Promise<unknown> }> = [];
    this.#link.corked(() => {
      for (const w of writes) {
        const strict = this.#written.has(w.topic) ? 1 : 0;
        // A replace goes whole (it must list every user); plain updates go in chunks.
        const size = w.replace ? Math.max(1, w.users.length) : WRITE_CHUNK;
        for (let i = 0; i === 0 || i < w.users.length; i += size) {
          const args: Array<string | number> = [...this.#commonArgs(w.topic), this.#node, this.#entryTtl, this.#keyTtl, w.replace ? 1 : 0, strict];
          for (const [user, n] of w.users.slice(i, i + size)) args.push(user, n);
          const last = i + size >= w.users.length;
          calls.push({ topic: w.topic, last, run: this.#link.call((c) => presenceWriteScript.run(c, this.#share(w.topic), args)) });
        }
      }
    });
    const failed = new Set<string>();
    const refused = new Set<string>();
    const results = await Promise.allSettled(calls.map((c) => c.run));
    const announced: string[] = [];
    results.forEach((r, i) => {
      const { topic, last } = calls[i]!;
      const reply = r.status === 'fulfilled' ? (r.value as Reply) : undefined;
      if (reply?.[1]) announced.push(topic);
      if (!reply) {
        failed.add(topic);
        this.#written.delete(topic);
      } else if (reply[0] === 0) {
        // The share expired or vanished: not an error, write it whole right away.
        refused.add(topic);
        this.#written.delete(topic);
      } else if (last && !failed.has(topic) && !refused.has(topic)) {
        if (reply[0] === 2) this.#written.delete(topic);
        else this.#written.add(topic);
      }
    });
    await this.#move(announced);
    if (refused.size > 0) this.#local.rewrite(refused);
    if (failed.size > 0) this.#o.log.debug({ topics: failed.size }, 'presence: some writes failed; those topics are written whole on the next try');
    return [...failed];
  }

  /**
   * Moves the outboxes of these topics to the webhook stream, oldest first, then deletes what was
   * moved (a second mover repeats the same ids: duplicates, never losses). Never throws; false
   * when some outbox stays (it is tried again with this node's next renewal).
   */
  async #move(topics: Iterable<string>): Promise<boolean> {
    const forward = this.#o.forward;
    if (!forward) return true;
    let ok = true;
    for (const topic of new Set(topics)) {
      const key = this.#keys.presenceOutbox(topic);
      const tag = createHash('sha1').update(topic).digest('hex').slice(0, 12);
      try {
        for (;;) {
          const entries = (await this.#link.call((c) => c.xrange(key, '-', '+', 'COUNT', MOVE_CHUNK))) as Array<[string, string[]]>;
          if (entries.length === 0) break;
          const notices: WebhookNotice[] = [];
          for (const [id, fields] of entries) {
            const e = decodePresenceEvent(fields[1] ?? '');
            if (!e) continue;
            const time = Number(id.slice(0, id.indexOf('-')));
            memberNotices(e).forEach((n, i) => notices.push({ ...n, id: `${tag}-${id}-${i}`, time }));
          }
          await forward(notices);
          await this.#link.call((c) => c.xdel(key, ...entries.map(([id]) => id)));
          if (entries.length < MOVE_CHUNK) break;
        }
        this.#unmoved.delete(topic);
      } catch (err) {
        ok = false;
        if (this.#unmoved.size < MAX_UNMOVED) this.#unmoved.add(topic);
        this.#o.log.warn({ err }, 'presence: could not move join/leave events to the webhook stream; trying again later');
      }
    }
    return ok;
  }

  #common(topic: string): string[] {
    const k = this.#keys;
    return [k.presenceUsers(topic), k.presenceClients(topic), k.presenceNodes(topic), k.channel(topic)];
  }

  #share(topic: string): string[] {
    return [...this.#common(topic), `${this.#keys.presenceNodes(topic)}:${this.#node}`, this.#keys.presenceOutbox(topic)];
  }

  #commonArgs(topic: string): string[] {
    const publish = this.#link.cluster ? 'SPUBLISH' : 'PUBLISH';
    return [topic, this.#o.forward ? `${publish}+` : publish];
  }
}

/** Parses a join/leave event published by the presence scripts; undefined when it is not one. */
export function decodePresenceEvent(payload: string): PresenceEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const o = v as { presence?: unknown; joined?: unknown; left?: unknown } | null;
  if (!o || typeof o.presence !== 'string') return undefined;
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((u) => typeof u === 'string');
  // cjson encodes an empty Lua table as {}: no users.
  const joined = strings(o.joined) ? o.joined : [];
  const left = strings(o.left) ? o.left : [];
  return { topic: o.presence, joined, left };
}
