import { randomBytes } from 'node:crypto';
import type { EngineStatus } from '../engine.js';
import { aliveScript } from './alive-script.js';
import type { EngineLog, RedisBroker } from './broker-redis.js';
import type { RedisKeys } from './keys.js';
import type { RedisLink } from './link.js';

/**
 * Whether Redis is usable, as seen by this node: both connections up, the subscriptions in
 * place and the `alive` marker readable. It probes on every connection change and once a
 * second, and reports transitions: down, up, and reset when the marker's generation changed
 * (Redis lost its data: restarted without persistence, or flushed).
 */
export class RedisHealth {
  readonly #link: RedisLink;
  readonly #broker: RedisBroker;
  readonly #keys: RedisKeys;
  readonly #log: EngineLog;
  readonly #handlers: Array<(s: EngineStatus) => void> = [];
  readonly #timer: NodeJS.Timeout;
  #up = false;
  #everUp = false;
  #generation: string | undefined;
  #lastError = 'not connected yet';
  #probing = false;
  #again = false;
  #closed = false;

  constructor(link: RedisLink, broker: RedisBroker, keys: RedisKeys, log: EngineLog, intervalMs = 1_000) {
    this.#link = link;
    this.#broker = broker;
    this.#keys = keys;
    this.#log = log;
    const c = link.client;
    c.on('error', (err: Error) => {
      this.#lastError = err.message;
    });
    c.on('ready', () => void this.probe());
    c.on('close', () => this.#down(this.#lastError));
    c.on('end', () => this.#down(this.#lastError));
    broker.onSubscriberState(() => void this.probe());
    this.#timer = setInterval(() => void this.probe(), intervalMs);
    this.#timer.unref();
  }

  healthy(): boolean {
    return this.#up;
  }

  onStatus(handler: (s: EngineStatus) => void): void {
    this.#handlers.push(handler);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  async probe(): Promise<void> {
    if (this.#probing) {
      this.#again = true;
      return;
    }
    this.#probing = true;
    try {
      do {
        this.#again = false;
        await this.#probeOnce();
      } while (this.#again && !this.#closed);
    } finally {
      this.#probing = false;
    }
  }

  async #probeOnce(): Promise<void> {
    if (this.#closed) return;
    if (!this.#link.usable()) return this.#down(this.#lastError);
    if (!this.#broker.subscriberReady()) return this.#down('redis subscriber connection not ready');
    let gen: string;
    try {
      gen = String(await this.#link.call((c) => aliveScript.run(c, [this.#keys.alive()], [randomBytes(8).toString('hex')])));
    } catch (err) {
      this.#lastError = (err as Error).message;
      return this.#down(this.#lastError);
    }
    const reset = this.#generation !== undefined && gen !== this.#generation;
    this.#generation = gen;
    if (!this.#up) {
      this.#up = true;
      if (this.#everUp) this.#log.info('redis is reachable again');
      this.#everUp = true;
      this.#emit({ type: 'up' });
    }
    if (reset) {
      this.#log.warn('redis came back empty (reset): live registrations must be written back');
      this.#emit({ type: 'reset' });
    }
  }

  #down(error: string): void {
    if (!this.#up || this.#closed) return;
    this.#up = false;
    this.#log.warn({ err: error }, 'redis is unreachable; retrying with backoff');
    this.#emit({ type: 'down', error });
  }

  #emit(s: EngineStatus): void {
    for (const h of this.#handlers) {
      try {
        h(s);
      } catch (err) {
        this.#log.error({ err }, 'engine status handler failed');
      }
    }
  }
}
