import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { WebhookEvent, WebhookQueue } from '../engines/webhooks.js';

/** How a POST ended: `ok` (2xx), `status` (any other answer), `timeout`, `error` (connection). */
export type WebhookResult = 'ok' | 'status' | 'timeout' | 'error';

export interface WebhookSenderOptions {
  url: string;
  secret: string;
  batch: number;
  timeoutMs: number;
  /** First retry delay; doubles up to retryMaxMs (with jitter). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How often the queue is looked at when nothing woke the sender (other nodes' events, the lease). */
  pollMs?: number;
}

/** What /metrics reads: POSTs by result, events delivered or dropped, and delivery latencies. */
export class WebhookStats {
  readonly posts: Record<WebhookResult, number> = { ok: 0, status: 0, timeout: 0, error: 0 };
  delivered = 0;
  dropped = 0;
  /** From an event's time to its 2xx (ms), since the last drain; at most 10,000 kept. */
  latencies: number[] = [];

  drainLatencies(): number[] {
    const l = this.latencies;
    this.latencies = [];
    return l;
  }
}

/** The signature header's value for a body: `sha256=<hex HMAC-SHA256(secret, body)>`. */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Dropped events are logged at most this often (with the count since the last line). */
const DROP_LOG_MS = 10_000;

/**
 * Delivers the queue's events to HERALD_WEBHOOK_URL: one POST at a time (so in order), a JSON
 * array of at most `batch` events, retried with the same events after any answer but a 2xx, a
 * timeout or a connection error, with exponential backoff, until it succeeds; then acknowledged.
 * The response body is never read (cancelled), so a receiver answering huge bodies costs nothing.
 */
export class WebhookSender {
  readonly stats: WebhookStats;
  readonly #queue: WebhookQueue;
  readonly #o: Required<WebhookSenderOptions>;
  readonly #log: Logger;
  #wake: (() => void) | undefined;
  #abort: AbortController | undefined;
  #closed = false;
  #running: Promise<void> | undefined;
  #droppedSinceLog = 0;
  #droppedLoggedAt = 0;

  constructor(queue: WebhookQueue, options: WebhookSenderOptions, log: Logger, stats = new WebhookStats()) {
    this.#queue = queue;
    this.stats = stats;
    this.#o = { retryBaseMs: 250, retryMaxMs: 30_000, pollMs: 250, ...options };
    this.#log = log;
    queue.onAdded(() => this.#wake?.());
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops; a batch in flight is abandoned unacknowledged (delivered again, same ids, by whoever delivers next). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort();
    this.#wake?.();
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      let events: WebhookEvent[] = [];
      try {
        await this.#countDropped();
        events = await this.#queue.take(this.#o.batch);
      } catch (err) {
        this.#log.debug({ err }, 'webhooks: could not read the queue');
      }
      if (events.length === 0) {
        await this.#sleep(this.#o.pollMs, true);
        continue;
      }
      if (!(await this.#deliver(events))) return;
      for (let i = 0; ; i++) {
        try {
          await this.#queue.ack(events);
          break;
        } catch (err) {
          // Unacknowledged events would be sent again (same ids): try a little longer first.
          if (i >= 5 || this.#closed) {
            this.#log.warn({ err }, 'webhooks: could not acknowledge delivered events; they may be delivered again');
            break;
          }
          await this.#sleep(this.#o.retryBaseMs, false);
        }
      }
    }
  }

  /** POSTs until a 2xx; false when closed first. */
  async #deliver(events: WebhookEvent[]): Promise<boolean> {
    const body = JSON.stringify(events.map((e) => (e.user === undefined ? { id: e.id, type: e.type, time: e.time, topic: e.topic } : { id: e.id, type: e.type, time: e.time, topic: e.topic, user: e.user })));
    const signature = signWebhook(this.#o.secret, body);
    for (let attempt = 0; !this.#closed; attempt++) {
      const result = await this.#post(body, signature);
      this.stats.posts[result]++;
      if (result === 'ok') {
        const now = Date.now();
        this.stats.delivered += events.length;
        for (const e of events) if (this.stats.latencies.length < 10_000) this.stats.latencies.push(now - e.time);
        return true;
      }
      const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(attempt, 20));
      if (attempt === 0 || attempt % 10 === 0) this.#log.warn({ result, attempt: attempt + 1, events: events.length }, 'webhooks: POST failed; retrying with backoff');
      await this.#sleep(delay * (0.75 + Math.random() * 0.5), false);
    }
    return false;
  }

  async #post(body: string, signature: string): Promise<WebhookResult> {
    const abort = (this.#abort = new AbortController());
    const timer = setTimeout(() => abort.abort(), this.#o.timeoutMs);
    try {
      const res = await fetch(this.#o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'herald-signature': signature, 'user-agent': 'herald-webhooks' },
        body,
        signal: abort.signal,
        redirect: 'manual',
      });
      // The answer's body means nothing here: dropped unread, whatever its size.
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? 'ok' : 'status';
    } catch {
      return abort.signal.aborted && !this.#closed ? 'timeout' : 'error';
    } finally {
      clearTimeout(timer);
      this.#abort = undefined;
    }
  }

  async #countDropped(): Promise<void> {
    const n = await this.#queue.dropped();
    if (n <= 0) return;
    this.stats.dropped += n;
    this.#droppedSinceLog += n;
    const now = Date.now();
    if (now - this.#droppedLoggedAt < DROP_LOG_MS) return;
    this.#log.warn({ dropped: this.#droppedSinceLog }, 'webhooks: events dropped: more than HERALD_WEBHOOK_MAX_PENDING were undelivered (is the receiver down?)');
    this.#droppedSinceLog = 0;
    this.#droppedLoggedAt = now;
  }

  /** Waits `ms`; `wakeable`: or until the queue says events were added (or close). */
  #sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = wakeable ? done : () => (this.#closed ? done() : undefined);
    });
  }
}
