import type { FastifyPluginAsync } from 'fastify';
import type { CountingStats } from '../core/relay-stats.js';
import type { Relay } from '../core/relay.js';
import type { StatsBody } from '../protocol/stats-body.js';

export type { StatsBody };

/**
 * GET /stats?top=N: counters as JSON (Prometheus text is awkward in a browser) plus the N topics
 * with the most subscribers on this node. Protected like /metrics. Latencies stay with /metrics,
 * which drains them.
 */
export const statsRoutes: FastifyPluginAsync<{ relay: Relay; stats: CountingStats }> = async (app, { relay, stats }) => {
  const started = Date.now();
  // The app's ajv does not coerce types, so the query number is checked as digits.
  app.get<{ Querystring: { top?: string } }>(
    '/stats',
    { schema: { querystring: { type: 'object', properties: { top: { type: 'string', pattern: '^[0-9]{1,3}$' } } } } },
    async (request): Promise<StatsBody> => {
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
        top_topics: relay.hub.topTopics(Math.min(100, Number(request.query.top ?? 10))),
      };
    },
  );
};
