import type { FastifyPluginAsync } from 'fastify';
import type { Relay } from '../core/relay.js';

/** GET /health: 200 when the engine is reachable, 503 "degraded" when it is not. */
export const healthRoutes: FastifyPluginAsync<{ relay: Relay }> = async (app, { relay }) => {
  app.get('/health', async (_request, reply) => {
    const ok = relay.engine.healthy();
    const body = { status: ok ? 'ok' : 'degraded', node: relay.nodeId, mode: relay.engine.name, connections: relay.hub.size };
    return reply.code(ok ? 200 : 503).send(ok ? body : { ...body, message: 'the engine (Redis) is unreachable; local delivery goes on' });
  });
};
