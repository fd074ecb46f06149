import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { publish, register } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

type J = Record<string, unknown>;

/** Opens a herald.v1 socket for a new registration; returns it after `welcome` and after the registration topics are joined. */
async function openV1(srv: TestServer, user: number | string, topics: string[] = []): Promise<{ s: TestSocket; welcome: J; id: string; url: string }> {
  const reg = await register(srv.base, user, topics);
  const s = await TestSocket.open(reg.url, 'herald.v1');
  const [welcome] = await s.takeJson(1);
  s.send({ type: 'subscribe', id: '__sync', topics: [] });
  const ok = await s.takeJson(1);
  assert.deepEqual(ok[0], { type: 'ok', id: '__sync' }, 'nothing arrives before the sync reply');
  return { s, welcome: welcome!, id: reg.id, url: reg.url };
}

async function req(s: TestSocket, body: J): Promise<J> {
  s.send(body);
  return (await s.takeJson(1))[0]!;
}

describe('herald.v1 protocol', () => {
  let srv: TestServer;
  const open: TestSocket[] = [];
  const v1 = async (user: number | string, topics: string[] = []) => {
    const r = await openV1(srv, user, topics);
    open.push(r.s);
    return r;
  };
  before(async () => {
    srv = await startHerald({ clientPublish: ['chat.*'], historySize: 50 });
  });
  after(async () => {
    await Promise.all(open.map((s) => s.closeAndWait()));
    await srv.close();
  });

  test('negotiated with Sec-WebSocket-Protocol: herald.v1; welcome comes first', async () => {
    const reg = await register(srv.base, 'alice', ['w.a', 'w.b']);
    const s = await TestSocket.open(reg.url, 'herald.v1');
    open.push(s);
    assert.equal(s.ws.protocol, 'herald.v1');
    const [w] = await s.takeJson(1);
    assert.deepEqual(w, { type: 'welcome', client: reg.id, user: 'alice', topics: ['w.a', 'w.b'], heartbeat_ms: 25_000 });
  });

  test('welcome reports a numeric user id as a number', async () => {
    const { welcome, id } = await v1(42, ['w.n']);
    assert.deepEqual(welcome, { type: 'welcome', client: id, user: 42, topics: ['w.n'], heartbeat_ms: 25_000 });
  });

  test('registration topics are live after connect: message frames carry topic, data, offset, epoch, ts', async () => {
    const { s } = await v1(1, ['m.t']);
    const before = Date.now();
    const p1 = await publish(srv.base, { topic: 'm.t', message: 'hello' });
    const p2 = await publish(srv.base, { topic: 'm.t', data: { a: [1, 'x'] } });
    const p3 = await publish(srv.base, { topic: 'm.t', binary: 'AAEC/w==' });
    const got = await s.takeJson(3);
    const epoch = got[0]!.epoch;
    assert.equal(typeof epoch, 'string');
    for (const o of got) {
      assert.equal(o.type, 'message');
      assert.equal(o.topic, 'm.t');
      assert.equal(o.epoch, epoch);
      assert.ok(typeof o.ts === 'number' && o.ts >= before - 5 && o.ts <= Date.now() + 5, `ts ${String(o.ts)}`);
    }
    assert.deepEqual(got.map((o) => o.offset), [p1.offset, p2.offset, p3.offset]);
    assert.equal(got[0]!.data, 'hello');
    assert.deepEqual(got[1]!.data, { a: [1, 'x'] });
    assert.equal(got[2]!.binary, 'AAEC/w==');
    assert.equal('data' in got[2]!, false);
  });

  test('subscribe: ok {id}, and a message published after the ok is delivered', async () => {
    const { s } = await v1(1);
    assert.deepEqual(await req(s, { type: 'subscribe', id: 7, topics: ['sub.a', 'sub.b'] }), { type: 'ok', id: 7 });
    await publish(srv.base, { topic: 'sub.b', message: 'b' });
    await publish(srv.base, { topic: 'sub.a', message: 'a' });
    const got = await s.takeJson(2);
    assert.deepEqual(got.map((o) => [o.topic, o.data]), [['sub.b', 'b'], ['sub.a', 'a']]);
    assert.deepEqual(await req(s, { type: 'subscribe', topics: ['sub.c'] }), { type: 'ok' }, 'no id, no id in the reply');
  });

  test('subscribe without since to a topic with history: no replay, no recovered frame', async () => {
    for (let i = 0; i < 3; i++) await publish(srv.base, { topic: 'nohist', message: `old${i}` });
    const { s } = await v1(1);
    assert.deepEqual(await req(s, { type: 'subscribe', id: 'x', topics: ['nohist'] }), { type: 'ok', id: 'x' });
    const p = await publish(srv.base, { topic: 'nohist', message: 'new' });
    const [m] = await s.takeJson(1);
    assert.equal(m!.data, 'new');
    assert.equal(m!.offset, p.offset);
  });

  test('subscribe without since to topics named like Object.prototype members ("constructor", "toString", "__proto__"...) behaves like any topic: ok, no recovered frame', async () => {
    const problems: string[] = [];
    for (const topic of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      await publish(srv.base, { topic, message: 'before' });
      const { s } = await v1(1);
      s.send({ type: 'subscribe', id: 's', topics: [topic] });
      const [reply] = await s.takeJson(1);
      if (reply!.type !== 'ok') {
        problems.push(`${topic}: got ${JSON.stringify(reply)} before ok`);
        await s.waitJson((o) => o.type === 'ok');
      }
      const p = await publish(srv.base, { topic, message: 'live' });
      const [m] = await s.takeJson(1);
      assert.deepEqual([m!.type, m!.topic, m!.data, m!.offset], ['message', topic, 'live', p.offset]);
    }
    assert.deepEqual(problems, []);
  });

  test('subscribe with since: exactly the missed messages, recovered, ok; live after', async () => {
    for (let i = 1; i <= 6; i++) await publish(srv.base, { topic: 'rec.b', message: `m${i}` });
    const { s: probe } = await v1(9, ['rec.b']);
    const p7 = await publish(srv.base, { topic: 'rec.b', message: 'm7' });
    const [m7] = await probe.takeJson(1);
    const epoch = m7!.epoch as string;
    const { s } = await v1(1);
    s.send({ type: 'subscribe', id: 'r', topics: ['rec.b'], since: { 'rec.b': { offset: 3, epoch } } });
    const got = await s.takeJson(6);
    assert.deepEqual(got.slice(0, 4).map((o) => [o.type, o.offset, o.data]), [['message', 4, 'm4'], ['message', 5, 'm5'], ['message', 6, 'm6'], ['message', 7, 'm7']]);
    assert.deepEqual(got[4], { type: 'recovered', topic: 'rec.b', epoch, offset: p7.offset, complete: true });
    assert.deepEqual(got[5], { type: 'ok', id: 'r' });
    const p8 = await publish(srv.base, { topic: 'rec.b', message: 'm8' });
    const [m8] = await s.takeJson(1);
    assert.deepEqual([m8!.offset, m8!.data], [p8.offset, 'm8']);
  });

  test('subscribe with since at the current position: recovered with nothing replayed', async () => {
    const p = await publish(srv.base, { topic: 'rec.c', message: 'x' });
    const { s: probe } = await v1(9, ['rec.c']);
    await publish(srv.base, { topic: 'rec.c', message: 'y' });
    const [y] = await probe.takeJson(1);
    const { s } = await v1(1);
    s.send({ type: 'subscribe', id: 1, topics: ['rec.c'], since: { 'rec.c': { offset: p.offset + 1, epoch: y!.epoch } } });
    const got = await s.takeJson(2);
    assert.deepEqual(got, [{ type: 'recovered', topic: 'rec.c', epoch: y!.epoch, offset: p.offset + 1, complete: true }, { type: 'ok', id: 1 }]);
  });

  test('subscribe with since and a wrong epoch: what is kept, complete false', async () => {
    await publish(srv.base, { topic: 'rec.e', message: 'a' });
    await publish(srv.base, { topic: 'rec.e', message: 'b' });
    const { s } = await v1(1);
    s.send({ type: 'subscribe', id: 1, topics: ['rec.e'], since: { 'rec.e': { offset: 1, epoch: 'some-old-epoch' } } });
    const got = await s.takeJson(4);
    assert.deepEqual(got.slice(0, 2).map((o) => o.data), ['a', 'b']);
    assert.equal(got[2]!.type, 'recovered');
    assert.equal(got[2]!.complete, false);
    assert.equal(got[2]!.offset, 2);
    assert.notEqual(got[2]!.epoch, 'some-old-epoch');
    assert.deepEqual(got[3], { type: 'ok', id: 1 });
  });

  test('subscribe to an already joined topic: with since, what it missed before this connection, then recovered; without, just ok', async () => {
    for (const m of ['one', 'two', 'three']) await publish(srv.base, { topic: 'dup.t', message: m });
    const { s } = await v1(1, ['dup.t']); // joined from now: offset 3
    await publish(srv.base, { topic: 'dup.t', message: 'four' });
    const [four] = await s.takeJson(1);
    const epoch = four!.epoch;
    s.send({ type: 'subscribe', id: 2, topics: ['dup.t'], since: { 'dup.t': { offset: 1, epoch } } });
    // two and three were never written on this socket; four was, so it is not sent again.
    const again = await s.takeJson(4);
    assert.deepEqual(again.map((o) => [o.type, o.data ?? o.offset]), [['message', 'two'], ['message', 'three'], ['recovered', 4], ['ok', undefined]]);
    assert.equal(again[2]!.complete, true);
    s.send({ type: 'subscribe', id: 3, topics: ['dup.t'], since: { 'dup.t': { offset: 3, epoch } } });
    assert.deepEqual(await s.takeJson(2), [{ type: 'recovered', topic: 'dup.t', epoch, offset: 4, complete: true }, { type: 'ok', id: 3 }]);
    // Another epoch: this epoch's history up to where the connection started, and complete: false.
    s.send({ type: 'subscribe', id: 4, topics: ['dup.t'], since: { 'dup.t': { offset: 1, epoch: 'another-epoch' } } });
    const other = await s.takeJson(5);
    assert.deepEqual(other.slice(0, 3).map((o) => o.data), ['one', 'two', 'three']);
    assert.deepEqual(other.slice(3), [{ type: 'recovered', topic: 'dup.t', epoch, offset: 4, complete: false }, { type: 'ok', id: 4 }]);
    assert.deepEqual(await req(s, { type: 'subscribe', id: 5, topics: ['dup.t'] }), { type: 'ok', id: 5 });
    await publish(srv.base, { topic: 'dup.t', message: 'five' });
    const [n] = await s.takeJson(1);
    assert.equal(n!.data, 'five');
    await s.expectSilence(100);
  });

  test('unsubscribe: ok, then nothing more from that topic', async () => {
    const { s } = await v1(1, ['un.a', 'un.b']);
    assert.deepEqual(await req(s, { type: 'unsubscribe', id: 'u', topics: ['un.a', 'un.never'] }), { type: 'ok', id: 'u' });
    await publish(srv.base, { topic: 'un.a', message: 'gone' });
    await publish(srv.base, { topic: 'un.b', message: 'kept' });
    const [m] = await s.takeJson(1);
    assert.deepEqual([m!.topic, m!.data], ['un.b', 'kept']);
    await s.expectSilence(100);
  });

  test('topics replaces the list', async () => {
    const { s } = await v1(1, ['tp.a', 'tp.b']);
    assert.deepEqual(await req(s, { type: 'topics', id: 3, topics: ['tp.b', 'tp.c'] }), { type: 'ok', id: 3 });
    for (const t of ['tp.a', 'tp.b', 'tp.c']) await publish(srv.base, { topic: t, message: t });
    const got = await s.takeJson(2);
    assert.deepEqual(got.map((o) => o.topic), ['tp.b', 'tp.c']);
    await s.expectSilence(100);
  });

  test('ping -> pong echoing the id', async () => {
    const { s } = await v1(1);
    assert.deepEqual(await req(s, { type: 'ping', id: 'p1' }), { type: 'pong', id: 'p1' });
    assert.deepEqual(await req(s, { type: 'ping', id: 0 }), { type: 'pong', id: 0 });
    assert.deepEqual(await req(s, { type: 'ping' }), { type: 'pong' });
  });

  test('client publish to an allowed topic: ok {id, offset}, delivered to subscribers', async () => {
    const { s: sub } = await v1(2, ['chat.room']);
    const { s } = await v1(1);
    const reply = await req(s, { type: 'publish', id: 'pub', topic: 'chat.room', data: { text: 'hi' } });
    assert.equal(reply.type, 'ok');
    assert.equal(reply.id, 'pub');
    assert.equal(typeof reply.offset, 'number');
    const [m] = await sub.takeJson(1);
    assert.deepEqual([m!.topic, m!.data, m!.offset], ['chat.room', { text: 'hi' }, reply.offset]);
  });

  test('client publish to a topic not allowed: error forbidden, connection stays up', async () => {
    const { s: sub } = await v1(2, ['news']);
    const { s } = await v1(1);
    const e = await req(s, { type: 'publish', id: 9, topic: 'news', data: 1 });
    assert.equal(e.type, 'error');
    assert.equal(e.id, 9);
    assert.equal(e.code, 'forbidden');
    assert.ok(typeof e.message === 'string' && e.message.length > 0);
    for (const topic of ['chat', 'xchat.room', 'chat.']) {
      const r = await req(s, { type: 'publish', id: topic, topic, data: 1 });
      if (topic === 'chat.') assert.equal(r.type, 'ok', '"chat.*" matches "chat." (empty run)');
      else assert.deepEqual([r.type, r.code], ['error', 'forbidden'], topic);
    }
    assert.deepEqual(await req(s, { type: 'ping', id: 'alive' }), { type: 'pong', id: 'alive' });
    await sub.expectSilence(100);
  });

  test('bad requests get error {id?, code, message} and the connection stays up', async () => {
    const { s } = await v1(1);
    const cases: Array<[string | J, string, unknown]> = [
      ['not json', 'invalid_json', undefined],
      ['[1,2]', 'bad_request', undefined],
      [{ id: 1 }, 'bad_request', 1],
      [{ type: 'frobnicate', id: 'f' }, 'unknown_type', 'f'],
      [{ type: 'subscribe', id: 2 }, 'bad_request', 2],
      [{ type: 'subscribe', id: 3, topics: 'a' }, 'invalid_topic', 3],
      [{ type: 'subscribe', id: 4, topics: [''] }, 'invalid_topic', 4],
      [{ type: 'subscribe', id: 5, topics: ['x'.repeat(257)] }, 'invalid_topic', 5],
      [{ type: 'subscribe', id: 6, topics: [1] }, 'invalid_topic', 6],
      [{ type: 'subscribe', id: 7, topics: ['a'], since: { a: { offset: -1, epoch: 'e' } } }, 'bad_request', 7],
      [{ type: 'unsubscribe', id: 8, topics: null }, 'invalid_topic', 8],
      [{ type: 'topics', id: 9, topics: {} }, 'invalid_topic', 9],
      [{ type: 'publish', id: 10, data: 1 }, 'bad_request', 10],
      [{ type: 'publish', id: 11, topic: '', data: 1 }, 'invalid_topic', 11],
      [{ type: 'ping', id: { nested: true } }, 'bad_request', undefined],
    ];
    for (const [body, code, id] of cases) {
      const e = await req(s, body as J);
      assert.equal(e.type, 'error', `${JSON.stringify(body)} -> ${JSON.stringify(e)}`);
      assert.equal(e.code, code, JSON.stringify(body));
      assert.equal(e.id, id, JSON.stringify(body));
      assert.ok(typeof e.message === 'string' && e.message.length > 0);
    }
    s.send(Buffer.from([1, 2, 3]));
    const b = (await s.takeJson(1))[0]!;
    assert.deepEqual([b.type, b.code], ['error', 'bad_request']);
    assert.deepEqual(await req(s, { type: 'ping', id: 'still' }), { type: 'pong', id: 'still' });
    assert.equal(s.ws.readyState, s.ws.OPEN);
  });

  test('too many topics: error too_many_topics, nothing joined', async () => {
    const srv2 = await startHerald({ maxTopics: 3 });
    const reg = await register(srv2.base, 1, ['a']);
    const s = await TestSocket.open(reg.url, 'herald.v1');
    try {
      await s.takeJson(1);
      const e = await req(s, { type: 'subscribe', id: 1, topics: ['b', 'c', 'd'] });
      assert.deepEqual([e.type, e.id, e.code], ['error', 1, 'too_many_topics']);
      await publish(srv2.base, { topic: 'b', message: 'no' });
      await publish(srv2.base, { topic: 'a', message: 'yes' });
      const [m] = await s.takeJson(1);
      assert.equal(m!.data, 'yes');
    } finally {
      await s.closeAndWait();
      await srv2.close();
    }
  });

  test('user-addressed messages reach only that user', async () => {
    const { s: a } = await v1(100, ['ua']);
    const { s: a2 } = await v1(100, ['ua']);
    const { s: b } = await v1(200, ['ua']);
    await publish(srv.base, { topic: 'ua', user_id: 100, message: 'for 100' });
    await publish(srv.base, { topic: 'ua', message: 'for all' });
    const [x1, x2] = await a.takeJson(2);
    const [y1, y2] = await a2.takeJson(2);
    const [z1] = await b.takeJson(1);
    assert.deepEqual([x1!.data, x2!.data], ['for 100', 'for all']);
    assert.deepEqual([y1!.data, y2!.data], ['for 100', 'for all']);
    assert.equal(z1!.data, 'for all');
    assert.equal(z1!.offset, x2!.offset);
  });

  test('several requests pipelined: one reply each, in order', async () => {
    const { s } = await v1(1);
    s.send({ type: 'subscribe', id: 1, topics: ['pl.a'] });
    s.send({ type: 'ping', id: 2 });
    s.send({ type: 'unsubscribe', id: 3, topics: ['pl.a'] });
    s.send({ type: 'subscribe', id: 4, topics: ['pl.b'] });
    const got = await s.takeJson(4);
    assert.deepEqual(new Set(got.map((o) => `${String(o.type)}:${String(o.id)}`)), new Set(['ok:1', 'pong:2', 'ok:3', 'ok:4']));
    assert.deepEqual(got.filter((o) => o.type === 'ok').map((o) => o.id), [1, 3, 4]);
    await publish(srv.base, { topic: 'pl.a', message: 'a' });
    await publish(srv.base, { topic: 'pl.b', message: 'b' });
    const [m] = await s.takeJson(1);
    assert.equal(m!.topic, 'pl.b');
  });
});

describe('herald.v1: asking again for a held topic is bounded', () => {
  test('a replay larger than HERALD_MAX_BUFFERED_BYTES is not sent: recovered says complete: false', async () => {
    const srv = await startHerald({ maxBufferedBytes: 4096 });
    try {
      for (let i = 0; i < 10; i++) await publish(srv.base, { topic: 'big.t', message: 'x'.repeat(1000) });
      const { s } = await openV1(srv, 1, ['big.t']); // joined from now: offset 10
      s.send({ type: 'subscribe', id: 'again', topics: ['big.t'], since: { 'big.t': { offset: 0, epoch: 'any' } } });
      const got = await s.takeJson(2);
      assert.equal(got[0]!.type, 'recovered');
      assert.equal(got[0]!.complete, false);
      assert.deepEqual(got[1], { type: 'ok', id: 'again' });
      assert.equal(s.ws.readyState, s.ws.OPEN);
      await s.closeAndWait();
    } finally {
      await srv.close();
    }
  });
});
