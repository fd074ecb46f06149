// The operators' view of several Herald processes: GET /topics and GET /stats?scope=cluster.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { register, request } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { SocketPool } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';
import { on, startNodes, stopNodes, type Node } from './nodes.js';

type J = Record<string, unknown>;

describe('cluster: topics and stats of every node', () => {
  let redis: RedisServer;
  let nodes: Node[] = [];
  const pool = new SocketPool();
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(3, redis.url, ['--presence-ttl', '2s']);
  });
  after(async () => {
    await pool.closeAll();
    await stopNodes(nodes);
    await redis?.destroy();
  });

  it('sums topics and stats over the live nodes; a SIGKILLed node\'s share goes within the TTL', async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    const plan: Array<[Node, string[]]> = [[a, ['x', 'y']], [b, ['x']], [c, ['x', 'z']], [c, ['z']]];
    for (const [n, topics] of plan) {
      const reg = await register(a.base, 'u', topics);
      await pool.open(on(n, reg.url));
    }
    const want = JSON.stringify({ topics: [{ topic: 'x', subscribers: 3 }, { topic: 'z', subscribers: 2 }, { topic: 'y', subscribers: 1 }] });
    for (const n of nodes) await waitFor(`node ${n.id}'s view`, async () => JSON.stringify((await request(n.base, 'GET', '/topics')).body) === want, 5_000);
    // Each node reports every second or so: wait for reports made after the sockets opened.
    let stats: J = {};
    await waitFor('every node\'s sockets in the stats', async () => {
      stats = (await request<J>(b.base, 'GET', '/stats?scope=cluster')).body;
      return (stats['connections'] as J)['total'] === 4;
    }, 5_000);
    assert.deepEqual((stats['nodes'] as string[]).sort(), ['a', 'b', 'c']);
    assert.deepEqual((stats['top_topics'] as J[])[0], { topic: 'x', subscribers: 3 });

    await c.stop('SIGKILL');
    await waitFor('c gone from /topics', async () => JSON.stringify((await request(a.base, 'GET', '/topics')).body) === JSON.stringify({ topics: [{ topic: 'x', subscribers: 2 }, { topic: 'y', subscribers: 1 }] }), 4_000);
    await waitFor('c gone from /stats', async () => ((await request<J>(a.base, 'GET', '/stats?scope=cluster')).body['nodes'] as string[]).length === 2, 4_000);
  });
});
