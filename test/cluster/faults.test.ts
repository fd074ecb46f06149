// Herald nodes when something dies: Redis restarted empty mid-run, or a node SIGKILLed.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { publish, register, request } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { SocketPool, TestSocket } from '../helpers/ws-client.js';
import { healthIs, healthy, on, plainJoined, startNodes, stopNodes, type Node } from './nodes.js';

describe('cluster faults', () => {
  let redis: RedisServer;
  let nodes: Node[] = [];
  const pool = new SocketPool();
  const open = (url: string, protocol?: string): Promise<TestSocket> => pool.open(url, protocol);

  before(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await pool.closeAll();
    await stopNodes(nodes);
    nodes = [];
  });
  after(async () => {
    await redis?.destroy();
  });

  it('Redis restarted empty mid-run: 503 health, sockets stay, local delivery goes on, delivery resumes, registrations written back', async () => {
    nodes = await startNodes(2, redis.url);
    const [a, b] = nodes as [Node, Node];
    const reg = await register(a.base, 'u1', ['r']);
    const ws = await open(on(b, reg.url));
    await plainJoined(ws, a, 'r');
    const localReg = await register(a.base, 'u2', ['r']);
    const local = await open(on(a, localReg.url));
    await plainJoined(local, a, 'r');
    await publish(a.base, { topic: 'r', message: 'before' });
    // Skip the other socket's join probes, up to 'before'.
    while ((await ws.next()).data !== 'before');
    assert.equal((await local.next()).data, 'before');

    await redis.stop();
    await healthIs(a, 503);
    await healthIs(b, 503);
    // Node A's own subscribers still get what is published on A; the answer says it was local only.
    const down = await request(a.base, 'POST', '/publish', { topic: 'r', message: 'while down' });
    assert.equal(down.status, 200);
    assert.equal(down.body['degraded'], true);
    assert.equal(down.body['offset'], 0);
    assert.equal((await local.next()).data, 'while down');
    assert.equal(ws.ws.readyState, WebSocket.OPEN, 'sockets stay open while Redis is away');

    await redis.start();
    await healthy(a);
    await healthy(b);
    await publish(a.base, { topic: 'r', message: 'after' });
    assert.equal((await ws.next(5_000)).data, 'after', 'delivery resumes across nodes (and B never saw the local-only message)');
    assert.equal((await local.next(5_000)).data, 'after');
    assert.match(b.output(), /redis reconnected; resubscribed \d+ topics/);
    // Node B wrote the live registration back, so it can still be unregistered from A.
    const end = Date.now() + 5_000;
    let del = await request(a.base, 'DELETE', `/register/${reg.id}`);
    while (del.status === 404 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      del = await request(a.base, 'DELETE', `/register/${reg.id}`);
    }
    assert.equal(del.status, 200);
    assert.equal((await ws.closed).code, 4001);
  });

  it('a node SIGKILLed: its plain client reconnects to another node and gets everything it missed', async () => {
    nodes = await startNodes(3, redis.url);
    const [a, b, c] = nodes as [Node, Node, Node];
    const reg = await register(a.base, 'k1', ['k']);
    const ws = await open(on(b, reg.url));
    await plainJoined(ws, a, 'k');
    let last = 0;
    for (let i = 0; i < 10; i++) last = (await publish(a.base, { topic: 'k', message: `m${i}` })).offset;
    assert.deepEqual((await ws.take(10)).map((f) => f.data), Array.from({ length: 10 }, (_, i) => `m${i}`));

    // Node B saves its clients' cursors periodically; wait until the last one is in Redis.
    const admin = new Redis(redis.url);
    try {
      const end = Date.now() + 5_000;
      for (;;) {
        const cursors = JSON.parse((await admin.hget(`herald:{r:${reg.id}}`, 'cursors')) ?? '{}') as Record<string, { offset: number }>;
        if (cursors['k']?.offset === last) break;
        if (Date.now() > end) throw new Error(`cursor never saved: ${JSON.stringify(cursors)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      admin.disconnect();
    }

    await b.stop('SIGKILL');
    await ws.closed;
    for (let i = 10; i < 30; i++) await publish(a.base, { topic: 'k', message: `m${i}` });
    const again = await open(on(c, reg.url));
    const got = (await again.take(20, 5_000)).map((f) => f.data);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `m${i + 10}`));
    await publish(a.base, { topic: 'k', message: 'live' });
    assert.equal((await again.next()).data, 'live');
  });
});
