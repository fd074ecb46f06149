// Access control across nodes: the backend changes a client's rights on one node and its socket
// on another follows; the per-user limit holds when two nodes register at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { publish, register, request } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { refusal } from '../helpers/refusal.js';
import { waitFor } from '../helpers/wait.js';
import { TestSocket } from '../helpers/ws-client.js';
import { on, startNodes, stopNodes, type Node } from './nodes.js';

type J = Record<string, unknown>;

const SECRET = 'cluster-token-secret-long-enough-0123456789';

describe('cluster: access control and tokens on two nodes sharing a Redis', () => {
  let redis: RedisServer;
  let nodes: Node[] = [];

  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(2, redis.url, ['--public-topics', 'pub.*', '--max-registrations-per-user', '4', '--token-secret', SECRET]);
  });
  after(async () => {
    await stopNodes(nodes);
    await redis.destroy();
  });

  it('PATCH on A moves a socket on B: leaves the revoked topic, joins the new one', async () => {
    const [a, b] = nodes as [Node, Node];
    const reg = await register(a.base, 'u1', ['old.topic']);
    const s = await TestSocket.open(on(b, reg.url), 'herald.v1');
    const [welcome] = await s.takeJson(1);
    assert.deepEqual(welcome!.topics, ['old.topic']);
    s.send({ type: 'subscribe', id: 'sync', topics: [] });
    await s.waitJson((o) => o.id === 'sync');
    const patched = await request<J>(a.base, 'PATCH', `/register/${reg.id}`, { topics: ['new.topic'] });
    assert.equal(patched.status, 200);
    const seen = [await s.waitJson((o) => o.type === 'unsubscribed' || o.type === 'subscribed'), await s.waitJson((o) => o.type === 'unsubscribed' || o.type === 'subscribed')];
    assert.deepEqual(seen, [
      { type: 'unsubscribed', topic: 'old.topic', reason: 'forbidden' },
      { type: 'subscribed', topic: 'new.topic' },
    ]);
    await publish(a.base, { topic: 'old.topic', message: 'must not arrive' });
    await publish(a.base, { topic: 'new.topic', message: 'arrives' });
    const m = await s.waitJson((o) => o.type === 'message');
    assert.equal(m.data, 'arrives');
    await s.closeAndWait();
  });

  it('DELETE /users/:user on A closes the user\'s sockets on B (registration and token) and B refuses its older tokens', async () => {
    const [a, b] = nodes as [Node, Node];
    const reg = await register(a.base, 'ban2', ['pub.x']);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('ban2').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
    const tokenUrl = `${b.base.replace('http', 'ws')}/ws?token=${token}`;
    const viaReg = await TestSocket.open(on(b, reg.url));
    const viaToken = await TestSocket.open(tokenUrl, 'herald.v1');
    await viaToken.takeJson(1);
    assert.equal((await request(a.base, 'DELETE', '/users/ban2')).status, 200);
    assert.equal((await viaReg.closed).code, 4001);
    assert.equal((await viaToken.closed).code, 4001);
    const again = await refusal(tokenUrl);
    assert.deepEqual([again.status, again.body.error], [401, 'token_revoked']);
  });

  it('a user banned while reconnecting in a loop on B (ban sent to A) keeps no socket open', async () => {
    const [a, b] = nodes as [Node, Node];
    for (let trial = 0; trial < 8; trial++) {
      const user = `looper${trial}`;
      const reg = await register(a.base, user, ['pub.x']);
      const opened: TestSocket[] = [];
      let stop = false;
      const loop = (async () => {
        for (let i = 0; i < 500 && !stop; i++) {
          try {
            opened.push(await TestSocket.open(on(b, reg.url)));
          } catch {
            // 404 once the registration is gone
          }
        }
      })();
      await waitFor('a few connections', () => opened.length >= 3);
      assert.equal((await request(a.base, 'DELETE', `/users/${user}`)).status, 200);
      stop = true;
      await loop;
      await waitFor(`every socket of ${user} closed (trial ${trial})`, () => opened.every((s) => s.ws.readyState === s.ws.CLOSED), 5_000);
    }
  });

  it('registrations of one user made on two nodes at once never exceed the limit', async () => {
    const [a, b] = nodes as [Node, Node];
    // Four connected registrations fill the limit; then twenty more race on both nodes.
    const held = await Promise.all([a, b, a, b].map((n) => register(n.base, 'racer')));
    const sockets = await Promise.all(held.map((r, i) => TestSocket.open(on(nodes[i % 2]!, r.url))));
    // Connected means marked in Redis, which follows the upgrade: wait for all four.
    await waitFor('four live registrations', async () => (await zcard(redis, 'herald:{u:racer}:live')) === 4);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => request(nodes[i % 2]!.base, 'POST', '/register', { user_id: 'racer' })));
    assert.deepEqual([...new Set(results.map((r) => r.status))], [429], 'every one of them is connected: no eviction possible');
    // Free two places by closing two sockets; then race twenty more.
    await sockets[0]!.closeAndWait();
    await sockets[1]!.closeAndWait();
    const more = await Promise.all(Array.from({ length: 20 }, (_, i) => request(nodes[i % 2]!.base, 'POST', '/register', { user_id: 'racer' })));
    const ok = more.filter((r) => r.status === 200).length;
    assert.ok(ok >= 2, `${ok} of 20 registered`);
    const regs = await zcard(redis, 'herald:{u:racer}:regs');
    assert.ok(regs <= 4, `the user holds ${regs} registrations, limit 4`);
    for (const s of sockets.slice(2)) await s.closeAndWait();
  });
});

async function zcard(redis: RedisServer, key: string): Promise<number> {
  const c = new Redis(redis.url);
  try {
    return await c.zcard(key);
  } finally {
    c.disconnect();
  }
}
