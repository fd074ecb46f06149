import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, register, publish } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { TestSocket } from '../helpers/ws-client.js';

/**
 * Publishes markers on `topic` until every socket got one, then drops what they received:
 * the topic change is then in effect for all of them.
 */
async function settle(srv: TestServer, sockets: TestSocket | TestSocket[], topic: string): Promise<void> {
  const all = Array.isArray(sockets) ? sockets : [sockets];
  const marker = `settle-${Math.random()}`;
  for (let i = 0; i < 50; i++) {
    await publish(srv.base, { topic, message: marker });
    const got = await Promise.all(all.map((s) => s.take(1, 100).then(() => true, () => false)));
    if (got.every(Boolean)) {
      await publish(srv.base, { topic, message: `${marker}-end` });
      for (const s of all) {
        while ((await s.next()).data !== `${marker}-end`);
      }
      return;
    }
  }
  throw new Error(`topic ${topic} never became live`);
}

describe('plain protocol (the tutorial)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  test('the tutorial walk-through: register, connect, {"topics":["cats","dogs"]}, publish, unregister', async () => {
    const reg = await register(srv.base, 1);
    const s = await TestSocket.open(reg.url);
    s.send('{ "topics": ["cats", "dogs"] }');
    await settle(srv, s, 'dogs');
    await publish(srv.base, { user_id: 1, topic: 'cats', message: 'are awesome' });
    const [f] = await s.take(1);
    assert.equal(f!.data, 'are awesome');
    assert.equal(f!.binary, false);
    const del = await request(srv.base, 'DELETE', `/register/${reg.id}`);
    assert.equal(del.status, 200);
    assert.deepEqual(await s.closed, { code: 4001, reason: 'unregistered' });
  });

  test('default topic is cats; other topics are not delivered', async () => {
    const reg = await register(srv.base, 2);
    const s = await TestSocket.open(reg.url);
    await settle(srv, s, 'cats');
    await publish(srv.base, { topic: 'dogs', message: 'woof' });
    await publish(srv.base, { topic: 'cats', message: 'meow' });
    const [f] = await s.take(1);
    assert.equal(f!.data, 'meow');
    await s.closeAndWait();
  });

  test('{"topics": [...]} replaces the list', async () => {
    const reg = await register(srv.base, 3);
    const s = await TestSocket.open(reg.url);
    s.send({ topics: ['birds'] });
    await settle(srv, s, 'birds');
    await publish(srv.base, { topic: 'cats', message: 'not for me' });
    await publish(srv.base, { topic: 'birds', message: 'tweet' });
    assert.equal((await s.next()).data, 'tweet');
    await s.closeAndWait();
  });

  test('ping, ping\\n and garbage are ignored and the connection stays up', async () => {
    const reg = await register(srv.base, 4);
    const s = await TestSocket.open(reg.url);
    s.send('ping');
    s.send('ping\n');
    s.send('not json at all');
    s.send('{"something":"else"}');
    s.send('[1,2,3]');
    s.send({ topics: 'not-a-list' });
    s.send(Buffer.from([1, 2, 3]));
    await settle(srv, s, 'cats');
    await s.expectSilence(100);
    assert.equal(s.ws.readyState, s.ws.OPEN);
    await s.closeAndWait();
  });

  test('data is delivered as its JSON text, binary as a binary frame', async () => {
    const reg = await register(srv.base, 5, ['mixed']);
    const s = await TestSocket.open(reg.url);
    await settle(srv, s, 'mixed');
    await publish(srv.base, { topic: 'mixed', data: { a: [1, 'two'], b: null } });
    await publish(srv.base, { topic: 'mixed', binary: Buffer.from([0, 255, 10]).toString('base64') });
    const [json, bin] = await s.take(2);
    assert.equal(json!.data, '{"a":[1,"two"],"b":null}');
    assert.equal(json!.binary, false);
    assert.equal(bin!.binary, true);
    assert.deepEqual([...bin!.raw], [0, 255, 10]);
    await s.closeAndWait();
  });

  test('a user_id publish reaches only that user\'s clients, on all of them', async () => {
    const phone = await TestSocket.open((await register(srv.base, 10, ['u'])).url);
    const laptopReg = await register(srv.base, 10, ['u']);
    const laptop = await TestSocket.open(laptopReg.url);
    const other = await TestSocket.open((await register(srv.base, 11, ['u'])).url);
    await settle(srv, [phone, laptop, other], 'u');
    await publish(srv.base, { topic: 'u', user_id: 10, message: 'for ten' });
    await publish(srv.base, { topic: 'u', message: 'for all' });
    assert.deepEqual((await phone.take(2)).map((f) => f.data), ['for ten', 'for all']);
    assert.deepEqual((await laptop.take(2)).map((f) => f.data), ['for ten', 'for all']);
    assert.deepEqual((await other.take(1)).map((f) => f.data), ['for all']);
    await other.expectSilence(100);
    // Down to one connection again, the user is still reached (and only there).
    await laptop.closeAndWait();
    await waitFor('the laptop socket gone', () => srv.herald.relay.hub.get(laptopReg.id) === undefined);
    await publish(srv.base, { topic: 'u', user_id: 10, message: 'phone only' });
    assert.equal((await phone.next()).data, 'phone only');
    await other.expectSilence(100);
    for (const s of [phone, other]) await s.closeAndWait();
  });

  test('a string user id and the same number are one user', async () => {
    const s = await TestSocket.open((await register(srv.base, '12', ['sv'])).url);
    await settle(srv, s, 'sv');
    await publish(srv.base, { topic: 'sv', user_id: 12, message: 'hi' });
    assert.equal((await s.next()).data, 'hi');
    await s.closeAndWait();
  });

  test('messages of one topic arrive in publish order', async () => {
    const s = await TestSocket.open((await register(srv.base, 13, ['order'])).url);
    await settle(srv, s, 'order');
    const n = 300;
    // Concurrent requests: the offsets they were given are the publish order.
    const acks = await Promise.all(Array.from({ length: n }, (_, i) => publish(srv.base, { topic: 'order', message: String(i) })));
    const offsetOf = new Map(acks.map((a, i) => [String(i), a.offset]));
    const received = (await s.take(n, 10_000)).map((f) => offsetOf.get(f.data)!);
    assert.deepEqual(received, [...received].sort((a, b) => a - b));
    assert.equal(new Set(received).size, n);
    await s.closeAndWait();
  });

  test('a registration survives a disconnect and its URL reconnects with its topics', async () => {
    const reg = await register(srv.base, 14, ['keep']);
    const a = await TestSocket.open(reg.url);
    a.send({ topics: ['kept'] });
    await settle(srv, a, 'kept');
    await a.closeAndWait();
    const b = await TestSocket.open(reg.url);
    await settle(srv, b, 'kept');
    await publish(srv.base, { topic: 'keep', message: 'old topic' });
    await publish(srv.base, { topic: 'kept', message: 'new topic' });
    assert.equal((await b.next()).data, 'new topic');
    await b.closeAndWait();
  });

  test('a second connection of the same client replaces the first with 4000', async () => {
    const reg = await register(srv.base, 15, ['rep']);
    const first = await TestSocket.open(reg.url);
    await settle(srv, first, 'rep');
    const second = await TestSocket.open(reg.url);
    assert.equal((await first.closed).code, 4000);
    await settle(srv, second, 'rep');
    await second.closeAndWait();
  });

  test('GET /ws/:id for an unknown id is 404, a plain GET is 400', async () => {
    const unknown = new TestSocket(`ws://127.0.0.1:${srv.port}/ws/0123456789abcdef0123456789abcdef`);
    await assert.rejects(unknown.opened, /unexpected response 404/);
    const reg = await register(srv.base, 16);
    const plainGet = await request(srv.base, 'GET', `/ws/${reg.id}`);
    assert.equal(plainGet.status, 400);
    assert.equal(plainGet.body.error, 'not_websocket');
  });

  test('only unknown subprotocols offered: HTTP 400 listing the supported ones', async () => {
    const reg = await register(srv.base, 17);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const s = new TestSocket(reg.url, ['mqtt', 'chat.v9']);
      s.ws.once('unexpected-response', (_req, r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      s.opened.then(() => reject(new Error('upgraded')), () => {});
    });
    assert.equal(res.status, 400);
    const body = JSON.parse(res.body) as { error: string; message: string };
    assert.equal(body.error, 'unsupported_protocol');
    assert.match(body.message, /herald\.v1/);
  });

  test('herald.v1 among unknown protocols is chosen', async () => {
    const reg = await register(srv.base, 18);
    const s = await TestSocket.open(reg.url, ['mqtt', 'herald.v1']);
    assert.equal(s.ws.protocol, 'herald.v1');
    const [welcome] = await s.takeJson(1);
    assert.equal(welcome!.type, 'welcome');
    await s.closeAndWait();
  });
});
