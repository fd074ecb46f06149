import type { FastifyPluginAsync } from 'fastify';
import type { Relay } from '../core/relay.js';
import type { TopicCount } from '../engines/cluster-view.js';

interface TopicsBody {
  topics: TopicCount[];
  cursor?: string;
}

/**
 * GET /topics?limit=&cursor=: topics with subscribers on any node, summed over the live nodes,
 * the most subscribed first, a page at a time (`cursor` from the previous page; none on the
 * last). Counts move while one pages, so a topic may show twice or be missed across pages.
 */
export const topicsRoutes: FastifyPluginAsync<{ relay: Relay }> = async (app, { relay }) => {
  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/topics',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { limit: { type: 'string', pattern: '^[0-9]{1,4}$' }, cursor: { type: 'string', pattern: '^[0-9]{1,9}$' } },
        },
      },
    },
    async (request): Promise<TopicsBody> => {
      const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100)));
      const offset = Number(request.query.cursor ?? 0);
      const page = await relay.engine.cluster.topics(offset, limit);
      return offset + limit < page.total ? { topics: page.topics, cursor: String(offset + limit) } : { topics: page.topics };
    },
  );
};
