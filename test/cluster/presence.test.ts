// Presence across Herald processes: members on every node seen from each, a SIGKILLed node's
// members gone within HERALD_PRESENCE_TTL with `leave` sent by the survivors, no ghost after
// Redis restarts empty.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { register, request } from '../helpers/http.js';
import { startRedis, startRedisCluster, type RedisServer } from '../helpers/redis.js';
import { SocketPool, type TestSocket } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';
import { healthIs, healthy, on, startNodes, stopNodes, type Node } from './nodes.js';

type J = Record<string, unknown>;
const TTL_MS = 2_000;
const presenceArgs = ['--presence-topics', 'room.*', '--presence-ttl', `${TTL_MS}ms`];

const membersOf = (body: J): string[] => ((body['members'] as Array<{ user: unknown; clients: number }> | undefined) ?? []).map((m) => `${String(m.user)}:${m.clients}`).sort();

async function presence(node: Node, topic: string): Promise<J> {
  const r = await request(node.base, 'GET', `/presence/${topic}`);
  if (r.status !== 200) throw new Error(`GET /presence on ${node.id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

describe('cluster: presence', () => {
  const pool = new SocketPool();
  let nodes: Node[] = [];

  /** A herald.v1 socket of `user` on `node`, its registration topics joined. */
  const v1 = async (node: Node, user: string, topics: string[]): Promise<TestSocket> => {
    const reg = await register(node.base, user, topics);
    const s = await pool.open(on(node, reg.url), 'herald.v1');
    s.send({ type: 'subscribe', id: 'sync', topics: [] });
    await s.waitJson((o) => o['id'] === 'sync', 5_000);
    return s;
  };
  /** Waits for a join/leave of `user` on a v1 socket, skipping anything else. */
  const event = (s: TestSocket, type: 'join' | 'leave', user: string, timeoutMs = 5_000): Promise<J> => s.waitJson((o) => o['type'] === type && o['user'] === user, timeoutMs);

  afterEach(async () => {
    await pool.closeAll();
    await stopNodes(nodes);
    nodes = [];
  });

  for (const [name, start] of [
    ['one redis-server', async () => {
      const r = await startRedis();
      return { url: r.url, args: [] as string[], stop: () => r.destroy() };
    }],
    ['a Redis Cluster of 3 masters', async () => {
      const c = await startRedisCluster(3);
      return { url: c.url, args: ['--redis-cluster'], stop: () => c.stop() };
    }],
  ] as const) {
    it(`members on three nodes are seen from each, join/leave reach the others (${name})`, async () => {
      const backend = await start();
      try {
        nodes = await startNodes(3, backend.url, [...backend.args, ...presenceArgs]);
        const [a, b, c] = nodes as [Node, Node, Node];
        const watcher = await v1(a, 'w', ['room.x']);
        await v1(b, 'ub', ['room.x']);
        await event(watcher, 'join', 'ub');
        await v1(c, 'uc', ['room.x']);
        await event(watcher, 'join', 'uc');
        const second = await v1(c, 'ub', ['room.x']); // ub's second client, on another node: no join
        const want = ['ub:2', 'uc:1', 'w:1'];
        for (const n of nodes) {
          await waitFor(`node ${n.id} to see every member`, async () => JSON.stringify(membersOf(await presence(n, 'room.x'))) === JSON.stringify(want), 5_000);
          const counts = (await request(n.base, 'GET', '/presence/room.x?members=false')).body;
          assert.deepEqual(counts, { topic: 'room.x', clients: 4, users: 3 });
        }
        await second.closeAndWait();
        await waitFor('ub down to one client', async () => membersOf(await presence(a, 'room.x')).includes('ub:1'), 5_000);
        assert.equal(watcher.frames.some((f) => f.data.includes('"leave"')), false, 'ub still has a client: no leave');
      } finally {
        await pool.closeAll();
        await stopNodes(nodes);
        nodes = [];
        await backend.stop();
      }
    });
  }

  describe('faults (one redis-server)', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      await redis?.destroy();
    });

    it('a SIGKILLed node\'s members are gone within the TTL, and the survivors send the leaves', async () => {
      nodes = await startNodes(3, redis.url, presenceArgs);
      const [a, b, c] = nodes as [Node, Node, Node];
      const watcherA = await v1(a, 'wa', ['room.k']);
      const watcherB = await v1(b, 'wb', ['room.k']);
      await v1(c, 'doomed', ['room.k']);
      await v1(c, 'wa', ['room.k']); // wa also on the dying node: stays, through its socket on A
      await event(watcherA, 'join', 'doomed');
      await event(watcherB, 'join', 'doomed');
      await waitFor('all members seen', async () => (await presence(b, 'room.k'))['clients'] === 4, 5_000);
      await c.stop('SIGKILL');
      // Within the TTL (and a margin for the test's own polling and scheduling).
      await event(watcherA, 'leave', 'doomed', TTL_MS + 2_000);
      await event(watcherB, 'leave', 'doomed', TTL_MS + 2_000);
      assert.deepEqual(membersOf(await presence(a, 'room.k')), ['wa:1', 'wb:1']);
      assert.equal(watcherA.frames.some((f) => f.data.includes('"leave","topic":"room.k","user":"wa"')), false, 'wa still holds the topic on A');
    });

    it('a node stopped gracefully (SIGTERM) takes its members out at once, not after the TTL', async () => {
      // A TTL far longer than the wait below: only the node's own leaves can explain the result.
      nodes = await startNodes(2, redis.url, ['--presence-topics', 'room.*', '--presence-ttl', '60s']);
      const [a, b] = nodes as [Node, Node];
      const watcher = await v1(a, 'wa', ['room.g']);
      await v1(b, 'leaving', ['room.g']);
      await event(watcher, 'join', 'leaving');
      await b.stop('SIGTERM');
      await event(watcher, 'leave', 'leaving', 10_000);
      assert.deepEqual(membersOf(await presence(a, 'room.g')), ['wa:1']);
      await waitFor('b gone from /topics', async () => JSON.stringify((await request(a.base, 'GET', '/topics')).body) === JSON.stringify({ topics: [{ topic: 'room.g', subscribers: 1 }] }), 10_000);
    });

    it('no ghost after Redis restarts empty: live members are written back, the ones that left stay gone', async () => {
      nodes = await startNodes(2, redis.url, presenceArgs);
      const [a, b] = nodes as [Node, Node];
      await v1(a, 'stay-a', ['room.r']);
      const leaver = await v1(b, 'leaves', ['room.r']);
      await v1(b, 'stay-b', ['room.r']);
      await waitFor('3 members', async () => (await presence(a, 'room.r'))['users'] === 3, 5_000);
      await redis.stop();
      await healthIs(a, 503);
      await leaver.closeAndWait(); // leaves while Redis is away
      await redis.start();
      await healthy(a);
      await healthy(b);
      await waitFor('the live members written back', async () => {
        const p = await presence(a, 'room.r').catch(() => ({}) as J);
        return JSON.stringify(membersOf(p)) === JSON.stringify(['stay-a:1', 'stay-b:1']);
      }, 10_000);
      // And it stays so past a renewal round and a TTL.
      await new Promise((r) => setTimeout(r, TTL_MS));
      assert.deepEqual(membersOf(await presence(b, 'room.r')), ['stay-a:1', 'stay-b:1']);
      assert.deepEqual((await request(b.base, 'GET', '/presence/room.r?members=false')).body, { topic: 'room.r', clients: 2, users: 2 });
    });
  });
});
