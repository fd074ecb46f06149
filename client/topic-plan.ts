import type { RequestId } from './wire.js';

/**
 * Which topics a client means to receive, and how each is put back after a reconnect.
 *
 * The client reconnects with `?since=` (its positions), so the server rejoins the
 * registration's topics from where the client stands. What is left to do after a welcome:
 * leave the topics dropped while disconnected (their messages are stale and ignored until
 * the server confirms the leave, in frame order), and subscribe everything wanted.
 */
export class TopicPlan {
  // Subscriptions plus the registration's own topics (from welcomes).
  readonly #wanted = new Set<string>();
  // Left while disconnected: the registration may still hold them.
  readonly #leaveOnResume = new Set<string>();
  // Topics whose messages are stale until the leave request with this id is answered.
  readonly #stale = new Map<string, RequestId>();

  want(topic: string): void {
    this.#wanted.add(topic);
    this.#leaveOnResume.delete(topic);
  }

  /** Stops wanting a topic; `connected` false: the server may rejoin it, leave it on resume. */
  drop(topic: string, connected: boolean): boolean {
    const had = this.#wanted.delete(topic);
    if (had && !connected) this.#leaveOnResume.add(topic);
    return had;
  }

  /** The topics wanted now (for the `?since=` of the next connection). */
  wanted(): string[] {
    return [...this.#wanted];
  }

  /**
   * After a welcome listing the topics the server `joined`: which to leave (no longer wanted)
   * and which to subscribe (everything wanted; joined ones are answered at once).
   */
  resume(joined: string[]): { leave: string[]; subscribe: string[] } {
    this.#stale.clear();
    const unwanted = joined.filter((t) => this.#leaveOnResume.has(t));
    this.#leaveOnResume.clear();
    for (const topic of joined) if (!unwanted.includes(topic)) this.#wanted.add(topic);
    return { leave: unwanted, subscribe: [...this.#wanted] };
  }

  /** Marks topics stale until the reply to request `id`. */
  staleUntil(topics: string[], id: RequestId): void {
    for (const topic of topics) this.#stale.set(topic, id);
  }

  /** A reply arrived: topics that waited for it are live again. */
  replied(id: RequestId | undefined): void {
    if (id === undefined || this.#stale.size === 0) return;
    for (const [topic, waiting] of this.#stale) if (waiting === id) this.#stale.delete(topic);
  }

  isStale(topic: string): boolean {
    return this.#stale.has(topic);
  }
}
