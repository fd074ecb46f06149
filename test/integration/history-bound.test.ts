// Issue 11 (high): history is bounded in total, not only per topic. A client allowed to publish
// once wrote 60 KB messages to fresh topics and RSS grew without end; now HERALD_HISTORY_MAX_BYTES
// bounds the memory engine's history (oldest topics go first, and recovery says so), and
// HERALD_CLIENT_PUBLISH_TOPICS bounds how many fresh topics one client may publish to per minute.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publish, register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

const metric = async (srv: TestServer, name: string): Promise<number> => {
  const text = await (await fetch(`${srv.base}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  assert.ok(m, `${name} not in /metrics`);
  return Number(m[1]);
};

async function v1(srv: TestServer, user: string): Promise<TestSocket> {
  const reg = await register(srv.base, user, []);
  const s = await TestSocket.open(reg.url, 'herald.v1');
  await s.takeJson(1);
  return s;
}

describe('HERALD_HISTORY_MAX_BYTES (memory engine)', () => {
  let srv: TestServer;
  const bound = 256 * 1024;
  before(async () => {
    srv = await startHerald({ historyMaxBytes: bound, clientPublish: ['spray.*'], clientRate: 10_000, clientPublishTopics: 10_000 });
  });
  after(() => srv.close());

  it('60 KB messages to fresh topics, over HTTP and from a client: history stays under the bound; a dropped topic recovers complete:false', async () => {
    const early = await publish(srv.base, { topic: 'spray.early', message: 'first' });
    const epoch = (await srv.herald.engine.history.position('spray.early')).epoch;
    const big = 'x'.repeat(60 * 1024);
    const client = await v1(srv, 'sprayer');
    for (let i = 0; i < 40; i++) {
      await publish(srv.base, { topic: `spray.http.${i}`, message: big });
      client.send({ type: 'publish', id: i, topic: `spray.ws.${i}`, data: big });
      const [ok] = await client.takeJson(1);
      assert.equal(ok!['type'], 'ok', JSON.stringify(ok).slice(0, 200));
    }
    const bytes = await metric(srv, 'herald_history_bytes');
    assert.ok(bytes <= bound, `history holds ${bytes} bytes, bound ${bound}`);
    assert.ok(bytes > bound / 2, `the bound is used, not emptied (${bytes})`);
    // The newest topics are kept whole.
    const last = await srv.herald.engine.history.since('spray.http.39', { offset: 0, epoch: '' });
    assert.equal(last.messages.length, 1);
    // A client that had read spray.early learns that its history is gone.
    const reader = await v1(srv, 'reader');
    reader.send({ type: 'subscribe', id: 's', topics: ['spray.early'], since: { 'spray.early': { offset: early.offset, epoch } } });
    const recovered = await reader.waitJson((o) => o['type'] === 'recovered');
    assert.equal(recovered['complete'], false);
    assert.notEqual(recovered['epoch'], epoch);
    await reader.closeAndWait();
    await client.closeAndWait();
  });
});

describe('HERALD_CLIENT_PUBLISH_TOPICS', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ clientPublish: ['chat.*'], clientPublishTopics: 3 });
  });
  after(() => srv.close());

  it('a client may publish to 3 distinct topics a minute; the 4th is refused (429 code too_many_publish_topics), the first three still work, and reconnecting does not reset it', async () => {
    const reg = await register(srv.base, 'chatty', []);
    let s = await TestSocket.open(reg.url, 'herald.v1');
    await s.takeJson(1);
    const pub = async (topic: string): Promise<Record<string, unknown>> => {
      s.send({ type: 'publish', id: topic, topic, data: 'hi' });
      return (await s.waitJson((o) => o['id'] === topic))!;
    };
    // The limit is per minute: do not start next to a minute boundary.
    if (Date.now() % 60_000 > 55_000) await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
    for (const t of ['chat.a', 'chat.b', 'chat.c']) assert.equal((await pub(t))['type'], 'ok');
    const refused = await pub('chat.d');
    assert.equal(refused['type'], 'error');
    assert.equal(refused['code'], 'too_many_publish_topics');
    assert.match(String(refused['message']), /HERALD_CLIENT_PUBLISH_TOPICS/);
    assert.equal((await pub('chat.a'))['type'], 'ok', 'a topic already used this minute is fine');
    await s.closeAndWait();
    s = await TestSocket.open(reg.url, 'herald.v1');
    await s.takeJson(1);
    assert.equal((await pub('chat.e'))['code'], 'too_many_publish_topics', 'a new connection of the same registration is still limited');
    const other = await register(srv.base, 'other', []);
    const o = await TestSocket.open(other.url, 'herald.v1');
    await o.takeJson(1);
    o.send({ type: 'publish', id: 1, topic: 'chat.z', data: 'hi' });
    assert.equal((await o.takeJson(1))[0]!['type'], 'ok', 'another client has its own budget');
    assert.equal(srv.herald.stats.refusals.publish_topics, 2);
    const r = await request(srv.base, 'GET', '/metrics');
    assert.match(String(r.body), /herald_refusals_total\{reason="publish_topics"[^}]*\} 2/);
    await o.closeAndWait();
    await s.closeAndWait();
  });
});
