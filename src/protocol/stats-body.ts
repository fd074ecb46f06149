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

/** The bodies of several nodes as one: counters summed, `node` "cluster", `nodes` naming them, engine up only if up on all. */
export function sumStats(bodies: readonly StatsBody[]): StatsBody & { nodes: string[] } {
  const add = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) if (typeof v === 'number') out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const first = bodies[0]!;
  let sum: StatsBody & { nodes: string[] } = { ...first, node: 'cluster', nodes: [first.node], connections: { ...first.connections }, drops: { ...first.drops } };
  for (const b of bodies.slice(1)) {
    sum = {
      ...sum,
      nodes: [...sum.nodes, b.node],
      engine: { name: sum.engine.name, up: sum.engine.up && b.engine.up },
      uptime_s: Math.max(sum.uptime_s, b.uptime_s),
      connections: add(sum.connections, b.connections) as StatsBody['connections'],
      registrations: sum.registrations + b.registrations,
      publishes: sum.publishes + b.publishes,
      deliveries: sum.deliveries + b.deliveries,
      socket_writes: sum.socket_writes + b.socket_writes,
      drops: add(sum.drops, b.drops),
      recovered_messages: sum.recovered_messages + b.recovered_messages,
      topics: sum.topics + b.topics,
    };
  }
  return sum;
}
