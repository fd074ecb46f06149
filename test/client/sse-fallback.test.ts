// The SDK falls back to Server-Sent Events when WebSockets are refused (a proxy that answers
// upgrades with 502), receives and recovers there, and refuses publish with a clear error.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { HeraldClient, HeraldError } from '../../client/index.js';
import { publish, register } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/** An HTTP proxy that passes plain requests (streamed) and refuses every WebSocket upgrade. */
interface NoWsProxy {
  port: number;
  upgradesRefused: number;
  cut(): void;
  close(): Promise<void>;
}

async function startNoWsProxy(target: number): Promise<NoWsProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    // One upstream connection per request, closed with its client's (as a proxy cut would).
    const up = httpRequest({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers, agent: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const proxy: NoWsProxy = {
    port: 0,
    upgradesRefused: 0,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise((resolve) => {
      proxy.cut();
      server.close(() => resolve());
    }),
  };
  server.on('upgrade', (_req, socket: Socket) => {
    proxy.upgradesRefused++;
    socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  return proxy;
}

let herald: TestServer;
let proxy: NoWsProxy;
before(async () => {
  herald = await startHerald();
  proxy = await startNoWsProxy(herald.port);
});
after(async () => {
  await proxy.close();
  await herald.close();
});

test("transports: ['websocket', 'sse'] receives over SSE when WebSockets are refused, and recovers across a cut", async () => {
  const reg = await register(herald.base, 'fallback-user', ['reg']);
  const url = reg.url.replace(`:${herald.port}/`, `:${proxy.port}/`);
  const client = new HeraldClient(url, { transports: ['websocket', 'sse'], backoff: { minMs: 10, maxMs: 50 } });
  const got: string[] = [];
  client.on('message', (m) => got.push(`${m.topic}:${String(m.data)}`));
  try {
    const welcome = await client.connect();
    assert.equal(client.transport, 'sse');
    assert.ok(proxy.upgradesRefused >= 1);
    assert.deepEqual(welcome.topics, ['reg']);
    // A topic subscribed now joins the stream (it is reopened with both, from where it stood).
    await client.subscribe('extra').ready();
    await waitFor('both topics live', () => ['reg', 'extra'].every((t) => herald.herald.relay.hub.get(reg.id)?.links.get(t)?.live === true), 5000);
    await publish(herald.base, { topic: 'reg', message: 'r1' });
    await publish(herald.base, { topic: 'extra', message: 'e1' });
    await waitFor('two messages', () => got.length === 2, 5000);
    await assert.rejects(client.publish('reg', { no: 'way' }), (err: unknown) => err instanceof HeraldError && err.code === 'websocket_required');
    // Cut the stream; publish while the client is away: it resumes with its last event id.
    proxy.cut();
    await publish(herald.base, { topic: 'reg', message: 'r2' });
    await publish(herald.base, { topic: 'extra', message: 'e2' });
    await waitFor('the missed messages', () => got.length === 4, 10_000);
    await publish(herald.base, { topic: 'reg', message: 'r3' });
    await waitFor('a live one after', () => got.length === 5, 5000);
    assert.deepEqual(got, ['reg:r1', 'extra:e1', 'reg:r2', 'extra:e2', 'reg:r3'].sort((a, b) => got.indexOf(a) - got.indexOf(b)));
    assert.deepEqual(got.filter((g) => g.startsWith('reg:')), ['reg:r1', 'reg:r2', 'reg:r3']);
    assert.deepEqual(got.filter((g) => g.startsWith('extra:')), ['extra:e1', 'extra:e2']);
  } finally {
    await client.close();
  }
});

test('the default (WebSocket only) keeps retrying through the refusing proxy and never uses SSE', async () => {
  const reg = await register(herald.base, 'ws-only', ['reg']);
  const url = reg.url.replace(`:${herald.port}/`, `:${proxy.port}/`);
  const client = new HeraldClient(url, { backoff: { minMs: 10, maxMs: 20 } });
  const before = proxy.upgradesRefused;
  void client.connect();
  try {
    await waitFor('three refused upgrades', () => proxy.upgradesRefused >= before + 3, 5000);
    assert.equal(client.transport, 'websocket');
    assert.notEqual(client.state, 'connected');
    assert.equal(herald.herald.relay.hub.get(reg.id), undefined);
  } finally {
    await client.close();
  }
});

test("an SSE client that is unregistered stops for good (event: close 4001)", async () => {
  const reg = await register(herald.base, 'gone', ['reg']);
  const client = new HeraldClient(reg.url, { transports: ['sse'] });
  try {
    await client.connect();
    assert.equal(client.transport, 'sse');
    const closed = new Promise<number | undefined>((resolve) => client.on('state', (s) => s.state === 'closed' && resolve(s.code)));
    const r = await fetch(`${herald.base}/register/${reg.id}`, { method: 'DELETE' });
    assert.equal(r.status, 200);
    assert.equal(await closed, 4001);
  } finally {
    await client.close();
  }
});
