import type { FastifyPluginAsync } from 'fastify';
import type { CountingStats } from '../core/relay-stats.js';
import type { Relay } from '../core/relay.js';
import type { StatsBody } from '../protocol/stats-body.js';
import { sumStats } from '../protocol/stats-body.js';

export type { StatsBody };

/** How often a node reports its /stats to the others (for ?scope=cluster) and renews its share of the cluster view. */
const REPORT_MS = 1_000;

/**
 * GET /stats?top=N: counters as JSON (Prometheus text is awkward in a browser) plus the N topics
 * with the most subscribers on this node. Protected like /metrics. Latencies stay with /metrics,
 * which drains them. `?scope=cluster`: summed over every live node (each reports its own every
 * second; this node's part is fresh), with the top topics of the whole cluster.
 */
export const statsRoutes: FastifyPluginAsync<{ relay: Relay; stats: CountingStats }> = async (app, { relay, stats }) => {
  const started = Date.now();
  const local = async (top: number): Promise<StatsBody> => {
    const history = await relay.engine.history.stats().catch(() => null);
    return {
      node: relay.nodeId,
      engine: { name: relay.engine.name, up: relay.engine.healthy() },
      uptime_s: Math.round((Date.now() - started) / 1000),
      ts: Date.now(),
      connections: { total: relay.hub.size, ...stats.connections },
      registrations: stats.registrations,
      publishes: stats.publishes,
      deliveries: stats.deliveries,
      socket_writes: stats.socketWrites,
      drops: { ...stats.drops },
      recovered_messages: stats.recoveredMessages,
      topics: relay.hub.topicCount,
      history,
      top_topics: relay.hub.topTopics(top),
    };
  };

  let reporting = false;
  const report = async (): Promise<void> => {
    if (reporting) return;
    reporting = true;
    try {
      // Without history (shared by all nodes: read once by the asker) and top topics (the cluster view has them).
      const body = { ...(await local(0)), history: null };
      await relay.engine.cluster.report(JSON.stringify(body));
    } catch (err) {
      relay.log.debug({ err }, 'could not report this node\'s stats to the cluster view');
    } finally {
      reporting = false;
    }
  };
  // Well within the node's share's lifetime (two thirds of HERALD_PRESENCE_TTL), which each report renews.
  const timer = setInterval(() => void report(), Math.min(REPORT_MS, Math.floor(relay.config.presenceTtlMs / 3)));
  timer.unref();
  void report();
  app.addHook('onClose', async () => clearInterval(timer));

  // The app's ajv does not coerce types, so the query number is checked as digits.
  app.get<{ Querystring: { top?: string; scope?: 'node' | 'cluster' } }>(
    '/stats',
    { schema: { querystring: { type: 'object', properties: { top: { type: 'string', pattern: '^[0-9]{1,3}$' }, scope: { type: 'string', enum: ['node', 'cluster'] } } } } },
    async (request): Promise<StatsBody> => {
      const top = Math.min(100, Number(request.query.top ?? 10));
      const mine = await local(top);
      if (request.query.scope !== 'cluster') return mine;
      const others = (await relay.engine.cluster.nodeStats())
        .map((text) => JSON.parse(text) as StatsBody)
        .filter((s) => s.node !== relay.nodeId);
      const page = await relay.engine.cluster.topics(0, top);
      return { ...sumStats([mine, ...others]), history: mine.history, top_topics: page.topics };
    },
  );
};
