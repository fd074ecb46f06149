import { randomBytes } from 'node:crypto';
import type { WebhookEvent, WebhookNotice, WebhookQueue, WebhookType } from '../webhooks.js';
import type { EngineLog } from './broker-redis.js';
import type { RedisKeys } from './keys.js';
import type { RedisLink } from './link.js';
import { webhookAckScript, webhookAddScript, webhookLeaseScript, webhookReleaseScript, webhookSweepTakeScript } from './webhooks-scripts.js';

const GROUP = 'herald';
/** Notices per add script. */
const ADD_CHUNK = 500;

export interface RedisWebhooksOptions {
  /** False: this node neither marks webhooks on nor delivers (it still appends while another node has them on). */
  enabled: boolean;
  maxPending: number;
  /** How long a delivering node may stay silent before another takes over (and its unacknowledged events). */
  leaseMs: number;
  log: EngineLog;
  /**
   * Removes a dead node's expired presence share of a topic (its member.left are queued);
   * returns 0 when done, or when (ms, Redis clock) to try again.
   */
  sweep?: (node: string, topic: string) => Promise<number>;
}

/** Sweep entries handled per lease tick, and how long one is held by the node sweeping it. */
const SWEEP_CHUNK = 100;
const SWEEP_HOLD_MS = 30_000;

type Entry = [id: string, fields: string[]] | null;

/**
 * Webhook events in a Redis stream (keys.ts, webhooks-scripts.ts), read through the consumer
 * group "herald". One node at a time delivers, the holder of a lease it renews every third of
 * its length; a node that dies stops renewing, and the next holder first claims (XAUTOCLAIM)
 * what the dead one had read but not acknowledged, then reads on: every event is delivered at
 * least once, in stream order. Delivered events are deleted, so XLEN is what is pending.
 */
export class RedisWebhooks implements WebhookQueue {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;
  readonly #o: RedisWebhooksOptions;
  readonly #node = randomBytes(6).toString('hex');
  readonly #timer: NodeJS.Timeout | undefined;
  #leader = false;
  #groupReady = false;
  #sweeping = false;
  #onAdded: () => void = () => {};
  #closed = false;

  constructor(link: RedisLink, keys: RedisKeys, options: RedisWebhooksOptions) {
    this.#link = link;
    this.#keys = keys;
    this.#o = options;
    if (options.enabled) {
      this.#timer = setInterval(() => void this.#lease(), Math.max(50, Math.floor(options.leaseMs / 3)));
      this.#timer.unref();
      void this.#lease();
    }
  }

  /** True while this node holds the delivery lease. */
  get leader(): boolean {
    return this.#leader;
  }

  async add(notices: WebhookNotice[]): Promise<void> {
    const w = this.#keys.webhooks();
    for (let i = 0; i < notices.length; i += ADD_CHUNK) {
      const args: string[] = [];
      for (const n of notices.slice(i, i + ADD_CHUNK)) args.push(n.type, n.topic, n.user ?? '', n.id ?? '', n.time !== undefined ? String(n.time) : '');
      await this.#link.call((c) => webhookAddScript.run(c, [w.stream, w.dropped, w.on], args));
    }
    if (notices.length > 0) this.#onAdded();
  }

