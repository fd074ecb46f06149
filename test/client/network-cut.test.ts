// A stream survives network cuts under the client: nothing lost, nothing repeated, in order.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeraldClient } from '../../client/index.js';
import { publish, register } from '../helpers/http.js';
import { startHerald } from '../helpers/server.js';
import { waitFor } from './events.js';
import { startProxy, viaProxy } from './tcp-proxy.js';
import type { TestServer } from '../helpers/server.js';
import type { TcpProxy } from './tcp-proxy.js';

let server: TestServer;
let proxy: TcpProxy;
before(async () => {
  server = await startHerald();
  proxy = await startProxy(server.port);
});
after(async () => {
  await proxy.close();
  await server.close();
});

test('a stream survives three network cuts with no message lost or duplicated', async () => {
  const total = 400;
  // 'reg' is joined by the server from the registration; 'sub' by the SDK's subscribe.
  const reg = await register(server.base, 'cut-user', ['reg']);
  const client = new HeraldClient(viaProxy(reg.url, proxy), { backoff: { minMs: 10, maxMs: 50 } });
  const got: Record<string, number[]> = { reg: [], sub: [] };
  client.on('message', (m) => got[m.topic]?.push(m.data as number));
  const disconnects: number[] = [];
  client.on('state', (s) => {
    if (s.state === 'disconnected') disconnects.push(s.code ?? 0);
  });
  await client.connect();
  await client.subscribe('sub').ready();

  // Cut while messages are in flight: after 1/4, 2/4 and 3/4 of them arrived.
  const cuts = [total / 4, total / 2, (3 * total) / 4];
  client.on('message', (m) => {
    if (m.topic === 'reg' && got.reg?.length === cuts[0]) {
      cuts.shift();
      proxy.cut();
    }
  });
  const all = waitFor('every message on both topics', 20_000, (done) =>
    client.on('message', () => {
      if (got.reg?.length === total && got.sub?.length === total) done(undefined);
    }),
  );
  for (let i = 1; i <= total; i++) {
    await Promise.all([publish(server.base, { topic: 'reg', data: i }), publish(server.base, { topic: 'sub', data: i })]);
  }
  await all.catch((err: Error) => {
    const missing = (xs: number[] = []): number[] => Array.from({ length: total }, (_, i) => i + 1).filter((i) => !xs.includes(i)).slice(0, 20);
    throw new Error(`${err.message}: reg missing ${missing(got.reg).join(',')}; sub missing ${missing(got.sub).join(',')}`);
  });
  const expected = Array.from({ length: total }, (_, i) => i + 1);
  assert.deepEqual(got.reg, expected);
  assert.deepEqual(got.sub, expected);
  assert.equal(disconnects.length, 3, `expected 3 disconnects, saw ${disconnects.join(',')}`);
  assert.equal(proxy.connections, 4);
  await client.close();
});
