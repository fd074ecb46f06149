import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { publish, register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

type Result = { id?: string; offset?: number; error?: string; message?: string };

/** A v1 socket subscribed to `topics`, with every join done. */
async function v1Socket(srv: TestServer, topics: string[]): Promise<TestSocket> {
  const reg = await register(srv.base, 1, topics);
  const s = await TestSocket.open(reg.url, 'herald.v1');
  await s.waitJson((o) => o.type === 'welcome');
  s.send({ type: 'subscribe', id: 'sync', topics: [] });
  await s.waitJson((o) => o.type === 'ok' && o.id === 'sync');
  return s;
}

describe('POST /publish and /publish/batch', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ historySize: 100 });
  });
  after(() => srv.close());

  test('/publish answers {id, offset}, offsets count 1, 2, 3 per topic', async () => {
    const a1 = await publish(srv.base, { topic: 'pb.single', message: 'x' });
    const a2 = await publish(srv.base, { topic: 'pb.single', data: { n: 1 } });
    const b1 = await publish(srv.base, { topic: 'pb.single.other', binary: 'AAE=' });
    assert.equal(typeof a1.id, 'string');
    assert.notEqual(a1.id, a2.id);
    assert.deepEqual([a1.offset, a2.offset, b1.offset], [1, 2, 1]);
  });

  test('all good items: one result per item, offsets in array order', async () => {
    const r = await request<{ results: Result[] }>(srv.base, 'POST', '/publish/batch', {
      messages: [
        { topic: 'pb.a', message: 'a1' },
        { topic: 'pb.b', data: { b: 1 } },
        { topic: 'pb.a', data: [1, 2] },
        { topic: 'pb.a', binary: 'AAEC' },
        { topic: 'pb.b', message: 'b2', user_id: 4 },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.results.map((x) => x.offset), [1, 1, 2, 3, 2]);
    for (const x of r.body.results) assert.equal(typeof x.id, 'string');
    assert.equal(new Set(r.body.results.map((x) => x.id)).size, 5);
  });

  test('good and bad items mixed (schema errors): per-item errors, good ones published in order', async () => {
    const s = await v1Socket(srv, ['pb.mixed']);
    try {
      const r = await request<{ results: Result[] }>(srv.base, 'POST', '/publish/batch', {
        messages: [
          { topic: 'pb.mixed', message: 'one' },
          { message: 'no topic' },
          { topic: 'pb.mixed', message: 'two' },
          { topic: '', message: 'empty topic' },
          { topic: 'pb.mixed', binary: '!!not base64!!' },
          { topic: 'pb.mixed', message: 'x', user_id: -1 },
          'not an object',
          { topic: 'pb.mixed', data: { three: 3 } },
        ],
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const res = r.body.results;
      assert.equal(res.length, 8);
      assert.deepEqual(res.map((x) => x.offset ?? null), [1, null, 2, null, null, null, null, 3]);
      for (const i of [1, 3, 4, 5, 6]) {
        assert.equal(res[i]!.error, 'invalid_body', `item ${i}: ${JSON.stringify(res[i])}`);
        assert.match(res[i]!.message!, new RegExp(`messages\\[${i}\\]`), `item ${i} error names the item`);
      }
      const got = await s.takeJson(3);
      assert.deepEqual(got.map((o) => [o.type, o.offset, o.data]), [['message', 1, 'one'], ['message', 2, 'two'], ['message', 3, { three: 3 }]]);
      await s.expectSilence(100);
    } finally {
      await s.closeAndWait();
    }
  });

  test('items with no payload or two payloads are per-item errors; the rest of the batch is published and reported', async () => {
    const s = await v1Socket(srv, ['pb.payload']);
    try {
      const r = await request<{ results: Result[] }>(srv.base, 'POST', '/publish/batch', {
        messages: [
          { topic: 'pb.payload', message: 'first' },
          { topic: 'pb.payload' },
          { topic: 'pb.payload', message: 'a', data: 1 },
          { topic: 'pb.payload', message: 'last' },
        ],
      });
      assert.equal(r.status, 200, `the whole batch failed: ${r.status} ${JSON.stringify(r.body)}`);
      const res = r.body.results;
      assert.equal(res.length, 4);
      assert.equal(res[0]!.offset, 1);
      assert.equal(res[1]!.error, 'invalid_body');
      assert.equal(res[2]!.error, 'invalid_body');
      assert.equal(res[3]!.offset, 2);
      const got = await s.takeJson(2);
      assert.deepEqual(got.map((o) => o.data), ['first', 'last']);
    } finally {
      await s.closeAndWait();
    }
  });

  test('a batch is replayed from history like single publishes', async () => {
    const r = await request<{ results: Result[] }>(srv.base, 'POST', '/publish/batch', {
      messages: Array.from({ length: 20 }, (_, i) => ({ topic: 'pb.hist', data: i })),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.results.map((x) => x.offset), Array.from({ length: 20 }, (_, i) => i + 1));
    const reg = await register(srv.base, 2, []);
    const s = await TestSocket.open(reg.url, 'herald.v1');
    try {
      await s.waitJson((o) => o.type === 'welcome');
      s.send({ type: 'subscribe', id: 1, topics: ['pb.hist'], since: { 'pb.hist': { offset: 0, epoch: '' } } });
      const got = await s.takeJson(22);
      assert.deepEqual(got.slice(0, 20).map((o) => o.data), Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual(got[20], { type: 'recovered', topic: 'pb.hist', epoch: got[0]!.epoch, offset: 20, complete: true });
      assert.deepEqual(got[21], { type: 'ok', id: 1 });
    } finally {
      await s.closeAndWait();
    }
  });

  test('bad batch bodies are 400 with a JSON error', async () => {
    for (const body of [{}, { messages: 'x' }, [], { messages: Array.from({ length: 10_001 }, () => ({ topic: 't', message: 'm' })) }]) {
      const r = await request<{ error: string; message: string }>(srv.base, 'POST', '/publish/batch', body);
      assert.ok(r.status === 400 || r.status === 413, `${JSON.stringify(body).slice(0, 40)} -> ${r.status}`);
      assert.equal(typeof r.body.error, 'string');
      assert.ok(r.body.message.length > 0);
    }
    const empty = await request<{ results: Result[] }>(srv.base, 'POST', '/publish/batch', { messages: [] });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.results, []);
  });
});
