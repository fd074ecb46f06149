// The redis engine's join/leave outbox: a node that dies after its presence script appended
// joins/leaves to the topic's outbox, but before it moved them to the webhook stream, loses
// nothing: the sweep of its topics moves them, with ids fixed by the outbox entry.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineLog } from '../../src/engines/redis/broker-redis.js';
import { connect } from '../../src/engines/redis/connection.js';
import { RedisKeys } from '../../src/engines/redis/keys.js';
import { RedisLink } from '../../src/engines/redis/link.js';
import { RedisPresence } from '../../src/engines/redis/presence-redis.js';
import type { WebhookEvent } from '../../src/engines/webhooks.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { contractConfig, waitFor } from './engine-contract.js';
import { redisNode } from './redis-factory.js';

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } as unknown as EngineLog;

describe('redis webhooks: the join/leave outbox', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.destroy();
  });

  it('what a node appended but never moved is moved by the sweep, the same ids however often it is moved', async () => {
    const space = 'outbox';
    const keys = new RedisKeys(`test-${space}:`);
    const survivor = await redisNode(redis.url, false, { ...contractConfig, nodeId: 's', webhookUrl: 'http://127.0.0.1:9/hook', webhookMaxPending: 100 }, space);
    const link = new RedisLink(connect({ url: redis.url, cluster: false, subscriber: false, name: 'doomed' }), false);
    // The doomed node's move always fails: as if it died right after its presence script.
    let moves = 0;
    const doomed = new RedisPresence(link, keys, { ttlMs: contractConfig.presenceTtlMs, log: silent, node: 'd00med', forward: async () => {
      moves++;
      throw new Error('died');
    } });
    try {
      doomed.add('room.x', 'u1');
      await doomed.flushed();
      assert.equal(moves, 1, 'the doomed node tried to move its join');
      assert.equal(await link.client.xlen(keys.presenceOutbox('room.x')), 1, 'the join waits in the outbox');
      const sweeper = survivor.presence as RedisPresence;
      await sweeper.sweep('d00med', 'room.x');
      let got: WebhookEvent[] = [];
      await waitFor('the moved join', async () => (got = await survivor.webhooks.take(10)).length === 1);
      assert.equal(got[0]!.type, 'member.joined');
      assert.equal(got[0]!.user, 'u1');
      assert.match(got[0]!.id, /^[0-9a-f]{12}-\d+-\d+-0$/);
      assert.equal(await link.client.xlen(keys.presenceOutbox('room.x')), 0, 'moved, then deleted');
      await sweeper.sweep('d00med', 'room.x');
      await survivor.webhooks.ack(got);
      assert.deepEqual(await survivor.webhooks.take(10), [], 'a second sweep moves nothing again');
    } finally {
      await doomed.close().catch(() => undefined);
      link.client.disconnect();
      await survivor.close();
    }
  });
});
