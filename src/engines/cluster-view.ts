// What operators see of the whole deployment: topics with subscribers on any node, and every
// live node's /stats. Each node reports its own share; a dead node's share expires.

export interface TopicCount {
  topic: string;
  subscribers: number;
}

export interface TopicsPage {
  /** Most subscribed first. */
  topics: TopicCount[];
  /** Topics in all (for paging). */
  total: number;
}

export interface ClusterView {
  /** This node's subscribers of `topic` now (0: none). Written in batches. */
  setSubscribers(topic: string, count: number): void;
  /** Topics with subscribers on any live node, summed, most first: `limit` of them from rank `offset`. */
  topics(offset: number, limit: number): Promise<TopicsPage>;
  /** This node's latest /stats body (JSON text), kept for the others while the node lives. */
  report(stats: string): Promise<void>;
  /** The latest reported /stats bodies of every live node. */
  nodeStats(): Promise<string[]>;
  close(): Promise<void>;
}
