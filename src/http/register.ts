import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Relay } from '../core/relay.js';
import type { UserId } from '../core/message.js';
import { HeraldError } from '../errors.js';
import { assertSafeUserId, topicSchema, userIdSchema } from './schemas.js';

/** POST /register and DELETE /register/:id (the tutorial's API, plus `topics` and `id`). */
export const registerRoutes: FastifyPluginAsync<{ relay: Relay }> = async (app, { relay }) => {
  const { config } = relay;
  // Per client address (request.ip: the proxy's X-Forwarded-For with HERALD_TRUST_PROXY), in a
  // bounded LRU table; a window of one second. The library also sets Retry-After.
  await app.register(rateLimit, {
    global: false,
    onExceeded: () => relay.stats.refused('register_rate'),
    errorResponseBuilder: (request, context) =>
      new HeraldError('register_rate_limited', `This address (${request.ip}) sent more than ${context.max} registrations in one second (HERALD_REGISTER_RATE); retry after ${context.after}.`),
  });

  app.post<{ Body: { user_id: UserId; topics?: string[] } }>(
    '/register',
    {
      config: config.registerRate > 0 ? { rateLimit: { max: config.registerRate, timeWindow: 1000 } } : {},
      schema: {
        body: {
          type: 'object',
          required: ['user_id'],
          properties: { user_id: userIdSchema, topics: { type: 'array', items: topicSchema(config), maxItems: config.maxTopics } },
        },
      },
    },
    async (request) => {
      assertSafeUserId(request.body.user_id);
      const topics = request.body.topics === undefined ? undefined : [...new Set(request.body.topics)];
      const reg = await relay.register(request.body.user_id, topics);
      request.log.info({ client: reg.id, user: reg.userId }, 'registered');
      return { url: `${wsBase(request, config.publicUrl)}/ws/${reg.id}`, id: reg.id, topics: reg.topics };
    },
  );

  app.delete<{ Params: { id: string } }>('/register/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } } } } }, async (request) => {
    const { id } = request.params;
    if (!(await relay.unregister(id))) throw new HeraldError('unknown_client');
    request.log.info({ client: id }, 'unregistered');
    return { id, unregistered: true };
  });
};

/** ws://host or wss://host, from HERALD_PUBLIC_URL or the request (X-Forwarded-* when trusted). */
function wsBase(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/^http(s?):/, 'ws$1:');
  const scheme = request.protocol === 'https' ? 'wss' : 'ws';
  return `${scheme}://${request.host}`;
}
