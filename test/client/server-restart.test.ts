// A stream survives the server restarting and crashing (Redis engine: registrations and
// history live in Redis): the client reconnects to the new process and misses nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeraldClient } from '../../client/index.js';
import { publish, register } from '../helpers/http.js';
import { startRedis } from '../helpers/redis.js';
import { spawnHerald } from '../helpers/server.js';
import { waitFor } from './events.js';
import { startProxy, viaProxy } from './tcp-proxy.js';
import type { RedisServer } from '../helpers/redis.js';
import type { HeraldProcess } from '../helpers/server.js';
import type { TcpProxy } from './tcp-proxy.js';

let redis: RedisServer;
let herald: HeraldProcess | undefined;
let proxy: TcpProxy;

const start = (): Promise<HeraldProcess> => spawnHerald(['--redis-url', redis.url], { HERALD_LOG_LEVEL: 'warn' });

before(async () => {
  redis = await startRedis();
  herald = await start();
  proxy = await startProxy(herald.port);
});
after(async () => {
  await proxy?.close();
  await herald?.stop('SIGKILL');
  await redis?.destroy();
});

test('a stream survives a graceful restart (1001) and a crash (SIGKILL) with nothing lost or repeated', async () => {
  const total = 150;
  const reg = await register((herald as HeraldProcess).base, 'restart-user', ['reg']);
  const client = new HeraldClient(viaProxy(reg.url, proxy), { backoff: { minMs: 20, maxMs: 200 } });
  const got: Record<string, number[]> = { reg: [], sub: [] };
  client.on('message', (m) => got[m.topic]?.push(m.data as number));
  const closes: number[] = [];
  client.on('state', (s) => {
    if (s.state === 'disconnected') closes.push(s.code ?? 0);
  });
  await client.connect();
  await client.subscribe('sub').ready();

  const all = waitFor('every message on both topics', 30_000, (done) =>
    client.on('message', () => {
      if (got.reg?.length === total && got.sub?.length === total) done(undefined);
    }),
  );
  const restarts: Record<number, 'SIGTERM' | 'SIGKILL'> = { 50: 'SIGTERM', 100: 'SIGKILL' };
  for (let i = 1; i <= total; i++) {
    const base = (herald as HeraldProcess).base;
    await Promise.all([publish(base, { topic: 'reg', data: i }), publish(base, { topic: 'sub', data: i })]);
    const signal = restarts[i];
    if (signal) {
      // Stop right after publishing: some of these messages are still in flight.
      await herald?.stop(signal);
      herald = await start();
      proxy.target = herald.port;
    }
  }
  await all.catch((err: Error) => {
    throw new Error(`${err.message}: got reg ${got.reg?.length}, sub ${got.sub?.length}; closes ${closes.join(',')}`);
  });
  const expected = Array.from({ length: total }, (_, i) => i + 1);
  assert.deepEqual(got.reg, expected);
  assert.deepEqual(got.sub, expected);
  assert.ok(closes.includes(1001), `a graceful stop closes with 1001, saw ${closes.join(',')}`);
  assert.ok(closes.length >= 2, `expected a disconnect per restart, saw ${closes.join(',')}`);
  await client.close();
});
