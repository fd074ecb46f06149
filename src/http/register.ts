import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Admission } from '../core/admission.js';
import type { Relay } from '../core/relay.js';
import type { UserId } from '../core/message.js';
import { HeraldError } from '../errors.js';
import { mountPrefix } from './mount.js';
import { overloadCheck } from './overload.js';
import { assertSafeUserId, topicSchema, userIdSchema } from './schemas.js';

/** POST /register, PATCH and DELETE /register/:id (the tutorial's API, plus `topics`, `grants` and `id`). */
export const registerRoutes: FastifyPluginAsync<{ relay: Relay; admission: Admission }> = async (app, { relay, admission }) => {
  const { config } = relay;
  // Per client address (request.ip: the proxy's X-Forwarded-For with HERALD_TRUST_PROXY), in a
  // bounded LRU table; a window of one second. The library also sets Retry-After.
  await app.register(rateLimit, {
    global: false,
    onExceeded: () => relay.stats.refused('register_rate'),
    errorResponseBuilder: (request, context) =>
      new HeraldError('register_rate_limited', `This address (${request.ip}) sent more than ${context.max} registrations in one second (HERALD_REGISTER_RATE); retry after ${context.after}.`),
  });

  const topicList = { type: 'array', items: topicSchema(config), maxItems: config.maxTopics } as const;
  // Grants are patterns: `*` and `{user}` (DESIGN.md 6); as long as a topic, as many as topics.
  const grantList = { type: 'array', items: { type: 'string', minLength: 1, maxLength: config.maxTopicLength }, maxItems: config.maxTopics } as const;
  const unique = (list: string[] | undefined): string[] | undefined => (list === undefined ? undefined : [...new Set(list)]);

  app.post<{ Body: { user_id: UserId; topics?: string[]; grants?: string[] } }>(
    '/register',
    {
      onRequest: overloadCheck(admission, relay),
      config: config.registerRate > 0 ? { rateLimit: { max: config.registerRate, timeWindow: 1000 } } : {},
      schema: {
        body: {
          type: 'object',
          required: ['user_id'],
          properties: { user_id: userIdSchema, topics: topicList, grants: grantList },
        },
      },
    },
    async (request) => {
      assertSafeUserId(request.body.user_id);
      const reg = await relay.register(request.body.user_id, unique(request.body.topics), unique(request.body.grants));
      request.log.info({ client: reg.id, user: reg.userId }, 'registered');
      return { url: `${wsBase(request, config.publicUrl)}${mountPrefix(request.raw)}/ws/${reg.id}`, id: reg.id, topics: reg.topics, grants: reg.grants };
    },
  );

  app.patch<{ Params: { id: string }; Body: { topics?: string[]; grants?: string[] } }>(
    '/register/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } } },
        body: { type: 'object', anyOf: [{ required: ['topics'] }, { required: ['grants'] }], properties: { topics: topicList, grants: grantList } },
      },
    },
    async (request) => {
      const { id } = request.params;
      const reg = await relay.updateRights(id, { topics: unique(request.body.topics), grants: unique(request.body.grants) });
      if (!reg) throw new HeraldError('unknown_client');
      request.log.info({ user: String(reg.userId) }, 'rights changed');
      return { id, topics: reg.topics, grants: reg.grants };
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
