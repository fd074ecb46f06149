// JSON schemas shared by the routes: a user id, a topic, a publish body.
import type { Config } from '../config.js';

export const userIdSchema = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', minLength: 1, maxLength: 128 },
  ],
} as const;

export const topicSchema = (config: Pick<Config, 'maxTopicLength'>) => ({ type: 'string', minLength: 1, maxLength: config.maxTopicLength }) as const;

export const publishItemSchema = (config: Pick<Config, 'maxTopicLength'>) =>
  ({
    type: 'object',
    required: ['topic'],
    properties: {
      topic: topicSchema(config),
      user_id: userIdSchema,
      message: { type: 'string' },
      data: {},
      binary: { type: 'string', pattern: '^[A-Za-z0-9+/_-]*={0,2}$' },
    },
  }) as const;

export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;
