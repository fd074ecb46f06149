// Webhooks across Herald processes sharing Redis: a node SIGKILLed while it holds a topic's only
// subscribers; a survivor sends topic.vacated (and member.left for its presence members, also
// where no survivor holds the topic) within HERALD_PRESENCE_TTL, each event once.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { register } from '../helpers/http.js';
import { startRedis, startRedisCluster } from '../helpers/redis.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { SocketPool, type TestSocket } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';
import { on, startNodes, stopNodes, type Node } from './nodes.js';

const TTL_MS = 2_000;
const SECRET = 'cluster-webhook-secret-0123456789';

describe('cluster: webhooks', () => {
  const pool = new SocketPool();
  let nodes: Node[] = [];
  let receiver: WebhookReceiver | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];

  const v1 = async (node: Node, user: string, topics: string[]): Promise<TestSocket> => {
    const reg = await register(node.base, user, topics);
    const s = await pool.open(on(node, reg.url), 'herald.v1');
    s.send({ type: 'subscribe', id: 'sync', topics: [] });
    await s.waitJson((o) => o['id'] === 'sync', 5_000);
    return s;
  };

  afterEach(async () => {
    await pool.closeAll();
    await stopNodes(nodes);
    nodes = [];
    await receiver?.close();
    for (const c of cleanups.splice(0)) await c();
  });

  for (const [name, start] of [
    ['one redis-server', async () => {
      const r = await startRedis();
      return { url: r.url, args: [] as string[], stop: () => r.destroy(), client: () => new Redis(r.url) as Redis | Cluster };
    }],
    ['a Redis Cluster of 3 masters', async () => {
      const c = await startRedisCluster(3);
      return { url: c.url, args: ['--redis-cluster'], stop: () => c.stop(), client: () => new Cluster([c.url]) as Redis | Cluster };
    }],
  ] as const) {
    it(`a SIGKILLed node's topic.vacated and member.left come from a survivor within the TTL, once per id (${name})`, async () => {
      const redis = await start();
      cleanups.push(redis.stop);
      const client = redis.client();
      cleanups.push(async () => client.disconnect());
      receiver = await WebhookReceiver.start(SECRET);
      const r = receiver;
      nodes = await startNodes(3, redis.url, [...redis.args, '--presence-topics', 'room.*', '--presence-ttl', `${TTL_MS}ms`, '--webhook-url', r.url, '--webhook-secret', SECRET]);
      const [a, , c] = nodes as [Node, Node, Node];
      await v1(a, 'stays', ['room.k']);
      await v1(c, 'doomed', ['solo', 'room.k', 'room.alone']);
      await r.waitFor('occupied and joined', (x) => x.of('solo').length === 1 && x.of('room.k').length === 3 && x.of('room.alone').length === 2, 10_000);
      assert.deepEqual(r.of('room.k'), ['topic.occupied', 'member.joined stays', 'member.joined doomed']);
      // Every event delivered and acknowledged (the stream holds only undelivered events).
      await waitFor('the stream drained', async () => (await client.xlen('herald:{cluster}:wh')) === 0, 5_000);
      const killedAt = Date.now();
      await c.stop('SIGKILL');
      await r.waitFor('vacated and left from a survivor', (x) => x.of('solo').length === 2 && x.of('room.k').length === 4 && x.of('room.alone').length === 4, TTL_MS + 3_000);
      const elapsed = Date.now() - killedAt;
      assert.deepEqual(r.of('solo'), ['topic.occupied', 'topic.vacated']);
      assert.deepEqual(r.of('room.k'), ['topic.occupied', 'member.joined stays', 'member.joined doomed', 'member.left doomed']);
      // A presence topic the dead node held alone: its vacated (cluster view) and its member's
      // left (the delivering node's sweep) come from two places, in either order (docs/webhooks.md).
      assert.deepEqual(r.of('room.alone').slice(0, 2), ['topic.occupied', 'member.joined doomed']);
      assert.deepEqual(r.of('room.alone').slice(2).sort(), ['member.left doomed', 'topic.vacated']);
      assert.ok(elapsed <= TTL_MS + 1_500, `vacated/left after ${elapsed} ms (TTL ${TTL_MS} ms)`);
      // Nothing more comes (no second survivor sends them again): the stream is empty and every id arrived once.
      await waitFor('the stream drained', async () => (await client.xlen('herald:{cluster}:wh')) === 0, 5_000);
      const ids = r.delivered.map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids.join(',')}`);
      assert.ok(r.posts.every((p) => p.signed));
    });
  }
});
