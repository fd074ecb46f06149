// GET /stats (counters and busiest topics as JSON) and how the dashboard's files are served.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StatsBody } from '../../src/http/stats.js';
import { publish, register, request } from '../helpers/http.js';
import { startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

describe('GET /stats', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  it('counts traffic and ranks topics by local subscribers', async () => {
    const sockets: TestSocket[] = [];
    // "big" gets 3 subscribers, "mid" 2, "small" 1.
    for (const topics of [['big', 'mid', 'small'], ['big', 'mid'], ['big']]) {
      const reg = await register(srv.base, 1, topics);
      sockets.push(await TestSocket.open(reg.url));
      await topicsLive(srv, reg.id, topics);
    }
    await publish(srv.base, { topic: 'big', message: 'x' });
    for (const s of sockets) await s.next();

    const r = await request<StatsBody>(srv.base, 'GET', '/stats');
    assert.equal(r.status, 200);
    const s = r.body;
    assert.deepEqual(s.top_topics, [
      { topic: 'big', subscribers: 3 },
      { topic: 'mid', subscribers: 2 },
      { topic: 'small', subscribers: 1 },
    ]);
    assert.deepEqual(s.connections, { total: 3, plain: 3, 'herald.v1': 0, sse: 0 });
    assert.equal(s.registrations, 3);
    assert.equal(s.publishes, 1);
    assert.equal(s.deliveries, 3);
    assert.equal(s.topics, 3);
    assert.deepEqual(s.engine, { name: 'memory', up: true });
    assert.equal(s.history?.messages, 1);

    const top1 = await request<StatsBody>(srv.base, 'GET', '/stats?top=1');
    assert.deepEqual(top1.body.top_topics, [{ topic: 'big', subscribers: 3 }]);
    assert.equal((await request(srv.base, 'GET', '/stats?top=lots')).status, 400);

    // One message: one write per subscriber. A batch of 4 to the same topic is flushed
    // together: still one write per subscriber, carrying 4 messages.
    assert.equal(s.socket_writes, 3);
    const batch = await request(srv.base, 'POST', '/publish/batch', { messages: ['a', 'b', 'c', 'd'].map((m) => ({ topic: 'big', message: m })) });
    assert.equal(batch.status, 200);
    for (const ws of sockets) await ws.take(4);
    const later = (await request<StatsBody>(srv.base, 'GET', '/stats')).body;
    assert.equal(later.deliveries - s.deliveries, 12);
    assert.equal(later.socket_writes - s.socket_writes, 3);

    // Two topics in one flush: a socket following both gets its first write, then one corked
    // write for the rest. 2 messages to "big" and 1 to "mid": 8 deliveries in 2 + 2 + 1 writes.
    const mixed = await request(srv.base, 'POST', '/publish/batch', { messages: [{ topic: 'big', message: 'e' }, { topic: 'mid', message: 'f' }, { topic: 'big', message: 'g' }] });
    assert.equal(mixed.status, 200);
    await sockets[0]!.take(3);
    await sockets[1]!.take(3);
    await sockets[2]!.take(2);
    const last = (await request<StatsBody>(srv.base, 'GET', '/stats')).body;
    assert.equal(last.deliveries - later.deliveries, 8);
    assert.equal(last.socket_writes - later.socket_writes, 5);
    for (const ws of sockets) await ws.closeAndWait();
  });
});

describe('dashboard files', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  it('serves the page with a strict CSP, no referrer and no caching', async () => {
    const r = await fetch(`${srv.base}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const html = await r.text();
    assert.match(html, /src="\/dashboard\/app\.js"/);
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from a CDN');
  });

  it('serves the built assets and nothing else', async () => {
    for (const [file, type] of [['app.js', /javascript/], ['login.js', /javascript/], ['style.css', /text\/css/], ['favicon.svg', /svg/]] as const) {
      const r = await fetch(`${srv.base}/dashboard/${file}`);
      assert.equal(r.status, 200, file);
      assert.match(r.headers.get('content-type') ?? '', type, file);
    }
    for (const file of ['index.html', 'nope.js', '..%2F..%2Fpackage.json', '%2e%2e%2fconfig.js']) {
      assert.equal((await fetch(`${srv.base}/dashboard/${file}`)).status, 404, file);
    }
  });
});
