// createHerald mounted into someone else's server under a prefix: a plain node:http server and
// a Fastify app, each keeping its own routes, with real clients registering, connecting and
// receiving through the prefix.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import { WebSocket } from 'ws';
import { HeraldClient, type HeraldMessage } from '../../client/index.js';
import { createHerald, HeraldError } from '../../src/index.js';
import { request } from '../helpers/http.js';
import type { AddressInfo } from 'node:net';

/** The next `n` messages of a client, or an error after `timeoutMs`. */
function nextMessages(client: HeraldClient, n: number, timeoutMs = 5000): Promise<HeraldMessage[]> {
  return new Promise((resolve, reject) => {
    const got: HeraldMessage[] = [];
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${n} messages within ${timeoutMs} ms`)), timeoutMs);
    client.on('message', (m) => {
      got.push(m);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

test('attached to a node:http server under /realtime: register, connect and receive there; the server keeps its other paths', async () => {
  const herald = await createHerald({ logLevel: 'silent' });
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('the host app'));
  herald.attach(server, { prefix: '/realtime' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.equal(await (await fetch(`${base}/`)).text(), 'the host app');
    assert.equal(await (await fetch(`${base}/health`)).text(), 'the host app', 'outside the prefix, the host answers');
    assert.equal(await (await fetch(`${base}/realtimeX/health`)).text(), 'the host app');
    assert.equal((await request(base, 'GET', '/realtime/health')).body.status, 'ok');

    const reg = await request<{ url: string; id: string }>(base, 'POST', '/realtime/register', { user_id: 1, topics: ['news'] });
    assert.equal(reg.status, 200);
    assert.equal(reg.body.url, `ws://127.0.0.1:${(server.address() as AddressInfo).port}/realtime/ws/${reg.body.id}`);

    const client = new HeraldClient(reg.body.url);
    const received = nextMessages(client, 2);
    await client.connect();
    const direct = await herald.publish('news', { from: 'the same process' });
    assert.equal(direct.offset, 1);
    const viaHttp = await request(base, 'POST', '/realtime/publish', { topic: 'news', message: 'over HTTP' });
    assert.equal(viaHttp.status, 200);
    assert.deepEqual((await received).map((m) => [m.offset, m.data]), [[1, { from: 'the same process' }], [2, 'over HTTP']]);
    // A backend registers its clients in-process: same answer as POST /register, URL through the prefix.
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const own = await herald.register({ user_id: 2, topics: ['news'] }, { host });
    assert.equal(own.url, `ws://${host}/realtime/ws/${own.id}`);
    assert.deepEqual([own.topics, own.grants], [['news'], []]);
    const second = new HeraldClient(own.url);
    await second.connect();
    await second.close();
    assert.equal((await herald.register({ user_id: 3 }, { host: 'chat.example.com', secure: true })).url.replace(/[0-9a-f]{32}$/, 'ID'), 'wss://chat.example.com/realtime/ws/ID');
    await assert.rejects(herald.register({ user_id: -1 }, { host }), (err: unknown) => err instanceof HeraldError && err.code === 'invalid_body');
    // Herald's errors stay Herald's under the prefix.
    assert.deepEqual((await request(base, 'POST', '/realtime/register', { topics: ['x'] })).status, 400);
    await client.close();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await herald.close();
  }
});

test('mounted into a Fastify app with register(herald.plugin, { prefix }): the app keeps parsing its own JSON routes', async () => {
  const herald = await createHerald({ logLevel: 'silent', clientPublish: ['chat.*'] });
  const app = Fastify();
  app.post<{ Body: { n: number } }>('/echo', async (req) => ({ twice: req.body.n * 2 }));
  await app.register(herald.plugin, { prefix: '/rt' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  try {
    assert.deepEqual((await request(base, 'POST', '/echo', { n: 21 })).body, { twice: 42 });
    const reg = await request<{ url: string; id: string }>(base, 'POST', '/rt/register', { user_id: 'ann', topics: ['chat.lobby'] });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    assert.equal(reg.body.url, `ws://127.0.0.1:${port}/rt/ws/${reg.body.id}`);
    const client = new HeraldClient(reg.body.url);
    const received = nextMessages(client, 2);
    await client.connect();
    assert.deepEqual(await client.publish('chat.lobby', 'from the client'), { offset: 1 });
    assert.equal((await request(base, 'POST', '/rt/publish', { topic: 'chat.lobby', data: [1, 2] })).status, 200);
    assert.deepEqual((await received).map((m) => m.data), ['from the client', [1, 2]]);
    assert.equal((await request(base, 'GET', '/rt/openapi.json')).status, 200);
    await client.close();
  } finally {
    // Closing the app closes Herald with it (sockets 1001, engine).
    await app.close();
  }
  assert.equal(herald.relay.hub.size, 0);
});

test('attached to a server with no handler of its own: other paths and upgrades get 404, not silence', async () => {
  const herald = await createHerald({ logLevel: 'silent' });
  const server = createServer();
  herald.attach(server, { prefix: '/realtime' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
    const ws = new WebSocket(`${base.replace('http', 'ws')}/elsewhere/ws/x`);
    const outcome = await new Promise<string>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
      ws.on('error', (err) => resolve(err.message));
      ws.on('open', () => resolve('open'));
    });
    assert.equal(outcome, 'HTTP 404');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await herald.close();
  }
});

test('a Fastify app that already takes upgrades with @fastify/websocket is refused with the way out', async () => {
  const herald = await createHerald({ logLevel: 'silent' });
  const app = Fastify();
  await app.register(websocket);
  try {
    await assert.rejects(async () => {
      await app.register(herald.plugin, { prefix: '/rt' });
      await app.ready();
    }, /cannot share a Fastify app with @fastify\/websocket.*attach\(\)/);
  } finally {
    await app.close().catch(() => undefined);
    await herald.close();
  }
});

test('listen() runs it on its own port', async () => {
  const herald = await createHerald({ logLevel: 'silent' });
  try {
    const address = await herald.listen({ port: 0, host: '127.0.0.1' });
    assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal((await request(address, 'GET', '/health')).body.status, 'ok');
  } finally {
    await herald.close();
  }
});
