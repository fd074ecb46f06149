// GET /topics and GET /stats?scope=cluster on one node (memory engine): the node is the cluster.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { SocketPool } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';

type J = Record<string, unknown>;

describe('cluster view on one node', () => {
  let srv: TestServer;
  const pool = new SocketPool();
  before(async () => {
    srv = await startHerald();
    for (const [user, topics] of [[1, ['a', 'b', 'c']], [2, ['a', 'b']], [3, ['a']]] as const) {
      const reg = await register(srv.base, user, [...topics]);
      await pool.open(reg.url);
    }
  });
  after(async () => {
    await pool.closeAll();
    await srv.close();
  });

  test('GET /topics: topics with subscribers, most first, paged with a cursor', async () => {
    await waitFor('3 topics', async () => ((await request<J>(srv.base, 'GET', '/topics')).body['topics'] as unknown[]).length === 3);
    const first = await request(srv.base, 'GET', '/topics?limit=2');
    assert.deepEqual(first.body, { topics: [{ topic: 'a', subscribers: 3 }, { topic: 'b', subscribers: 2 }], cursor: '2' });
    const second = await request(srv.base, 'GET', '/topics?limit=2&cursor=2');
    assert.deepEqual(second.body, { topics: [{ topic: 'c', subscribers: 1 }] });
    assert.equal((await request(srv.base, 'GET', '/topics?limit=x')).status, 400);
  });

  test('GET /stats?scope=cluster: this node alone, with the cluster\'s top topics', async () => {
    const r = await request<J>(srv.base, 'GET', '/stats?scope=cluster&top=1');
    assert.equal(r.status, 200);
    assert.equal(r.body['node'], 'cluster');
    assert.deepEqual(r.body['nodes'], [srv.herald.relay.nodeId]);
    assert.deepEqual(r.body['connections'], { total: 3, plain: 3, 'herald.v1': 0, sse: 0 });
    assert.deepEqual(r.body['top_topics'], [{ topic: 'a', subscribers: 3 }]);
    assert.equal((await request(srv.base, 'GET', '/stats?scope=everything')).status, 400);
  });
});
