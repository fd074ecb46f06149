// JSON schemas shared by the routes: a user id, a topic, a publish body.
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';

export const userIdSchema = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', minLength: 1, maxLength: 128 },
  ],
} as const;

/**
 * A JSON number above 2^53 - 1 has already been rounded when it is parsed (Snowflake-style ids
 * 1234567890123456789 and ...790 both become 1234567890123456800), so two users would share
 * it. Such ids are refused; as strings they stay exact.
 */
export function assertSafeUserId(userId: unknown, field = 'user_id'): void {
  if (typeof userId !== 'number' || Number.isSafeInteger(userId)) return;
  throw new HeraldError('unsafe_user_id', `${field} is an integer above 2^53 - 1 (9007199254740991), which a JSON number cannot carry exactly (it arrived as ${userId}): send it as a string, e.g. "${field}": "1234567890123456789".`);
}

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
