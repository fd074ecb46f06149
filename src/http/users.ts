import type { FastifyPluginAsync } from 'fastify';
import type { Relay } from '../core/relay.js';

/**
 * DELETE /users/:user: "log out everywhere" / ban. Deletes every registration of the user,
 * closes every socket of the user on every node (4001), and refuses the user's connection
 * tokens issued until now, for HERALD_REVOCATION_TTL.
 */
export const userRoutes: FastifyPluginAsync<{ relay: Relay }> = async (app, { relay }) => {
  app.delete<{ Params: { user: string } }>(
    '/users/:user',
    { schema: { params: { type: 'object', required: ['user'], properties: { user: { type: 'string', minLength: 1, maxLength: 128 } } } } },
    async (request) => {
      // 1 and "1" are one user: the path carries the string form.
      const { user } = request.params;
      const registrations = await relay.revokeUser(user);
      request.log.info({ user, registrations }, 'user revoked');
      return { user, revoked: true, registrations };
    },
  );
};
