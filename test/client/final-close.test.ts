// Final close codes against a real server: the client stops and says why, and never comes back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeraldClient, HeraldError } from '../../client/index.js';
import { register, request } from '../helpers/http.js';
import { startHerald } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';
import { waitForState } from './events.js';
import type { SocketFactory } from '../../client/index.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startHerald();
});
after(() => server.close());

const backoff = { minMs: 10, maxMs: 20 };

// Counts connection attempts, so a test can tell that no reconnect happened.
async function countingFactory(): Promise<{ factory: SocketFactory; attempts: () => number }> {
  const { WebSocket } = await import('ws');
  let n = 0;
  return {
    factory: (url, protocols) => {
      n++;
      return new WebSocket(url, protocols) as unknown as ReturnType<SocketFactory>;
    },
    attempts: () => n,
  };
}

test('DELETE /register/:id closes the client for good with 4001', async () => {
  const reg = await register(server.base, 'final-1', ['a']);
  const { factory, attempts } = await countingFactory();
  const client = new HeraldClient(reg.url, { backoff, socketFactory: factory });
  await client.connect();
  const sub = client.subscribe('b');
  await sub.ready();
  const iterator = sub[Symbol.asyncIterator]();
  const closed = waitForState(client, 'closed');
  assert.equal((await request(server.base, 'DELETE', `/register/${reg.id}`)).status, 200);
  const change = await closed;
  assert.equal(change.code, 4001);
  assert.equal(client.closeInfo?.code, 4001);
  await assert.rejects(iterator.next(), (err: unknown) => err instanceof HeraldError && err.code === 'unregistered');
  // With 10-20 ms backoff, a reconnect would have been tried many times over in 300 ms.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(attempts(), 1);
  assert.equal(client.state, 'closed');
});

test('a newer connection to the same URL closes the client for good with 4000, and it does not fight back', async () => {
  const reg = await register(server.base, 'final-2');
  const { factory, attempts } = await countingFactory();
  const client = new HeraldClient(reg.url, { backoff, socketFactory: factory });
  await client.connect();
  const closed = waitForState(client, 'closed');
  const newer = new TestSocket(reg.url, 'herald.v1');
  await newer.opened;
  const change = await closed;
  assert.equal(change.code, 4000);
  assert.match(change.reason ?? '', /replaced/);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(attempts(), 1);
  // Had the client reconnected, the newer socket would have been replaced in turn.
  assert.equal(newer.ws.readyState, newer.ws.OPEN);
  newer.ws.close();
  await newer.closed;
});

test('an unknown registration id is final in Node (the server answers 404 before the upgrade)', async () => {
  const reg = await register(server.base, 'final-3');
  await request(server.base, 'DELETE', `/register/${reg.id}`);
  const client = new HeraldClient(reg.url, { backoff });
  const closed = waitForState(client, 'closed');
  await assert.rejects(client.connect(), (err: unknown) => err instanceof HeraldError && err.code === 'unknown_registration');
  assert.match((await closed).reason ?? '', /404/);
});
