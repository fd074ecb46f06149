import type { FastifyPluginAsync } from 'fastify';
import type { Message } from '../core/message.js';
import type { Relay } from '../core/relay.js';
import { HeraldError } from '../errors.js';
import { encodeMessage } from '../protocol/v1.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** A kept message as backends read it: the herald.v1 `message` object, plus `user_id` when it was addressed to one user. */
function historyItem(m: Message): string {
  const json = encodeMessage(m);
  return m.userId === undefined ? json : `${json.slice(0, -1)},"user_id":${JSON.stringify(m.userId)}}`;
}

/**
 * GET /history/:topic?since=N&epoch=E&limit=L (API key): what a client at `since` missed, as
 * recovery sees it. `offset` is the topic's latest offset; `complete` is false when the gap
 * after `since` is older than history or `since` is of another epoch. A `limit` that cuts the
 * page is no gap: page on with since = the last offset received.
 */
export const historyRoutes: FastifyPluginAsync<{ relay: Relay }> = async (app, { relay }) => {
  app.get<{ Params: { topic: string }; Querystring: { since?: string; epoch?: string; limit?: string } }>(
    '/history/:topic',
    {
      schema: {
        params: { type: 'object', properties: { topic: { type: 'string', minLength: 1, maxLength: relay.config.maxTopicLength } } },
        querystring: {
          type: 'object',
          properties: {
            since: { type: 'string', pattern: '^[0-9]{1,15}$' },
            epoch: { type: 'string', maxLength: 64 },
            limit: { type: 'string', pattern: '^[0-9]{1,7}$' },
          },
        },
      },
    },
    async (request, reply) => {
      const { topic } = request.params;
      const since = Number(request.query.since ?? 0);
      const epoch = request.query.epoch;
      if (since > 0 && epoch === undefined) throw new HeraldError('bad_request', '`since` needs the `epoch` it counts in (from a message, or a previous /history answer)');
      const limit = Number(request.query.limit ?? DEFAULT_LIMIT);
      if (limit < 1 || limit > MAX_LIMIT) throw new HeraldError('bad_request', `\`limit\` must be 1..${MAX_LIMIT}`);
      const r = await relay.engine.history.since(topic, { offset: since, epoch: epoch ?? '' });
      const page = r.messages.length > limit ? r.messages.slice(0, limit) : r.messages;
      // Built by hand: the messages' JSON is already text, as on the wire.
      const body = `{"topic":${JSON.stringify(topic)},"epoch":${JSON.stringify(r.position.epoch)},"offset":${r.position.offset},"complete":${r.complete},"messages":[${page.map(historyItem).join(',')}]}`;
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );
};
