// The JSON body of GET /stats, shared by the server (src/http/stats.ts) and the dashboard (web/).

/** What GET /stats answers: this node's counters and busiest topics, for the dashboard. */
export interface StatsBody {
  node: string;
  engine: { name: string; up: boolean };
  uptime_s: number;
  /** Server time (ms since epoch), so a client can turn counter deltas into rates. */
  ts: number;
  connections: { total: number; plain: number; 'herald.v1': number; sse: number };
  registrations: number;
  publishes: number;
  deliveries: number;
  /** Socket writes that carried the deliveries (deliveries / socket_writes = messages per write). */
  socket_writes: number;
  drops: Record<string, number>;
  recovered_messages: number;
  topics: number;
  history: { topics: number; messages: number; bytes: number } | null;
  top_topics: Array<{ topic: string; subscribers: number }>;
}
