import type { FastifyPluginAsync } from 'fastify';
import type { Relay } from '../core/relay.js';
import type { PresenceBody } from '../protocol/v1.js';
import { topicSchema } from './schemas.js';

/**
 * GET /presence/:topic: who holds a presence topic, on every node, as {topic, clients, users,
 * members: [{user, clients}]}; `?members=false` answers the counts alone (cheap at any size).
 * A topic without presence: 400 presence_disabled. Needs the API key like every backend route.
 */
export const presenceRoutes: FastifyPluginAsync<{ relay: Relay }> = async (app, { relay }) => {
  app.get<{ Params: { topic: string }; Querystring: { members?: 'true' | 'false' } }>(
    '/presence/:topic',
    {
      schema: {
        params: { type: 'object', required: ['topic'], properties: { topic: topicSchema(relay.config) } },
        querystring: { type: 'object', properties: { members: { type: 'string', enum: ['true', 'false'] } } },
      },
    },
    async (request): Promise<PresenceBody> => relay.presence(request.params.topic, request.query.members !== 'false'),
  );
};
