// Webhooks over real sockets and a real HTTP receiver: signature, body, retries with the same
// ids, batching, order per topic, timeouts, the bound; on the memory and the redis engine.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Config } from '../../src/config.js';
import { register } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { SseReader, sseUrl } from '../helpers/sse-client.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { SocketPool, type TestSocket } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'webhook-secret-for-tests-0123456789';

for (const engine of ['memory', 'redis'] as const) {
  describe(`webhooks (${engine})`, () => {
    let redis: RedisServer | undefined;
    let receiver: WebhookReceiver;
    let srv: TestServer | undefined;
    const pool = new SocketPool();
    let n = 0;
    /** Topic names unique to this test (one Redis serves the whole file). */
    const uniq = (name: string): string => `${name}-${engine}-${n}`;

    const start = async (overrides: Partial<Config> = {}): Promise<TestServer> => {
      srv = await startHerald({
        webhookUrl: receiver.url,
        webhookSecret: SECRET,
        presenceTopics: ['room.*'],
        ...(redis ? { redisUrl: redis.url, presenceTtlMs: 3_000 } : {}),
        ...overrides,
      });
      return srv;
    };
    const v1 = async (s: TestServer, user: string | number, topics: string[]): Promise<TestSocket> => {
      const reg = await register(s.base, user, topics);
      const ws = await pool.open(reg.url, 'herald.v1');
      await ws.takeJson(1);
      return ws;
    };
    const metric = async (s: TestServer, line: string): Promise<number> => {
      const text = await (await fetch(`${s.base}/metrics`)).text();
      const m = text.split('\n').find((l: string) => l.startsWith(line));
      return m ? Number(m.slice(m.lastIndexOf(' ') + 1)) : 0;
    };

    before(async () => {
      if (engine === 'redis') redis = await startRedis();
    });
    afterEach(async () => {
      n++;
      await pool.closeAll();
      await srv?.close();
      srv = undefined;
      await receiver.close();
    });
    after(async () => {
      await redis?.destroy();
    });

    test('signed JSON arrays: occupied, member.joined, member.left, vacated in order; no registration id', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      const s = await start();
      const room = uniq('room.a');
      const reg = await register(s.base, 'alice', [room]);
      const ws = await pool.open(reg.url);
      await receiver.waitFor('occupied and joined', (r) => r.of(room).length === 2);
      ws.ws.close();
      await receiver.waitFor('left and vacated', (r) => r.of(room).length === 4);
      assert.deepEqual(receiver.of(room), ['topic.occupied', 'member.joined alice', 'member.left alice', 'topic.vacated']);
      assert.ok(receiver.posts.every((p) => p.signed), 'every POST carries a valid Herald-Signature');
      for (const p of receiver.posts) {
        assert.ok(Array.isArray(JSON.parse(p.raw)));
        assert.ok(!p.raw.includes(reg.id), 'no registration id in a body');
      }
      const events = receiver.delivered.filter((e) => e.topic === room);
      for (const e of events) {
        assert.deepEqual(Object.keys(e).sort(), e.type.startsWith('member.') ? ['id', 'time', 'topic', 'type', 'user'] : ['id', 'time', 'topic', 'type']);
        assert.ok(Math.abs(e.time - Date.now()) < 30_000);
      }
      assert.equal(new Set(events.map((e) => e.id)).size, 4);
    });

    test('an SSE stream is a subscriber and a member too', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      const s = await start();
      const room = uniq('room.sse');
      const reg = await register(s.base, 'bob', [room]);
      const r = await SseReader.open(sseUrl(reg.url));
      try {
        assert.equal(r.status, 200);
        await receiver.waitFor('occupied and joined', (x) => x.of(room).length === 2);
      } finally {
        r.close();
      }
      await receiver.waitFor('left and vacated', (x) => x.of(room).length === 4);
      assert.deepEqual(receiver.of(room), ['topic.occupied', 'member.joined bob', 'member.left bob', 'topic.vacated']);
    });

    test('non-presence topics: occupied/vacated only, once per crossing, for any number of subscribers', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      const s = await start();
      const t = uniq('news');
      const [a, b] = [await v1(s, 1, [t]), await v1(s, 2, [t])];
      await receiver.waitFor('occupied', (r) => r.of(t).length === 1);
      a.ws.close();
      await a.closed;
      await waitFor('one subscriber left', () => s.herald.relay.hub.subscribers(t) === 1);
      // Events arrive in order: once a later topic's occupied is in, a wrong vacated of t would be too.
      const later = uniq('later');
      const c = await v1(s, 3, [later]);
      await receiver.waitFor('the later occupied', (r) => r.of(later).length === 1);
      assert.deepEqual(receiver.of(t), ['topic.occupied'], 'the first of two subscribers leaving vacates nothing');
      c.ws.close();
      b.ws.close();
      await receiver.waitFor('vacated', (r) => r.of(t).length === 2);
      assert.deepEqual(receiver.of(t), ['topic.occupied', 'topic.vacated']);
    });

    test('a receiver answering 500 gets the same events again (same ids) until it answers 2xx', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      receiver.answer = (i) => (i < 3 ? 500 : 204);
      const s = await start();
      const t = uniq('retry');
      await v1(s, 1, [t]);
      await receiver.waitFor('the retried delivery', (r) => r.of(t).length === 1, 10_000);
      const ids = (p: { events: Array<{ id: string }> }): string => p.events.map((e) => e.id).join(',');
      const bodies = receiver.posts.slice(0, 4);
      assert.deepEqual(bodies.map((p) => p.status), [500, 500, 500, 204]);
      assert.equal(new Set(bodies.map(ids)).size, 1, 'every retry carried the same ids');
      assert.equal(await metric(s, 'herald_webhooks_total{result="status"'), 3);
      assert.equal(await metric(s, 'herald_webhooks_total{result="ok"'), 1);
    });

    test('batches: at most HERALD_WEBHOOK_BATCH events a POST, each topic in order', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      receiver.answer = (i) => (i === 0 ? 503 : 200); // events pile up behind the first answer
      const s = await start({ webhookBatch: 4 });
      const topics = Array.from({ length: 10 }, (_, i) => uniq(`b${i}`));
      const ws = await v1(s, 1, topics);
      await receiver.waitFor('10 occupied', (r) => topics.every((t) => r.of(t).length === 1), 10_000);
      ws.ws.close();
      await receiver.waitFor('10 vacated', (r) => topics.every((t) => r.of(t).length === 2), 10_000);
      assert.ok(receiver.posts.every((p) => p.events.length <= 4), `sizes ${receiver.posts.map((p) => p.events.length).join(',')}`);
      assert.ok(receiver.posts.some((p) => p.events.length > 1), 'events were batched');
      for (const t of topics) assert.deepEqual(receiver.of(t), ['topic.occupied', 'topic.vacated']);
    });

    test('order per topic through many joins and leaves', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      const s = await start();
      const t = uniq('flap');
      const ws = await v1(s, 1, []);
      for (let i = 0; i < 5; i++) {
        ws.send({ type: 'subscribe', id: `s${i}`, topics: [t] });
        await ws.waitJson((o) => o['id'] === `s${i}`);
        await receiver.waitFor('occupied', (r) => r.of(t).length === 2 * i + 1);
        ws.send({ type: 'unsubscribe', id: `u${i}`, topics: [t] });
        await ws.waitJson((o) => o['id'] === `u${i}`);
      }
      await receiver.waitFor('10 events', (r) => r.of(t).length === 10);
      assert.deepEqual(receiver.of(t), Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'topic.occupied' : 'topic.vacated')));
    });

    test('a receiver that never answers is timed out and retried', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      receiver.answer = (i) => (i === 0 ? 'hang' : 200);
      const s = await start({ webhookTimeoutMs: 300 });
      const t = uniq('hang');
      await v1(s, 1, [t]);
      await receiver.waitFor('delivery after the timeout', (r) => r.of(t).length === 1, 10_000);
      assert.equal(await metric(s, 'herald_webhooks_total{result="timeout"'), 1);
    });

    test('a 2xx with a huge, never-ending body counts as delivered at once; the body is not read', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      receiver.answer = () => 'huge';
      const s = await start({ webhookTimeoutMs: 5_000 });
      const [t1, t2] = [uniq('huge1'), uniq('huge2')];
      await v1(s, 1, [t1]);
      await receiver.waitFor('the first delivery', (r) => r.of(t1).length === 1);
      await v1(s, 2, [t2]);
      // The next POST goes out well before the timeout: the sender did not wait for that body.
      await receiver.waitFor('the second delivery', (r) => r.of(t2).length === 1, 3_000);
      assert.equal(await metric(s, 'herald_webhooks_total{result="timeout"'), 0);
    });

    test('past HERALD_WEBHOOK_MAX_PENDING, events are dropped and counted; the rest arrive when the receiver is back', async () => {
      receiver = await WebhookReceiver.start(SECRET);
      let down = true;
      receiver.answer = () => (down ? 500 : 200);
      // A Redis of its own: what earlier tests' closing servers queued would count toward the bound.
      const own = redis ? await startRedis() : undefined;
      try {
      const s = await start({ webhookMaxPending: 3, ...(own ? { redisUrl: own.url } : {}) });
      const topics = Array.from({ length: 6 }, (_, i) => uniq(`full${i}`));
      await v1(s, 1, topics);
      await waitFor('3 dropped', async () => (await metric(s, 'herald_webhook_events_total{result="dropped"')) === 3, 10_000);
      down = false;
      await receiver.waitFor('the 3 kept', (r) => r.delivered.filter((e) => topics.includes(e.topic)).length === 3, 10_000);
      assert.deepEqual(receiver.delivered.filter((e) => topics.includes(e.topic)).map((e) => e.topic), topics.slice(0, 3));
      } finally {
        await pool.closeAll();
        await srv?.close();
        srv = undefined;
        await own?.destroy();
      }
    });
  });
}
