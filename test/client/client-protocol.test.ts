// The client against a scripted server: batching, dedupe, replies, close codes, resubscribe.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeraldClient, HeraldError } from '../../client/index.js';
import { waitFor, waitForState } from './events.js';
import { startFakeServer, welcome } from './fake-server.js';
import type { HeraldMessage } from '../../client/index.js';
import type { FakeServer } from './fake-server.js';

let server: FakeServer;
before(async () => {
  server = await startFakeServer();
});
after(() => server.close());

const fast = { backoff: { minMs: 20, maxMs: 50 }, requestTimeoutMs: 1000 };
const msg = (topic: string, offset: number, data: unknown = offset, epoch = 'e1'): object => ({ type: 'message', topic, data, offset, epoch, ts: 1 });

test('connects with herald.v1, reads batched frames, drops repeats by offset', async () => {
  const client = new HeraldClient(server.url, fast);
  const accepted = server.nextConnection();
  const connected = client.connect();
  const conn = await accepted;
  conn.send(welcome(['a']));
  const w = await connected;
  assert.deepEqual(w, { client: 'c1', user: 7, topics: ['a'], heartbeatMs: 25_000 });
  assert.equal(conn.socket.protocol, 'herald.v1');

  const seen: HeraldMessage[] = [];
  client.on('message', (m) => seen.push(m));
  const third = waitFor('offset 3', 2000, (done) => client.on('message', (m) => m.offset === 3 && done(m)));
  conn.send(msg('a', 1), msg('a', 2, { x: 1 }), msg('a', 2), msg('a', 1));
  conn.send(msg('a', 3, 'three'), { type: 'message', topic: 'a', binary: Buffer.from([1, 2]).toString('base64'), offset: 3, epoch: 'e1', ts: 1 });
  await third;
  conn.send({ type: 'message', topic: 'a', binary: Buffer.from([1, 2]).toString('base64'), offset: 4, epoch: 'e1', ts: 5 });
  await waitFor('offset 4', 2000, (done) => client.on('message', (m) => m.offset === 4 && done(m)));
  assert.deepEqual(seen.map((m) => [m.offset, m.data]), [[1, 1], [2, { x: 1 }], [3, 'three'], [4, undefined]]);
  assert.deepEqual(seen[3]?.binary, Uint8Array.from([1, 2]));
  assert.deepEqual(client.position('a'), { offset: 4, epoch: 'e1' });
  await client.close();
  assert.equal(client.state, 'closed');
});

test('publish resolves with the offset, rejects with the server error, times out without a reply', async () => {
  const client = new HeraldClient(server.url, { ...fast, requestTimeoutMs: 300 });
  const accepted = server.nextConnection();
  void client.connect();
  const conn = await accepted;
  conn.send(welcome());
  await waitForState(client, 'connected');

  const ok = client.publish('chat.x', { hi: 1 });
  const req = await conn.nextRequest('publish');
  assert.deepEqual({ ...req, id: undefined }, { type: 'publish', topic: 'chat.x', data: { hi: 1 }, id: undefined });
  conn.send({ type: 'ok', id: req.id, offset: 9 });
  assert.deepEqual(await ok, { offset: 9 });

  const refused = client.publish('news', 'x');
  const req2 = await conn.nextRequest('publish');
  conn.send({ type: 'error', id: req2.id, code: 'forbidden', message: 'client publishing is off for news' });
  await assert.rejects(refused, (err: unknown) => err instanceof HeraldError && err.code === 'forbidden' && /news/.test(err.message));

  await assert.rejects(client.publish('chat.x', 1), (err: unknown) => err instanceof HeraldError && err.code === 'timeout');
  await client.close();
});

test('a server error that answers no request is an error event; the connection stays up', async () => {
  const client = new HeraldClient(server.url, fast);
  const accepted = server.nextConnection();
  void client.connect();
  const conn = await accepted;
  conn.send(welcome());
  await waitForState(client, 'connected');
  const error = waitFor<HeraldError>('error event', 2000, (done) => client.on('error', done));
  conn.send({ type: 'error', code: 'rate_limited', message: 'slow down' });
  assert.equal((await error).code, 'rate_limited');
  assert.equal(client.state, 'connected');
  await client.close();
});

test('after a drop it reconnects and resubscribes with since; the iterator sees each message once', async () => {
  const client = new HeraldClient(server.url, fast);
  let accepted = server.nextConnection();
  void client.connect();
  let conn = await accepted;
  conn.send(welcome());
  const sub = client.subscribe('t');
  const iterator = sub[Symbol.asyncIterator]();
  const first = await conn.nextRequest('subscribe');
  assert.deepEqual(first.topics, ['t']);
  assert.equal(first.since, undefined);
  conn.send({ type: 'ok', id: first.id });
  await sub.ready();
  conn.send(msg('t', 1), msg('t', 2));

  assert.equal((await iterator.next()).value?.offset, 1);
  assert.equal((await iterator.next()).value?.offset, 2);

  const states: string[] = [];
  client.on('state', (s) => states.push(s.state));
  accepted = server.nextConnection();
  conn.socket.close(1001, 'restarting');
  conn = await accepted;
  conn.send(welcome());
  const again = await conn.nextRequest('subscribe');
  assert.deepEqual(again.since, { t: { offset: 2, epoch: 'e1' } });
  // The replay overlaps what the client has: only offset 3 is new.
  conn.send(msg('t', 2), msg('t', 3), { type: 'recovered', topic: 't', epoch: 'e1', offset: 3, complete: true }, { type: 'ok', id: again.id });
  conn.send(msg('t', 3), msg('t', 4));
  assert.equal((await iterator.next()).value?.offset, 3);
  assert.equal((await iterator.next()).value?.offset, 4);
  assert.deepEqual(states, ['disconnected', 'connecting', 'connected']);
  await client.close();
  assert.deepEqual(await iterator.next(), { value: undefined, done: true });
});

