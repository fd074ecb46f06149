import type { Position } from './wire.js';

/**
 * The last offset seen per topic, in its epoch. It decides which messages are new (the
 * server may resend what a client already has: a replay after a reconnect, a subscribe to a
 * topic already joined) and what to ask for with `since` after a reconnect.
 */
export class Positions {
  #byTopic = new Map<string, Position>();

  /** Records a message; false when it is a duplicate (same epoch, offset not past the last). */
  accept(topic: string, offset: number, epoch: string): boolean {
    // Offset 0: published while the server's engine was down, delivered once and never replayed;
    // it has no place in the topic's sequence, so it neither dedupes nor moves the position.
    if (offset === 0) return true;
    const last = this.#byTopic.get(topic);
    if (last && last.epoch === epoch && offset <= last.offset) return false;
    this.#byTopic.set(topic, { offset, epoch });
    return true;
  }

  /**
   * Moves to the seam a `recovered` frame reports. Everything up to it was either replayed
   * just before or is gone (complete: false), so nothing at or below it is new any more.
   */
  seam(topic: string, offset: number, epoch: string): void {
    const last = this.#byTopic.get(topic);
    if (last && last.epoch === epoch && last.offset >= offset) return;
    this.#byTopic.set(topic, { offset, epoch });
  }

  get(topic: string): Position | undefined {
    const p = this.#byTopic.get(topic);
    return p ? { ...p } : undefined;
  }

  set(topic: string, position: Position): void {
    this.#byTopic.set(topic, { ...position });
  }

  delete(topic: string): void {
    this.#byTopic.delete(topic);
  }

  /** `since` for a subscribe request: the topics among `topics` with a known position. */
  since(topics: Iterable<string>): Record<string, Position> | undefined {
    const out: Record<string, Position> = {};
    let any = false;
    for (const topic of topics) {
      const p = this.#byTopic.get(topic);
      if (p) {
        out[topic] = { ...p };
        any = true;
      }
    }
    return any ? out : undefined;
  }
}
