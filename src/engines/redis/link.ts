import { HeraldError } from '../../errors.js';
import { Cluster } from 'ioredis';
import type { RedisClient } from './connection.js';

// Redis replies that mean "not now" rather than "your command is wrong".
const transient = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|MOVED|ASK)\b/;

/** An error from Redis as Herald reports it: unreachable or busy Redis is engine_unavailable. */
export function toEngineError(err: unknown): Error {
  if (err instanceof HeraldError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'ReplyError' && !transient.test(e.message)) return e; // a bug: keep it visible
  return new HeraldError('engine_unavailable', `The engine (Redis) is unreachable (${e.message}); retry shortly.`);
}

/**
 * The command connection shared by registry, history and broker. Calls fail at once with
 * engine_unavailable while Redis is away, instead of waiting in a queue; only the very first
 * connect is waited for (briefly), so a freshly started node can serve right away.
 */
export class RedisLink {
  readonly client: RedisClient;
  readonly cluster: boolean;
  readonly #firstReady: Promise<boolean>;
  #everReady = false;

  constructor(client: RedisClient, cluster: boolean, firstConnectWaitMs = 3_000) {
    this.client = client;
    this.cluster = cluster;
    this.#firstReady = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), firstConnectWaitMs);
      timer.unref();
      client.once('ready', () => {
        clearTimeout(timer);
        this.#everReady = true;
        resolve(true);
      });
    });
  }

  usable(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Runs `fn` with the client's sockets corked, so the commands it sends synchronously leave in
   * one write per connection instead of one each (a manual pipeline; ioredis's autopipelining
   * mis-routes EVALSHA in Cluster mode, redis/ioredis#2109). Replies and errors stay per command.
   */
  corked<T>(fn: () => T): T {
    const clients = this.client instanceof Cluster ? this.client.nodes() : [this.client];
    const streams = clients.map((c) => c.stream).filter((s) => s !== undefined && s.writable);
    for (const s of streams) s.cork();
    try {
      return fn();
    } finally {
      for (const s of streams) s.uncork();
    }
  }

  async call<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    if (!this.usable() && (this.#everReady || !(await this.#firstReady) || !this.usable())) {
      throw new HeraldError('engine_unavailable', `The engine (Redis) is unreachable (connection ${this.client.status}); retry shortly.`, { unsent: true });
    }
    try {
      return await fn(this.client);
    } catch (err) {
      throw toEngineError(err);
    }
  }
}
