// Presence over real sockets: counts and members, join/leave per user, plain clients untouched.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { HeraldClient } from '../../client/index.js';
import type { PresenceChange } from '../../client/index.js';
import { publish, register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { SocketPool, type TestSocket } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';

type J = Record<string, unknown>;

describe('presence', () => {
  let srv: TestServer;
  const pool = new SocketPool();

  /** A herald.v1 socket whose registration topics are joined (and its presence written). */
  const v1 = async (user: number | string, topics: string[]): Promise<TestSocket> => {
    const reg = await register(srv.base, user, topics);
    const s = await pool.open(reg.url, 'herald.v1');
    await s.takeJson(1); // welcome
    s.send({ type: 'subscribe', id: 'sync', topics: [] });
    await s.waitJson((o) => o['id'] === 'sync');
    return s;
  };
  const plain = async (user: number | string, topics: string[]): Promise<{ s: TestSocket; id: string }> => {
    const reg = await register(srv.base, user, topics);
    const s = await pool.open(reg.url);
    await waitFor('the plain socket to hold its topics', () => topics.every((t) => srv.herald.relay.hub.get(reg.id)?.links.get(t)?.live === true));
    await srv.herald.engine.presence.flushed();
    return { s, id: reg.id };
  };
  /** The next JSON objects of a v1 socket up to (and with) the message `marker`, published now. */
  const upTo = async (s: TestSocket, topic: string, marker: string): Promise<J[]> => {
    await publish(srv.base, { topic, message: marker });
    const got: J[] = [];
    for (;;) {
      const [o] = await s.takeJson(1);
      got.push(o!);
      if (o!['type'] === 'message' && o!['data'] === marker) return got;
    }
  };
  const short = (objs: J[]): string[] => objs.map((o) => (o['type'] === 'message' ? `msg ${String(o['data'])}` : `${String(o['type'])} ${JSON.stringify(o['user'])}`));

  before(async () => {
    srv = await startHerald({ presenceTopics: ['room.*'] });
  });
  afterEach(async () => {
    await pool.closeAll();
  });
  after(async () => {
    await srv.close();
  });

  test('GET /presence: counts and members per user across protocols; members=false; no registration id', async () => {
    const a1 = await plain('alice', ['room.1']);
    await plain('alice', ['room.1']);
    await v1(7, ['room.1', 'lobby']);
    const r = await request(srv.base, 'GET', '/presence/room.1');
    assert.equal(r.status, 200);
    const members = (r.body['members'] as Array<{ user: unknown }>).sort((x, y) => String(x.user).localeCompare(String(y.user)));
    assert.deepEqual({ ...r.body, members }, { topic: 'room.1', clients: 3, users: 2, members: [{ user: 7, clients: 1 }, { user: 'alice', clients: 2 }] });
    assert.ok(!JSON.stringify(r.body).includes(a1.id), 'registration ids are credentials: never in presence');
    const counts = await request(srv.base, 'GET', '/presence/room.1?members=false');
    assert.deepEqual(counts.body, { topic: 'room.1', clients: 3, users: 2 });
    const empty = await request(srv.base, 'GET', '/presence/room.none');
    assert.deepEqual(empty.body, { topic: 'room.none', clients: 0, users: 0, members: [] });
  });

  test('a topic without presence: 400 presence_disabled; a bad query: 400', async () => {
    const r = await request(srv.base, 'GET', '/presence/lobby');
    assert.equal(r.status, 400);
    assert.equal(r.body['error'], 'presence_disabled');
    assert.match(String(r.body['message']), /HERALD_PRESENCE_TOPICS/);
    assert.equal((await request(srv.base, 'GET', '/presence/room.1?members=maybe')).status, 400);
  });

  test('herald.v1: join on a user\'s first client, nothing for the second, leave when the last one goes', async () => {
    const w = await v1('watcher', ['room.j']);
    // Its own join may come before or after its subscription's ok: skipped here.
    assert.deepEqual(short(await upTo(w, 'room.j', 'start')).filter((x) => x !== 'join "watcher"'), ['msg start']);
    const a1 = await v1('alice', ['room.j']);
    assert.deepEqual(short(await upTo(w, 'room.j', 'm1')), ['join "alice"', 'msg m1']);
    const a2 = await v1('alice', ['room.j']);
    assert.deepEqual(short(await upTo(w, 'room.j', 'm2')), ['msg m2'], 'a second client of a user is no join');
    await a1.closeAndWait();
    await waitFor('the first socket gone', async () => (await request<J>(srv.base, 'GET', '/presence/room.j?members=false')).body['clients'] === 2);
    assert.deepEqual(short(await upTo(w, 'room.j', 'm3')), ['msg m3'], 'one client of the user left: no leave');
    a2.send({ type: 'unsubscribe', id: 'u', topics: ['room.j'] });
    await a2.waitJson((o) => o['id'] === 'u');
    assert.deepEqual(short(await upTo(w, 'room.j', 'm4')), ['leave "alice"', 'msg m4']);
  });

  test('join/leave come in order with the topic\'s messages', async () => {
    const w = await v1('w2', ['room.o']);
    await upTo(w, 'room.o', 'ready');
    await publish(srv.base, { topic: 'room.o', message: 'before' });
    const b = await v1('bob', ['room.o']);
    await publish(srv.base, { topic: 'room.o', message: 'between' });
    await b.closeAndWait();
    await waitFor('bob gone', async () => (await request<J>(srv.base, 'GET', '/presence/room.o?members=false')).body['users'] === 1);
    assert.deepEqual(short(await upTo(w, 'room.o', 'after')), ['msg before', 'join "bob"', 'msg between', 'leave "bob"', 'msg after']);
  });

  test('plain clients never get join/leave frames', async () => {
    const { s } = await plain('p', ['room.p']);
    await v1('someone', ['room.p']);
    const other = await v1('other', ['room.p']);
    await other.closeAndWait();
    await waitFor('other gone', async () => (await request<J>(srv.base, 'GET', '/presence/room.p?members=false')).body['clients'] === 2);
    await publish(srv.base, { topic: 'room.p', message: 'only this' });
    const f = await s.next();
    assert.equal(f.data, 'only this');
    await s.expectSilence(100);
  });

  test('herald.v1 presence request: the same body with type and id; presence_disabled and invalid topics', async () => {
    const s = await v1(3, ['room.q']);
    await v1('x', ['room.q']);
    s.send({ type: 'presence', id: 9, topic: 'room.q' });
    const r = await s.waitJson((o) => o['id'] === 9);
    const members = (r['members'] as Array<{ user: unknown }>).sort((x, y) => String(x.user).localeCompare(String(y.user)));
    assert.deepEqual({ ...r, members }, { type: 'presence', id: 9, topic: 'room.q', clients: 2, users: 2, members: [{ user: 3, clients: 1 }, { user: 'x', clients: 1 }] });
    s.send({ type: 'presence', id: 'a', topic: 'lobby' });
    const off = await s.waitJson((o) => o['id'] === 'a');
    assert.equal(off['type'], 'error');
    assert.equal(off['code'], 'presence_disabled');
    s.send({ type: 'presence', id: 'b', topic: '' });
    assert.equal((await s.waitJson((o) => o['id'] === 'b'))['code'], 'invalid_topic');
    s.send({ type: 'presence', id: 'c' });
    assert.equal((await s.waitJson((o) => o['id'] === 'c'))['code'], 'bad_request');
    // Asked right after a subscribe, presence shows the subscriber.
    s.send({ type: 'subscribe', topics: ['room.r'] });
    s.send({ type: 'presence', id: 'd', topic: 'room.r' });
    const mine = await s.waitJson((o) => o['id'] === 'd');
    assert.deepEqual(mine['members'], [{ user: 3, clients: 1 }]);
  });

  test('the SDK: presence() and join/leave events, and no error for these frames', async () => {
    const reg = await register(srv.base, 'sdk', []);
    const client = new HeraldClient(reg.url);
    const seen: string[] = [];
    const errors: string[] = [];
    const note = (kind: string) => (e: PresenceChange): void => void seen.push(`${kind} ${e.topic} ${String(e.user)}`);
    client.on('join', note('join'));
    client.on('leave', note('leave'));
    client.on('error', (e) => errors.push(e.message));
    try {
      await client.connect();
      const room = client.subscribe('room.sdk');
      await room.ready();
      const other = await v1(5, ['room.sdk']);
      const p = await client.presence('room.sdk');
      assert.deepEqual({ ...p, members: [...p.members].sort((x, y) => String(x.user).localeCompare(String(y.user))) }, { topic: 'room.sdk', clients: 2, users: 2, members: [{ user: 5, clients: 1 }, { user: 'sdk', clients: 1 }] });
      await other.closeAndWait();
      await waitFor('the join and leave of user 5', () => seen.includes('join room.sdk 5') && seen.includes('leave room.sdk 5'));
      await assert.rejects(client.presence('lobby'), (err: unknown) => (err as { code?: string }).code === 'presence_disabled');
      assert.deepEqual(errors, []);
    } finally {
      await client.close();
    }
  });

  test('herald.v1 presence needs read access to the topic', async () => {
    const closed = await startHerald({ presenceTopics: ['room.*'], publicTopics: ['room.open'] });
    try {
      const reg = await register(closed.base, 'reader', ['room.given']);
      const s = await pool.open(reg.url, 'herald.v1');
      for (const [id, topic, want] of [[1, 'room.open', 'presence'], [2, 'room.given', 'presence'], [3, 'room.secret', 'error']] as const) {
        s.send({ type: 'presence', id, topic });
        const r = await s.waitJson((o) => o['id'] === id);
        assert.equal(r['type'], want, `${topic}: ${JSON.stringify(r)}`);
        if (want === 'error') assert.equal(r['code'], 'forbidden');
      }
    } finally {
      await pool.closeAll();
      await closed.close();
    }
  });

  test('needs the API key when one is set', async () => {
    const keyed = await startHerald({ presenceTopics: ['room.*'], apiKey: 'k' });
    try {
      assert.equal((await request(keyed.base, 'GET', '/presence/room.1')).status, 401);
      const ok = await request(keyed.base, 'GET', '/presence/room.1', undefined, { authorization: 'Bearer k' });
      assert.equal(ok.status, 200);
    } finally {
      await keyed.close();
    }
  });
});
