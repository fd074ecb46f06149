// A server that answers a connection attempt with 503 (overloaded, or at HERALD_MAX_CONNECTIONS)
// is busy, not gone: the client backs off and tries again, never gives up, never falls back to
// SSE for it, and waits at least the server's Retry-After where it can read it (Node).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { HeraldClient } from '../../client/index.js';
import type { StateChange } from '../../client/index.js';
import { publish, register } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { waitFor, waitForState } from './events.js';

describe('a real Herald at HERALD_MAX_CONNECTIONS (503 too_many_connections)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ maxConnections: 1 });
  });
  after(() => srv.close());

  test('the client retries through 503s and connects once a slot frees, then receives', async () => {
    const [first, second] = await Promise.all([register(srv.base, 'holder', ['o']), register(srv.base, 'waiter', ['o'])]);
    const holder = new HeraldClient(first.url);
    await holder.connect();
    const waiter = new HeraldClient(second.url, { backoff: { minMs: 20, maxMs: 100 }, transports: ['websocket', 'sse'] });
    const refusals: StateChange[] = [];
    waiter.on('state', (s) => {
      if (s.state === 'disconnected') refusals.push(s);
    });
    void waiter.connect();
    await waitFor('two refused attempts', 5000, (done) =>
      waiter.on('state', () => {
        if (refusals.length >= 2) done(undefined);
      }),
    );
    for (const r of refusals) {
      assert.equal(r.status, 503, `refused with ${r.status}: ${r.reason}`);
      assert.match(r.reason ?? '', /503/);
    }
    assert.equal(waiter.transport, 'websocket', 'a busy server is no reason to fall back to SSE');
    assert.notEqual(waiter.state, 'closed');
    const connected = waitForState(waiter, 'connected', 5000);
    await holder.close();
    await connected;
    const got = waitFor<unknown>('a message after the slot freed', 5000, (done) => waiter.on('message', (m) => done(m.data)));
    await publish(srv.base, { topic: 'o', data: 'through' });
    assert.equal(await got, 'through');
    await waiter.close();
  });
});

describe('an overloaded server answering 503 with Retry-After', () => {
  let http: Server;
  let base: string;
  const seen: string[] = [];
  before(async () => {
    http = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2' });
      res.end('{"error":"overloaded","message":"try later"}');
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    base = `127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    http.closeAllConnections();
    http.close();
  });

  test('a WebSocket attempt waits at least Retry-After (plus its jitter), whatever its own backoff says', async () => {
    const client = new HeraldClient(`ws://${base}/ws/abc`, { backoff: { minMs: 10, maxMs: 50 }, transports: ['websocket', 'sse'] });
    const refused = waitForState(client, 'disconnected');
    void client.connect();
    const change = await refused;
    assert.equal(change.status, 503);
    assert.ok(change.retryInMs !== undefined && change.retryInMs >= 2000 && change.retryInMs <= 2050, `retry in ${change.retryInMs} ms`);
    assert.equal(client.transport, 'websocket');
    assert.ok(seen.some((u) => u.startsWith('/ws/abc')), 'the upgrade reached the server');
    await client.close();
    assert.equal(client.state, 'closed');
  });

  test('an SSE stream refused with 503 waits at least Retry-After too', async () => {
    const client = new HeraldClient(`ws://${base}/ws/def`, { backoff: { minMs: 10, maxMs: 50 }, transports: ['sse'] });
    const refused = waitForState(client, 'disconnected');
    void client.connect();
    const change = await refused;
    assert.equal(change.status, 503);
    assert.ok(change.retryInMs !== undefined && change.retryInMs >= 2000 && change.retryInMs <= 2050, `retry in ${change.retryInMs} ms`);
    assert.ok(seen.some((u) => u.startsWith('/sse/def')), 'the stream request reached the server');
    await client.close();
  });
});

describe('a server that finishes a handshake the client gave up on', () => {
  test('the late handshake replacing the newer connection (4000) is retried, not taken as final', async () => {
    const { startFakeServer, welcome } = await import('./fake-server.js');
    const server = await startFakeServer();
    try {
      const client = new HeraldClient(server.url, { backoff: { minMs: 10, maxMs: 20 }, connectTimeoutMs: 300 });
      void client.connect();
      // The first attempt gets no welcome in time: the client gives up on it (the server was busy).
      await server.nextConnection();
      const second = await server.nextConnection();
      second.send(welcome());
      await waitForState(client, 'connected');
      // The server now finishes the first handshake after all, which replaces the second connection.
      const replaced = waitForState(client, 'disconnected');
      second.socket.close(4000, 'replaced by a newer connection');
      const change = await replaced;
      assert.equal(change.code, 4000);
      const third = await server.nextConnection();
      third.send(welcome());
      await waitForState(client, 'connected');
      // A second 4000 with no attempt left to blame is another client taking over: final.
      const closed = waitForState(client, 'closed');
      third.socket.close(4000, 'replaced by a newer connection');
      assert.equal((await closed).code, 4000);
      assert.equal(client.closeInfo?.code, 4000);
    } finally {
      await server.close();
    }
  });
});
