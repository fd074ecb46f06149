import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { WebSocketTransport } from '../../../src/core/websocket-transport.js';

/** A real ws server and client; the server side's socket is wrapped as Herald wraps it. */
async function pair(server: WebSocketServer): Promise<{ served: WebSocket; client: WebSocket }> {
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
  const [[served]] = await Promise.all([accepted, once(client, 'open')]);
  return { served, client };
}

function withTimeout<T>(what: string, p: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

describe('WebSocketTransport: the socket\'s listener table', () => {
  let server: WebSocketServer;
  before(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
  });
  after(async () => {
    for (const c of server.clients) c.terminate();
    await new Promise((r) => server.close(r));
  });

  test('listeners added before and after it work as before: on, once, off, counts, emit', async () => {
    const { served, client } = await pair(server);
    const early: string[] = [];
    const onError = (): void => undefined;
    served.on('error', onError);
    served.on('message', (d) => early.push(`early ${String(d)}`));
    new WebSocketTransport(served);
    const events = (served as unknown as { _events: object })._events;
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(events)), null, 'no Object.prototype in the chain');
    assert.equal(served.listenerCount('error'), 1);
    assert.equal(served.listenerCount('message'), 1);
    assert.equal(served.listenerCount('pong'), 0);
    // An event named like an Object method finds no listener.
    assert.equal(served.emit('toString'), false);
    assert.equal(served.emit('constructor'), false);

    const late: string[] = [];
    const onLate = (d: unknown): void => {
      late.push(`late ${String(d)}`);
    };
    served.on('message', onLate);
    served.once('message', (d) => late.push(`once ${String(d)}`));
    const pong = once(served, 'pong');
    client.send('one');
    await withTimeout('the first message', new Promise<void>((r) => served.once('message', () => setImmediate(r))));
    served.ping();
    await withTimeout('a pong', pong);
    served.off('message', onLate);
    client.send('two');
    await withTimeout('the second message', once(served, 'message'));
    assert.deepEqual(early, ['early one', 'early two']);
    assert.deepEqual(late, ['late one', 'once one']);
    assert.equal(served.listenerCount('message'), 1);
    served.off('error', onError);
    assert.equal(served.listenerCount('error'), 0);

    const closed = once(served, 'close');
    client.close(1000, 'bye');
    const [code] = (await withTimeout('close', closed)) as [number];
    assert.equal(code, 1000);
  });

  test('the session of a socket is found from the socket, and close reaches it once', async () => {
    const { served, client } = await pair(server);
    const t = new WebSocketTransport(served);
    let closes = 0;
    const session = { onClosed: () => closes++ } as unknown as Parameters<WebSocketTransport['attach']>[0];
    t.attach(session);
    assert.equal(WebSocketTransport.sessionOf(served), session);
    const closed = once(served, 'close');
    client.close();
    await withTimeout('close', closed);
    assert.equal(closes, 1);
  });
});
