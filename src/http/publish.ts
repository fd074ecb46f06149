import type { FastifyPluginAsync } from 'fastify';
import type { Relay } from '../core/relay.js';
import type { Message, PublishInput, UserId } from '../core/message.js';
import { HeraldError } from '../errors.js';
import { assertSafeUserId, publishItemSchema } from './schemas.js';

interface PublishBody {
  topic: string;
  user_id?: UserId;
  message?: string;
  data?: unknown;
  binary?: string;
}

const MAX_BATCH = 10_000;

/** POST /publish and POST /publish/batch. */
export const publishRoutes: FastifyPluginAsync<{ relay: Relay }> = async (app, { relay }) => {
  const itemSchema = publishItemSchema(relay.config);
  const okSchema = { type: 'object', properties: { id: { type: 'string' }, offset: { type: 'integer' }, degraded: { type: 'boolean' } } } as const;

  app.post<{ Body: PublishBody }>('/publish', { schema: { body: itemSchema, response: { 200: okSchema } } }, async (request) => {
    return published(await relay.publish(toPublishInput(request.body)));
  });

  app.post<{ Body: { messages: unknown[] } }>(
    '/publish/batch',
    {
      schema: {
        body: { type: 'object', required: ['messages'], properties: { messages: { type: 'array', maxItems: MAX_BATCH } } },
      },
    },
    async (request) => {
      const validate = request.compileValidationSchema(itemSchema);
      const items = request.body.messages;
      // One answer per item, in place: no rejected promise per invalid item, no settled record per item.
      const results: unknown[] = new Array(items.length);
      const pending: Array<Promise<void>> = [];
      // Publishes start in array order, so one topic's messages keep their order.
      for (let index = 0; index < items.length; index++) {
        const item = items[index];
        if (!validate(item)) {
          const why = validate.errors?.[0];
          results[index] = new HeraldError('invalid_body', `messages[${index}]${why?.instancePath ?? ''} ${why?.message ?? 'is invalid'}`).toJSON();
          continue;
        }
        try {
          pending.push(relay.publish(toPublishInput(item as PublishBody)).then(
            (m) => {
              results[index] = published(m);
            },
            (err: unknown) => {
              results[index] = failed(err);
            },
          ));
        } catch (err) {
          results[index] = failed(err);
        }
      }
      await Promise.all(pending);
      return { results };
    },
  );
};

function published(m: Message & { degraded?: true }): { id: string; offset: number; degraded?: true } {
  return m.degraded ? { id: m.id, offset: m.offset, degraded: true } : { id: m.id, offset: m.offset };
}

/** A batch item that failed: its catalog error (anything unexpected is `internal`). */
function failed(err: unknown): { error: string; message: string } {
  return (err instanceof HeraldError ? err : new HeraldError('internal')).toJSON();
}

/** Exactly one of message, data or binary. (On the hot path: no intermediate arrays.) */
function toPublishInput(body: PublishBody): PublishInput {
  const { message, data, binary } = body;
  assertSafeUserId(body.user_id);
  const given = (message !== undefined ? 1 : 0) + (data !== undefined ? 1 : 0) + (binary !== undefined ? 1 : 0);
  if (given !== 1) {
    const names = [message !== undefined && 'message', data !== undefined && 'data', binary !== undefined && 'binary'].filter(Boolean);
    throw new HeraldError('invalid_body', `Give exactly one of "message" (a string), "data" (any JSON) or "binary" (base64); got ${given === 0 ? 'none' : names.join(' and ')}.`);
  }
  if (message !== undefined) return { topic: body.topic, userId: body.user_id, kind: 'text', body: message };
  if (binary !== undefined) return { topic: body.topic, userId: body.user_id, kind: 'binary', body: Buffer.from(binary, 'base64').toString('base64') };
  return { topic: body.topic, userId: body.user_id, kind: 'json', body: JSON.stringify(data) };
}