  async take(max: number): Promise<WebhookEvent[]> {
    if (!this.#leader || this.#closed) return [];
    const stream = this.#keys.webhooks().stream;
    if (!this.#groupReady) await this.#createGroup(stream);
    try {
      // What a dead (or earlier) holder read but did not acknowledge comes first: it is older.
      const claimed = (await this.#link.call((c) => c.xautoclaim(stream, GROUP, this.#node, 0, '0-0', 'COUNT', max))) as [string, Entry[], string[]?];
      const pending = this.#decode(claimed[1]);
      if (pending.length > 0) return pending;
      const read = (await this.#link.call((c) => c.xreadgroup('GROUP', GROUP, this.#node, 'COUNT', max, 'STREAMS', stream, '>'))) as Array<[string, Entry[]]> | null;
      return read ? this.#decode(read[0]![1]) : [];
    } catch (err) {
      // Redis came back empty (no group): it is made again on the next call.
      if (err instanceof Error && /NOGROUP/.test(err.message)) this.#groupReady = false;
      throw err;
    }
  }

  async ack(events: WebhookEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.#link.call((c) => webhookAckScript.run(c, [this.#keys.webhooks().stream], [GROUP, ...events.map((e) => e.entry ?? e.id)]));
  }

  async dropped(): Promise<number> {
    const n = await this.#link.call((c) => c.getdel(this.#keys.webhooks().dropped));
    return Number(n ?? 0);
  }

  onAdded(handler: () => void): void {
    this.#onAdded = handler;
  }

  /** Gives the lease up at once, so another node delivers without waiting for it to expire. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (!this.#leader || !this.#link.usable()) return;
    this.#leader = false;
    await this.#link.call((c) => webhookReleaseScript.run(c, [this.#keys.webhooks().lease], [this.#node])).catch(() => undefined);
  }

  async #lease(): Promise<void> {
    // Not skipped before the first connect (link.call waits for it): "on" must be set before
    // this node's first cluster writes, or their events would not be queued.
    if (this.#closed) return;
    const w = this.#keys.webhooks();
    try {
      // "on" outlives a lease many times over: a short Redis hiccup does not stop the events.
      const won = await this.#link.call((c) => webhookLeaseScript.run(c, [w.lease, w.on], [this.#node, this.#o.leaseMs, this.#o.maxPending, this.#o.leaseMs * 10]));
      const was = this.#leader;
      this.#leader = won === 1 && !this.#closed;
      if (this.#leader && !was) {
        this.#o.log.info('webhooks: this node delivers now');
        this.#onAdded();
      }
      if (this.#leader) await this.#sweep();
    } catch {
      this.#leader = false;
    }
  }

  /** The delivering node removes dead nodes' presence shares (keys.ts: the sweep set). */
  async #sweep(): Promise<void> {
    const sweep = this.#o.sweep;
    if (!sweep || this.#sweeping) return;
    this.#sweeping = true;
    const key = this.#keys.webhooks().sweep;
    try {
      const due = (await this.#link.call((c) => webhookSweepTakeScript.run(c, [key], [SWEEP_CHUNK, SWEEP_HOLD_MS]))) as string[];
      for (const entry of due) {
        const space = entry.indexOf(' ');
        const retryAt = await sweep(entry.slice(0, space), entry.slice(space + 1));
        if (retryAt > 0) await this.#link.call((c) => c.zadd(key, 'XX', retryAt + 1, entry));
        else await this.#link.call((c) => c.zrem(key, entry));
      }
    } catch (err) {
      this.#o.log.debug({ err }, 'webhooks: a sweep of dead nodes\' presence failed; it is tried again');
    } finally {
      this.#sweeping = false;
    }
  }

  async #createGroup(stream: string): Promise<void> {
    try {
      await this.#link.call((c) => c.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM'));
    } catch (err) {
      if (!(err instanceof Error && /BUSYGROUP/.test(err.message))) throw err;
    }
    this.#groupReady = true;
  }

  #decode(entries: Entry[]): WebhookEvent[] {
    const out: WebhookEvent[] = [];
    for (const entry of entries) {
      if (!entry) continue; // deleted meanwhile
      const [id, flat] = entry;
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
      if (!f['type'] || f['topic'] === undefined) continue;
      const e: WebhookEvent = { id: f['id'] ?? id, type: f['type'] as WebhookType, time: Number(f['time'] ?? id.slice(0, id.indexOf('-'))), topic: f['topic'], entry: id };
      if (f['user'] !== undefined) e.user = f['user'];
      out.push(e);
    }
    return out;
  }
}
