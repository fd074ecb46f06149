import { after, before, describe } from 'node:test';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { engineContract } from './engine-contract.js';
import { redisNode } from './redis-factory.js';

describe('redis engine (one redis-server)', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.destroy();
  });
  engineContract('redis', (config, space) => redisNode(redis.url, false, config, space), { multiNode: true });
});
