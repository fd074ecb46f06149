import type { RequestId } from './wire.js';

/**
 * Which topics a client means to receive, and how each is put back after a reconnect.
 *
 * The server rejoins the registration's topics from its own cursor: what it last *wrote*,
 * which is past what the client *received* when a connection dies with data in flight, and
 * a subscribe with `since` is a no-op for a topic already joined. So a joined topic the
 * client has a position for is left and rejoined from that position; until the server
 * confirms the leave (in frame order) the topic's messages and `recovered` seam are stale
 * and ignored.
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

  /**
   * After a welcome listing the topics the server `joined`: which to leave (stale or no
   * longer wanted) and which to subscribe (everything wanted, with `since` where known).
   */
  resume(joined: string[], hasPosition: (topic: string) => boolean): { leave: string[]; subscribe: string[] } {
    this.#stale.clear();
    const unwanted = joined.filter((t) => this.#leaveOnResume.has(t));
    this.#leaveOnResume.clear();
    for (const topic of joined) if (!unwanted.includes(topic)) this.#wanted.add(topic);
    const rejoin = joined.filter((t) => this.#wanted.has(t) && hasPosition(t));
    return { leave: [...rejoin, ...unwanted], subscribe: [...this.#wanted] };
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
