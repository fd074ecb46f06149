import type { ClusterView, TopicCount, TopicsPage } from '../cluster-view.js';
import type { WebhookNotice } from '../webhooks.js';

/** One process is the whole cluster: its own counts, its own stats. */
export class MemoryClusterView implements ClusterView {
  readonly #counts = new Map<string, number>();
  readonly #notify: (n: WebhookNotice[]) => void;
  #stats: string | undefined;

  /** `notify` gets topic.occupied / topic.vacated as the counts cross zero. */
  constructor(notify: (n: WebhookNotice[]) => void = () => {}) {
    this.#notify = notify;
  }

  setSubscribers(topic: string, count: number): void {
    const had = this.#counts.has(topic);
    if (count > 0) this.#counts.set(topic, count);
    else this.#counts.delete(topic);
    if (!had && count > 0) this.#notify([{ type: 'topic.occupied', topic }]);
    else if (had && count <= 0) this.#notify([{ type: 'topic.vacated', topic }]);
  }

  async topics(offset: number, limit: number): Promise<TopicsPage> {
    const all: TopicCount[] = [...this.#counts].map(([topic, subscribers]) => ({ topic, subscribers }));
    all.sort((a, b) => b.subscribers - a.subscribers || (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    return { topics: all.slice(offset, offset + limit), total: all.length };
  }

  async report(stats: string): Promise<void> {
    this.#stats = stats;
  }

  async nodeStats(): Promise<string[]> {
    return this.#stats === undefined ? [] : [this.#stats];
  }

  async close(): Promise<void> {}
}
