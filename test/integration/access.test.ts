// Who may read what (DESIGN.md 6), over real sockets: every way in refuses a topic the client
// may not hold, and the backend's changes (PATCH) reach the live socket.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HeraldClient, HeraldError as SdkError } from '../../client/index.js';
import { publish, register, request } from '../helpers/http.js';
import { startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { openV1 as v1, request as req, type J } from '../helpers/v1-client.js';
import { TestSocket } from '../helpers/ws-client.js';


async function refusals(srv: TestServer): Promise<number> {
  const r = await fetch(`${srv.base}/metrics`);
  const m = /herald_refusals_total\{reason="forbidden_topic"[^}]*\} (\d+)/.exec(await r.text());
  return Number(m?.[1] ?? 0);
}

describe('access control', () => {
  let srv: TestServer;
  const sockets: TestSocket[] = [];
  const track = <T extends { s: TestSocket } | TestSocket>(x: T): T => {
    sockets.push('s' in x ? x.s : x);
    return x;
  };
  before(async () => {
    srv = await startHerald({ publicTopics: ['news', 'news.*', 'user.{user}.*'], clientPublish: ['chat.*'], historySize: 100 });
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.closeAndWait()));
    await srv.close();
  });

  test('the theft, replayed step by step, fails at every step (plain)', async () => {
    await publish(srv.base, { topic: 'user.alice.private', message: 'alice secret' });
    await publish(srv.base, { topic: 'admin.audit', message: 'audit line' });
    const mallory = await register(srv.base, 'mallory', ['news']);
    const s = track(await TestSocket.open(mallory.url));
    await topicsLive(srv, mallory.id, ['news']);
    const before = await refusals(srv);
    // 1. Ask for the topics outright: the whole update is ignored (news stays), and counted.
    s.send({ topics: ['news', 'user.alice.private', 'admin.audit'] });
    await waitFor('the refusal to be counted', async () => (await refusals(srv)) === before + 1);
    assert.deepEqual(srv.herald.relay.hub.get(mallory.id)?.links.topics(), ['news']);
    await publish(srv.base, { topic: 'user.alice.private', message: 'alice live' });
    await publish(srv.base, { topic: 'admin.audit', message: 'audit live' });
    await publish(srv.base, { topic: 'news', message: 'headline' });
    assert.equal((await s.next()).data, 'headline', 'only the public topic arrives');
    // 2. Nothing stolen was saved into the registration.
    const reg = await srv.herald.engine.registry.get(mallory.id);
    assert.deepEqual(reg?.topics, ['news']);
    assert.ok(!reg?.held?.includes('user.alice.private'));
    await s.closeAndWait();
    // 3. Reconnect asking for history with ?since=: refused before the upgrade.
    const since = encodeURIComponent(JSON.stringify({ 'user.alice.private': { offset: 0, epoch: 'x' } }));
    await assert.rejects(new TestSocket(`${mallory.url}?since=${since}`).opened, /unexpected response 403/);
    // 4. The reconnect without it holds only news.
    const again = track(await TestSocket.open(mallory.url));
    await topicsLive(srv, mallory.id, ['news']);
    assert.deepEqual(srv.herald.relay.hub.get(mallory.id)?.links.topics(), ['news']);
    await again.closeAndWait();
  });

  test('the theft fails at every step (herald.v1): forbidden, and nothing changes', async () => {
    const mallory = await register(srv.base, 'mallory', ['news']);
    const { s, welcome } = track(await v1(mallory.url));
    assert.deepEqual(welcome.topics, ['news']);
    const sub = await req(s, { type: 'subscribe', id: 1, topics: ['news.x', 'user.alice.private'], since: { 'user.alice.private': { offset: 0, epoch: 'x' } } });
    assert.equal(sub.type, 'error');
    assert.equal(sub.code, 'forbidden');
    assert.match(String(sub.message), /user\.alice\.private/);
    const set = await req(s, { type: 'topics', id: 2, topics: ['admin.audit'] });
    assert.equal(set.code, 'forbidden');
    const pub = await req(s, { type: 'publish', id: 3, topic: 'chat.room', data: 'hi' });
    assert.equal(pub.code, 'forbidden', 'chat.* is publishable, but not readable by this client');
    assert.deepEqual(srv.herald.relay.hub.get(mallory.id)?.links.topics(), ['news'], 'nothing changed, not even news.x');
    // Allowed: a public pattern and the user's own {user} topic.
    assert.deepEqual(await req(s, { type: 'subscribe', id: 4, topics: ['news.x', 'user.mallory.inbox'] }), { type: 'ok', id: 4 });
    assert.equal((await req(s, { type: 'subscribe', id: 5, topics: ['user.alice.inbox'] })).code, 'forbidden');
  });

  test('grants and registration topics allow; a client\'s own unsubscribe never removes a right', async () => {
    const reg = await request<J>(srv.base, 'POST', '/register', { user_id: 7, topics: ['private.7'], grants: ['team.7.*'] });
    assert.equal(reg.status, 200);
    assert.deepEqual(reg.body.grants, ['team.7.*']);
    const { s } = track(await v1(String(reg.body.url)));
    assert.deepEqual(await req(s, { type: 'subscribe', id: 1, topics: ['team.7.general'] }), { type: 'ok', id: 1 });
    assert.equal((await req(s, { type: 'subscribe', id: 2, topics: ['team.8.general'] })).code, 'forbidden');
    assert.deepEqual(await req(s, { type: 'unsubscribe', id: 3, topics: ['private.7'] }), { type: 'ok', id: 3 });
    assert.deepEqual(await req(s, { type: 'subscribe', id: 4, topics: ['private.7'] }), { type: 'ok', id: 4 });
    const stored = await srv.herald.engine.registry.get(String(reg.body.id));
    assert.deepEqual(stored?.topics, ['private.7'], "the backend's list is untouched by the client's changes");
    assert.deepEqual(stored?.held?.sort(), ['private.7', 'team.7.general']);
  });

  test('what the client holds is restored on reconnect', async () => {
    const reg = await register(srv.base, 8, ['news']);
    const { s } = await v1(reg.url);
    assert.deepEqual(await req(s, { type: 'topics', id: 1, topics: ['news.a', 'news.b'] }), { type: 'ok', id: 1 });
    await s.closeAndWait();
    const { s: again, welcome } = track(await v1(reg.url));
    assert.deepEqual(welcome.topics, ['news.a', 'news.b']);
    await topicsLive(srv, reg.id, ['news.a', 'news.b']);
    await publish(srv.base, { topic: 'news.b', message: 'b' });
    assert.equal((await again.waitJson((o) => o.type === 'message')).data, 'b');
  });

  test('PATCH revokes while messages flow: unsubscribed, then nothing more of that topic', async () => {
    const reg = await register(srv.base, 9, ['secret.9', 'news']);
    const { s } = track(await v1(reg.url));
    await topicsLive(srv, reg.id, ['secret.9', 'news']);
    let stop = false;
    let sent = 0;
    const flow = (async () => {
      while (!stop) {
        await publish(srv.base, { topic: 'secret.9', message: `m${++sent}` });
      }
    })();
    await s.waitJson((o) => o.type === 'message' && o.topic === 'secret.9');
    const patched = await request<J>(srv.base, 'PATCH', `/register/${reg.id}`, { topics: ['news'] });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body, { id: reg.id, topics: ['news'], grants: [] });
    assert.deepEqual(await s.waitJson((o) => o.type === 'unsubscribed'), { type: 'unsubscribed', topic: 'secret.9', reason: 'forbidden' });
    // Let the flow go on past the revocation, then stop it.
    const target = sent + 20;
    await waitFor('20 more publishes', () => sent >= target);
    stop = true;
    await flow;
    await publish(srv.base, { topic: 'news', message: 'last' });
    const afterwards: J[] = [];
    for (;;) {
      const [o] = await s.takeJson(1);
      afterwards.push(o!);
      if (o!.topic === 'news') break;
    }
    assert.deepEqual(afterwards.filter((o) => o.topic === 'secret.9'), [], 'nothing of the revoked topic after unsubscribed');
    assert.equal(afterwards.at(-1)!.data, 'last');
    assert.equal(srv.herald.relay.hub.get(reg.id)?.links.has('secret.9'), false);
    assert.deepEqual((await srv.herald.engine.registry.get(reg.id))?.held, ['news']);
  });

  test('PATCH adds a topic: subscribed, then its messages arrive; plain sockets follow silently', async () => {
    const a = await register(srv.base, 10, ['news']);
    const b = await register(srv.base, 11, ['news']);
    const { s } = track(await v1(a.url));
    const plain = track(await TestSocket.open(b.url));
    await topicsLive(srv, b.id, ['news']);
    assert.equal((await request(srv.base, 'PATCH', `/register/${a.id}`, { topics: ['news', 'vip.10'] })).status, 200);
    assert.deepEqual(await s.waitJson((o) => o.type === 'subscribed'), { type: 'subscribed', topic: 'vip.10' });
    await publish(srv.base, { topic: 'vip.10', message: 'welcome vip' });
    assert.equal((await s.waitJson((o) => o.type === 'message')).data, 'welcome vip');
    assert.equal((await request(srv.base, 'PATCH', `/register/${b.id}`, { grants: ['vip.*'] })).status, 200);
    // A grant allows; it does not join (only topics are joined).
    plain.send({ topics: ['news', 'vip.11'] });
    await topicsLive(srv, b.id, ['vip.11']);
    await publish(srv.base, { topic: 'vip.11', message: 'granted' });
    assert.equal((await plain.next()).data, 'granted');
    assert.equal((await request(srv.base, 'PATCH', `/register/${b.id}`, { grants: [] })).status, 200);
    await waitFor('the plain socket to leave vip.11', () => srv.herald.relay.hub.get(b.id)?.links.has('vip.11') === false);
    await plain.expectSilence(50);
  });

  test('a topic revoked while the client was away: its ?since= entry is dropped, not refused (no lock-out)', async () => {
    const reg = await register(srv.base, 13, ['t.gone', 'news']);
    const s = await TestSocket.open(reg.url);
    await topicsLive(srv, reg.id, ['t.gone', 'news']);
    await publish(srv.base, { topic: 't.gone', message: 'before' });
    assert.equal((await s.next()).data, 'before');
    await s.closeAndWait();
    await waitFor('the cursors to be saved', async () => Object.hasOwn((await srv.herald.engine.registry.get(reg.id))?.cursors ?? {}, 't.gone'));
    assert.equal((await request(srv.base, 'PATCH', `/register/${reg.id}`, { topics: ['news'] })).status, 200);
    const since = encodeURIComponent(JSON.stringify({ 't.gone': { offset: 1, epoch: 'e' }, 'user.alice.x': { offset: 0, epoch: 'e' } }));
    await assert.rejects(new TestSocket(`${reg.url}?since=${since}`).opened, /unexpected response 403/, 'a topic never held is still refused');
    const ok = encodeURIComponent(JSON.stringify({ 't.gone': { offset: 1, epoch: 'e' } }));
    const again = track(await TestSocket.open(`${reg.url}?since=${ok}`));
    await topicsLive(srv, reg.id, ['news']);
    assert.deepEqual(srv.herald.relay.hub.get(reg.id)?.links.topics(), ['news']);
    await again.closeAndWait();
  });

  test('the SDK: a revoked topic ends its subscription with forbidden; an added one is announced', async () => {
    const reg = await register(srv.base, 14, ['sdk.secret']);
    const client = new HeraldClient(reg.url);
    try {
      await client.connect();
      const sub = client.subscribe('sdk.secret');
      await sub.ready();
      const added = new Promise<string>((resolve) => client.on('subscribed', resolve));
      const ended = new Promise<unknown>((resolve) => sub.on('end', resolve));
      assert.equal((await request(srv.base, 'PATCH', `/register/${reg.id}`, { topics: ['sdk.next'] })).status, 200);
      const err = await ended;
      assert.ok(err instanceof SdkError && err.code === 'forbidden', String(err));
      assert.equal(await added, 'sdk.next');
      assert.equal(client.state, 'connected');
    } finally {
      await client.close();
    }
  });

  test('PATCH errors: unknown id 404, neither topics nor grants 400, bad lists 400', async () => {
    assert.equal((await request<J>(srv.base, 'PATCH', '/register/nope', { topics: ['a'] })).body.error, 'unknown_client');
    const reg = await register(srv.base, 12);
    assert.equal((await request(srv.base, 'PATCH', `/register/${reg.id}`, {})).status, 400);
    assert.equal((await request(srv.base, 'PATCH', `/register/${reg.id}`, { nope: [] })).status, 400);
    assert.equal((await request(srv.base, 'PATCH', `/register/${reg.id}`, { topics: [''] })).status, 400);
    assert.equal((await request(srv.base, 'PATCH', `/register/${reg.id}`, { grants: 'x' })).status, 400);
  });
});

describe('access control: defaults and the API key', () => {
  test('HERALD_PUBLIC_TOPICS defaults to *: the tutorial reads any topic', async () => {
    const srv = await startHerald();
    try {
      const reg = await register(srv.base, 1);
      const s = await TestSocket.open(reg.url);
      s.send({ topics: ['anything.at.all'] });
      await topicsLive(srv, reg.id, ['anything.at.all']);
      await publish(srv.base, { topic: 'anything.at.all', message: 'x' });
      assert.equal((await s.next()).data, 'x');
      await s.closeAndWait();
    } finally {
      await srv.close();
    }
  });

  test('PATCH needs the API key', async () => {
    const srv = await startHerald({ apiKey: 'k'.repeat(20) });
    try {
      const auth = { authorization: `Bearer ${'k'.repeat(20)}` };
      const reg = await register(srv.base, 1, ['a'], auth);
      assert.equal((await request(srv.base, 'PATCH', `/register/${reg.id}`, { topics: ['b'] })).status, 401);
      assert.equal((await request(srv.base, 'PATCH', `/register/${reg.id}`, { topics: ['b'] }, auth)).status, 200);
    } finally {
      await srv.close();
    }
  });
});
