import { after, before, describe } from 'node:test';
import { startRedisCluster, type RedisCluster } from '../helpers/redis.js';
import { engineContract } from './engine-contract.js';
import { redisNode } from './redis-factory.js';

describe('redis engine (Redis Cluster, 3 masters)', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await startRedisCluster(3);
  });
  after(async () => {
    await cluster?.stop();
  });
  engineContract('redis-cluster', (config, space) => redisNode(cluster.url, true, config, space), { multiNode: true });
});
