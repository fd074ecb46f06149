import type { FastifyPluginAsync } from 'fastify';
import type { CountingStats } from '../core/relay-stats.js';
import type { Relay } from '../core/relay.js';
import { createMetricsRegistry } from '../core/prom-metrics.js';

/** GET /metrics: Prometheus text (protected by the API key, see auth.ts). */
export const metricsRoutes: FastifyPluginAsync<{ relay: Relay; stats: CountingStats }> = async (app, { relay, stats }) => {
  const register = createMetricsRegistry(relay, stats);
  app.get('/metrics', async (_request, reply) => {
    const text = await register.metrics();
    return reply.type(register.contentType).send(text);
  });
};
