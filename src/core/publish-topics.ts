/**
 * How many distinct topics each registration published to in the current minute
 * (HERALD_CLIENT_PUBLISH_TOPICS). Each new topic costs history, so a client spraying fresh
 * topics is stopped here. Kept per registration, so reconnecting does not reset it; the whole
 * table is dropped when the minute turns, so it holds only this minute's publishers.
 */
export class PublishTopics {
  readonly #max: number;
  #minute = -1;
  #seen = new Map<string, Set<string>>();

  constructor(max: number) {
    this.#max = max;
  }

  /** True if `client` may publish to `topic` now (a topic already used this minute always may). */
  admit(client: string, topic: string, now = Date.now()): boolean {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#seen = new Map();
    }
    let topics = this.#seen.get(client);
    if (!topics) {
      topics = new Set();
      this.#seen.set(client, topics);
    }
    if (topics.has(topic)) return true;
    if (topics.size >= this.#max) return false;
    topics.add(topic);
    return true;
  }
}
