// Herald as several processes on one Redis: a client may register, connect, be published to
// and be unregistered through different nodes.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { publish, register, request } from '../helpers/http.js';
import { startRedis, startRedisCluster } from '../helpers/redis.js';
import { SocketPool, TestSocket } from '../helpers/ws-client.js';
import { on, plainJoined, startNodes, stopNodes, type Node } from './nodes.js';

/** A Redis setup for the nodes: its URL, the extra `herald serve` flags, and how to stop it. */
interface Backend {
  url: string;
  args: string[];
  stop(): Promise<void>;
}

const setups: Array<[string, () => Promise<Backend>]> = [
  ['one redis-server', async () => {
    const r = await startRedis();
    return { url: r.url, args: [], stop: () => r.destroy() };
  }],
  ['a Redis Cluster of 3 masters (sharded pub/sub)', async () => {
    const c = await startRedisCluster(3);
    return { url: c.url, args: ['--redis-cluster'], stop: () => c.stop() };
  }],
];

for (const [setup, start] of setups) describe(`cluster: three Herald nodes on ${setup}`, () => {
  let backend: Backend | undefined;
  let nodes: Node[] = [];
  const pool = new SocketPool();
  const open = (url: string, protocol?: string): Promise<TestSocket> => pool.open(url, protocol);

  before(async () => {
    backend = await start();
    nodes = await startNodes(3, backend.url, backend.args);
  });
  afterEach(async () => {
    await pool.closeAll();
  });
  after(async () => {
    await stopNodes(nodes);
    await backend?.stop();
  });

  it('registers on A, connects on B, publishes on C, unregisters on C (4001 on B)', async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    const reg = await register(a.base, 1, ['cross']);
    const ws = await open(on(b, reg.url));
    await plainJoined(ws, c, 'cross');
    await publish(c.base, { topic: 'cross', message: 'hello from C' });
    assert.equal((await ws.next()).data, 'hello from C');
    const del = await request(c.base, 'DELETE', `/register/${reg.id}`);
    assert.equal(del.status, 200);
    assert.equal((await ws.closed).code, 4001);
    assert.equal((await request(a.base, 'DELETE', `/register/${reg.id}`)).status, 404);
  });

  it('delivers a user-addressed publish only to that user, on whichever node', async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    const alice = await register(a.base, 'alice', ['dm']);
    const bob = await register(a.base, 'bob', ['dm']);
    const [wa, wb] = [await open(on(a, alice.url), 'herald.v1'), await open(on(b, bob.url), 'herald.v1')];
    await wa.waitJson((o) => o['type'] === 'welcome');
    await wb.waitJson((o) => o['type'] === 'welcome');
    // herald.v1: an `ok` to a subscribe means the topic is joined on that node.
    wa.send({ type: 'subscribe', topics: ['dm'], id: 1 });
    wb.send({ type: 'subscribe', topics: ['dm'], id: 1 });
    await wa.waitJson((o) => o['type'] === 'ok');
    await wb.waitJson((o) => o['type'] === 'ok');
    await publish(c.base, { topic: 'dm', user_id: 'bob', message: 'for bob' });
    await publish(c.base, { topic: 'dm', message: 'for all' });
    const toBob = await wb.waitJson((o) => o['type'] === 'message');
    assert.equal(toBob['data'], 'for bob');
    assert.equal((await wb.waitJson((o) => o['type'] === 'message'))['data'], 'for all');
    const toAlice = await wa.waitJson((o) => o['type'] === 'message');
    assert.equal(toAlice['data'], 'for all', 'alice never sees the message addressed to bob');
  });

  it('delivers 1,000 messages published through 3 nodes exactly once, in order, to subscribers on every node', async () => {
    const topic = 'load';
    const subs: TestSocket[] = [];
    for (const n of nodes) {
      for (let k = 0; k < 2; k++) {
        const reg = await register(n.base, `u-${n.id}-${k}`, [topic]);
        const s = await open(on(n, reg.url), 'herald.v1');
        await s.waitJson((o) => o['type'] === 'welcome');
        s.send({ type: 'subscribe', topics: [topic], id: 'join' });
        await s.waitJson((o) => o['type'] === 'ok');
        subs.push(s);
      }
    }
    const total = 1_000;
    const offsets = new Map<number, string>();
    for (let i = 0; i < total; i += 50) {
      const batch = Array.from({ length: Math.min(50, total - i) }, (_, j) => i + j);
      const results = await Promise.all(batch.map((n) => publish(nodes[n % 3]!.base, { topic, message: `m${n}` }).then((r) => [r.offset, `m${n}`] as const)));
      for (const [offset, body] of results) offsets.set(offset, body);
    }
    assert.equal(offsets.size, total, 'every publish got its own offset');
    const expected = [...offsets.keys()].sort((x, y) => x - y);
    for (const s of subs) {
      const got = (await s.takeJson<{ type: string; data: string; offset: number }>(total, 15_000)).filter((o) => o.type === 'message');
      assert.deepEqual(got.map((o) => o.offset), expected);
      assert.deepEqual(got.map((o) => o.data), expected.map((o) => offsets.get(o)));
      await s.expectSilence(100);
    }
  });
});
