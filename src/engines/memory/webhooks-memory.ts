import { randomUUID } from 'node:crypto';
import type { WebhookEvent, WebhookNotice, WebhookQueue } from '../webhooks.js';

/**
 * One process: an in-memory queue of at most `maxPending` events. What was not delivered is
 * lost when the process stops (documented in docs/webhooks.md); use Redis to keep it.
 */
export class MemoryWebhooks implements WebhookQueue {
  readonly #enabled: boolean;
  readonly #max: number;
  #events: WebhookEvent[] = [];
  #dropped = 0;
  #onAdded: () => void = () => {};

  constructor(enabled: boolean, maxPending: number) {
    this.#enabled = enabled;
    this.#max = maxPending;
  }

  /** Synchronous, so events of one tick keep the order their changes had. */
  push(notices: WebhookNotice[]): void {
    if (!this.#enabled || notices.length === 0) return;
    const time = Date.now();
    for (const n of notices) {
      if (this.#events.length >= this.#max) {
        this.#dropped++;
        continue;
      }
      this.#events.push({ id: randomUUID(), type: n.type, time, topic: n.topic, ...(n.user !== undefined ? { user: n.user } : {}) });
    }
    this.#onAdded();
  }

  async add(notices: WebhookNotice[]): Promise<void> {
    this.push(notices);
  }

  async take(max: number): Promise<WebhookEvent[]> {
    return this.#events.slice(0, max);
  }

  async ack(events: WebhookEvent[]): Promise<void> {
    const done = new Set(events.map((e) => e.id));
    let n = 0;
    while (n < this.#events.length && done.has(this.#events[n]!.id)) n++;
    this.#events.splice(0, n);
  }

  async dropped(): Promise<number> {
    const n = this.#dropped;
    this.#dropped = 0;
    return n;
  }

  onAdded(handler: () => void): void {
    this.#onAdded = handler;
  }

  async close(): Promise<void> {}
}