test('after a reconnect the client resumes from its own positions (?since=), not the server cursor', async () => {
  const client = new HeraldClient(server.url, fast);
  let accepted = server.nextConnection();
  void client.connect();
  let conn = await accepted;
  assert.equal(new URL(conn.url, 'ws://x').searchParams.get('since'), null, 'nothing to resume on the first connection');
  conn.send(welcome(['r']), msg('r', 1), msg('r', 2));
  await waitFor('offset 2', 2000, (done) => client.on('message', (m) => m.offset === 2 && done(m)));
  const seen: number[] = [];
  client.on('message', (m) => seen.push(m.offset));

  accepted = server.nextConnection();
  conn.socket.terminate();
  conn = await accepted;
  // Offsets 3 and 4 were written to the dead connection but never arrived: the client says so.
  assert.deepEqual(JSON.parse(new URL(conn.url, 'ws://x').searchParams.get('since') ?? 'null'), { r: { offset: 2, epoch: 'e1' } });
  conn.send(welcome(['r']), msg('r', 3), msg('r', 4), msg('r', 5), { type: 'recovered', topic: 'r', epoch: 'e1', offset: 5, complete: true });
  const join = await conn.nextRequest('subscribe');
  assert.deepEqual(join.topics, ['r']);
  conn.send({ type: 'ok', id: join.id }, msg('r', 5), msg('r', 6));
  await waitFor('offset 6', 2000, (done) => client.on('message', (m) => m.offset === 6 && done(m)));
  assert.deepEqual(seen, [3, 4, 5, 6], 'in order, once each');
  assert.equal(conn.requests.filter((r) => r.type === 'unsubscribe').length, 0, 'no leave-and-rejoin any more');
  await client.close();
});

for (const [code, errorCode] of [[4001, 'unregistered'], [4000, 'replaced']] as const) {
  test(`close code ${code} is final: state closed, no reconnect, iterators throw ${errorCode}`, async () => {
    const client = new HeraldClient(server.url, fast);
    const accepted = server.nextConnection();
    void client.connect();
    const conn = await accepted;
    conn.send(welcome());
    const sub = client.subscribe('t');
    const iterator = sub[Symbol.asyncIterator]();
    const closed = waitForState(client, 'closed');
    conn.socket.close(code, 'bye');
    const change = await closed;
    assert.equal(change.code, code);
    assert.equal(change.reason, 'bye');
    assert.deepEqual(client.closeInfo, { code, reason: 'bye' });
    await assert.rejects(iterator.next(), (err: unknown) => err instanceof HeraldError && err.code === errorCode);
    await assert.rejects(client.publish('x', 1), (err: unknown) => err instanceof HeraldError && err.code === errorCode);
    // No new connection comes within many backoff periods.
    await assert.rejects(server.nextConnection(300), /no connection/);
  });
}

test('a subscribe the server refuses ends only that subscription', async () => {
  const client = new HeraldClient(server.url, fast);
  const accepted = server.nextConnection();
  void client.connect();
  const conn = await accepted;
  const good = client.subscribe('good');
  const bad = client.subscribe('bad');
  conn.send(welcome());
  const both = await conn.nextRequest('subscribe');
  assert.deepEqual(both.topics, ['good', 'bad']);
  conn.send({ type: 'error', id: both.id, code: 'invalid_topic', message: 'no' });
  const one = await conn.nextRequest('subscribe');
  const two = await conn.nextRequest('subscribe');
  for (const r of [one, two]) {
    const [topic] = r.topics as string[];
    conn.send(topic === 'good' ? { type: 'ok', id: r.id } : { type: 'error', id: r.id, code: 'invalid_topic', message: 'bad topic' });
  }
  await good.ready();
  await assert.rejects(bad.ready(), (err: unknown) => err instanceof HeraldError && err.code === 'invalid_topic');
  assert.equal(bad.state, 'unsubscribed');
  assert.equal(good.state, 'subscribed');
  await client.close();
});

test('no welcome in time: the attempt is dropped and retried', async () => {
  const client = new HeraldClient(server.url, { ...fast, connectTimeoutMs: 200 });
  const accepted = server.nextConnection();
  const disconnected = waitForState(client, 'disconnected');
  void client.connect();
  await accepted;
  const retry = server.nextConnection();
  assert.match((await disconnected).reason ?? '', /no welcome/);
  (await retry).send(welcome());
  await waitForState(client, 'connected');
  await client.close();
});

test('bad URLs throw at construction', () => {
  assert.throws(() => new HeraldClient('http://x/ws/1'), TypeError);
});
