import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisCluster, type RedisCluster } from '../helpers/redis.js';
import { contractConfig, engineContract, Inbox, waitFor } from './engine-contract.js';
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

  describe('sharding', () => {
    const onEachMaster = async <T>(fn: (r: Redis) => Promise<T>): Promise<T[]> =>
      Promise.all(
        cluster.ports.map(async (port) => {
          const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
          try {
            await r.connect();
            return await fn(r);
          } finally {
            r.disconnect();
          }
        }),
      );

    it('spreads topics over shards and subscribes sharded channels only while wanted', async () => {
      const config = { ...contractConfig, historyTtlMs: 60_000, nodeId: 'a' };
      const [a, b] = [await redisNode(cluster.url, true, config, 'shard'), await redisNode(cluster.url, true, { ...config, nodeId: 'b' }, 'shard')];
      try {
        const topics = Array.from({ length: 30 }, (_, i) => `topic-${i}`);
        for (const t of topics) await a.broker.publish({ topic: t, kind: 'text', body: t });
        const keysPerMaster = await onEachMaster((r) => r.keys('test-shard:{t:*'));
        assert.ok(keysPerMaster.filter((k) => k.length > 0).length >= 2, `topics on several masters: ${keysPerMaster.map((k) => k.length)}`);

        const inB = new Inbox(b);
        await b.broker.subscribe('topic-1');
        await b.broker.subscribe('topic-2');
        const channels = async (): Promise<string[]> => (await onEachMaster((r) => r.call('PUBSUB', 'SHARDCHANNELS', 'test-shard:*') as Promise<string[]>)).flat().sort();
        assert.deepEqual(await channels(), ['test-shard:{t:topic-1}:msg', 'test-shard:{t:topic-2}:msg']);
        await a.broker.publish({ topic: 'topic-1', kind: 'text', body: 'live' });
        await inB.wait('topic-1', 1);
        await b.broker.unsubscribe('topic-1');
        await waitFor('the shard channel to go', async () => (await channels()).length === 1);
        assert.deepEqual(await channels(), ['test-shard:{t:topic-2}:msg']);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('resubscribes the sharded channels of a master that restarted empty', async () => {
      const config = { ...contractConfig, historyTtlMs: 60_000, nodeId: 'a' };
      const [a, b] = [await redisNode(cluster.url, true, config, 'restart'), await redisNode(cluster.url, true, { ...config, nodeId: 'b' }, 'restart')];
      try {
        const inB = new Inbox(b);
        const topics = Array.from({ length: 12 }, (_, i) => `r-${i}`);
        for (const t of topics) await b.broker.subscribe(t);
        for (const t of topics) await a.broker.publish({ topic: t, kind: 'text', body: 'before' });
        for (const t of topics) await inB.wait(t, 1);
        await cluster.restartNode(1);
        // Every topic must come back, including those on the restarted master.
        await waitFor('delivery on every topic again', async () => {
          for (const t of topics) if (inB.of(t).every((m) => m.body !== 'after')) await a.broker.publish({ topic: t, kind: 'text', body: 'after' }).catch(() => undefined);
          return topics.every((t) => inB.of(t).some((m) => m.body === 'after'));
        }, 20_000);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
