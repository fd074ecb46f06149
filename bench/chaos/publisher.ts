// Publishes at a steady rate over HTTP, round-robin through every node that is up (a backend
// that calls its nodes directly), and writes each publish and its answer into the ledger. No
// retries: a publish whose answer never came is `unknown` (it may have happened), never resent.
import type { PublishLedger, PublishOutcome, PublishRecord } from './ledger.js';

export interface PublishTarget {
  /** The ports of the nodes to publish through now. */
  ports(): readonly number[];
  /** A topic and user (null: everyone holding the topic) for the next publish. */
  next(): { topic: string; user: string | null };
}

const TIMEOUT_MS = 5000;
/** Requests in flight beyond this are not started (a hung node must not pile them up without bound). */
const MAX_IN_FLIGHT = 500;

export class Publisher {
  readonly #ledger: PublishLedger;
  readonly #target: PublishTarget;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = new Set<Promise<void>>();
  #turn = 0;
  /** Publishes not started because too many were in flight. */
  skipped = 0;

  constructor(ledger: PublishLedger, target: PublishTarget) {
    this.#ledger = ledger;
    this.#target = target;
  }

  /** One publish now; resolves when it is settled in the ledger. */
  publish(topic: string, user: string | null): Promise<PublishRecord> {
    const ports = this.#target.ports();
    const record = this.#ledger.start(topic, user);
    if (ports.length === 0) {
      this.#ledger.settle(record, 'refused');
      return Promise.resolve(record);
    }
    const port = ports[this.#turn++ % ports.length] as number;
    const body = JSON.stringify({ topic, ...(user === null ? {} : { user_id: user }), data: { i: record.id, t: topic } });
    const done = this.#send(port, body).then(([outcome, offset]) => {
      this.#ledger.settle(record, outcome, offset);
      return record;
    });
    const tracked = done.then(() => {});
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
    return done;
  }

  async #send(port: number, body: string): Promise<[PublishOutcome, number]> {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const answer = (await res.json()) as { offset?: number; degraded?: boolean };
      if (res.status !== 200) return ['refused', 0];
      if (answer.degraded === true || answer.offset === 0) return ['degraded', 0];
      return typeof answer.offset === 'number' ? ['acked', answer.offset] : ['unknown', 0];
    } catch (err) {
      // Refused before anything was sent: certainly not published.
      const code = (err as { cause?: { code?: string } }).cause?.code;
      return [code === 'ECONNREFUSED' ? 'refused' : 'unknown', 0];
    }
  }

  /** `perSecond` publishes a second, in ticks of 20 ms, until stop(). */
  start(perSecond: number): void {
    const started = performance.now();
    let sent = 0;
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
      for (; sent < due; sent++) {
        if (this.#inFlight.size >= MAX_IN_FLIGHT) {
          this.skipped++;
          continue;
        }
        const { topic, user } = this.#target.next();
        void this.publish(topic, user);
      }
    }, 20);
  }

  /** Stops starting publishes and waits for those in flight to settle. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([...this.#inFlight]);
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }
}
