import { randomBytes } from 'node:crypto';
import type { ClusterView, TopicCount, TopicsPage } from '../cluster-view.js';
import type { EngineLog } from './broker-redis.js';
import { clusterRenewScript, clusterStatsScript, clusterTopicsScript, clusterWriteScript } from './cluster-view-scripts.js';
import type { RedisKeys } from './keys.js';
import type { RedisLink } from './link.js';

/** Topics per write script. */
const WRITE_CHUNK = 1000;

export interface RedisClusterViewOptions {
  /** A dead node's share is gone within this time (HERALD_PRESENCE_TTL). */
  ttlMs: number;
  log: EngineLog;
  /** Names this node's share (its presence shares have the same name: see the webhook sweep). */
  node?: string;
}

/**
 * The cluster view in Redis (layout in cluster-view-scripts.ts). Subscriber counts are written
 * as they change, in batches of absolute values (idempotent); the node's share expires two
 * thirds of a TTL after its last renewal, and each report() (every second or so, with the
 * node's /stats) renews it. A share found gone is written whole from this node's counts.
 */
export class RedisClusterView implements ClusterView {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;
  readonly #o: RedisClusterViewOptions;
  readonly #node: string;
  /** This node's subscribers per topic (bounded by the hub's topics). */
  readonly #counts = new Map<string, number>();
  readonly #dirty = new Set<string>();
  #replace = true;
  #written = false;
  #scheduled = false;
  #writing = false;
  #closed = false;

  constructor(link: RedisLink, keys: RedisKeys, options: RedisClusterViewOptions) {
    this.#link = link;
    this.#keys = keys;
    this.#o = options;
    this.#node = options.node ?? randomBytes(6).toString('hex');
  }

  setSubscribers(topic: string, count: number): void {
    if (count > 0) this.#counts.set(topic, count);
    else this.#counts.delete(topic);
    this.#dirty.add(topic);
    this.#schedule();
  }

  async topics(offset: number, limit: number): Promise<TopicsPage> {
    const flat = (await this.#link.call((c) => clusterTopicsScript.run(c, [...this.#common(), ...this.#wh()], [offset, limit]))) as Array<string | number>;
    const topics: TopicCount[] = [];
    for (let i = 1; i < flat.length; i += 2) topics.push({ topic: String(flat[i]), subscribers: Number(flat[i + 1]) });
    return { topics, total: Number(flat[0]) };
  }

  async report(stats: string): Promise<void> {
    const keys = [...this.#common(), this.#share(), `${this.#share()}:stats`, ...this.#wh()];
    const alive = await this.#link.call((c) => clusterRenewScript.run(c, keys, [this.#node, this.#entryTtl, this.#keyTtl, stats]));
    if (alive === 0) this.#replace = true;
    if (this.#replace || this.#dirty.size > 0) this.#schedule();
  }

  async nodeStats(): Promise<string[]> {
    return (await this.#link.call((c) => clusterStatsScript.run(c, [...this.#common(), ...this.#wh()], []))) as string[];
  }

  /** A node shutting down takes its share out of the sums at once (best effort), not after the TTL. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#link.usable() || !this.#written) return;
    const keys = [...this.#common(), this.#share(), ...this.#wh()];
    const args = [this.#node, 1, this.#keyTtl, 1, 0];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#link.call((c) => clusterWriteScript.run(c, keys, args)).then(() => this.#link.call((c) => c.zrem(this.#keys.clusterNodes(), this.#node))).catch(() => undefined),
      new Promise<void>((r) => (timer = setTimeout(r, 2_000))),
    ]);
    clearTimeout(timer);
  }

  get #entryTtl(): number {
    return Math.max(1, Math.floor((this.#o.ttlMs * 2) / 3));
  }

  get #keyTtl(): number {
    return this.#o.ttlMs * 2;
  }

  #common(): string[] {
    return [this.#keys.clusterTopics(), this.#keys.clusterNodes()];
  }

  /** The webhook keys every cluster script takes last (it appends occupied/vacated there). */
  #wh(): string[] {
    const w = this.#keys.webhooks();
    return [w.sweep, w.stream, w.dropped, w.on];
  }

  #share(): string {
    return `${this.#keys.clusterNodes()}:${this.#node}`;
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing || this.#closed) return;
    this.#scheduled = true;
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    if (this.#closed || (!this.#replace && this.#dirty.size === 0)) return;
    const replace = this.#replace;
    const topics = replace ? [...this.#counts.keys()] : [...this.#dirty];
    this.#replace = false;
    this.#dirty.clear();
    this.#writing = true;
    let ok = true;
    try {
      // A replace goes in one call (it must list every topic); updates in chunks.
      const size = replace ? Math.max(1, topics.length) : WRITE_CHUNK;
      const calls: Array<Promise<unknown>> = [];
      this.#link.corked(() => {
        for (let i = 0; i === 0 || i < topics.length; i += size) {
          const args: Array<string | number> = [this.#node, this.#entryTtl, this.#keyTtl, replace ? 1 : 0, this.#written ? 1 : 0];
          for (const t of topics.slice(i, i + size)) args.push(t, this.#counts.get(t) ?? 0);
          calls.push(this.#link.call((c) => clusterWriteScript.run(c, [...this.#common(), this.#share(), ...this.#wh()], args)));
        }
      });
      const results = await Promise.allSettled(calls);
      if (results.some((r) => r.status === 'rejected' || r.value === 0)) ok = false;
    } catch {
      ok = false;
    }
    this.#writing = false;
    if (ok) this.#written = true;
    else {
      // Written whole on the next report (about a second later), not retried in a loop.
      this.#replace = true;
      this.#written = false;
      this.#o.log.debug('cluster view: a write failed or found this node\'s share gone; it is written whole next');
      return;
    }
    if (this.#dirty.size > 0 || this.#replace) this.#schedule();
  }
}
