// What bounds Redis memory (docs/operations.md, "Memory"): capped streams, TTLs on every key,
// and `maxmemory` with `maxmemory-policy volatile-ttl`. Under that policy a flood of large
// publishes to fresh topics keeps Redis under its limit by dropping history (the keys that
// expire soonest), never registrations, and publishes keep succeeding; a client whose topic's
// history was evicted recovers with complete:false.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { publish, register } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

describe('Redis under maxmemory volatile-ttl', () => {
  let redis: RedisServer;
  let admin: Redis;
  let srv: TestServer;
  const maxmemory = 8 * 1024 * 1024;
  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    srv = await startHerald({ redisUrl: redis.url });
    // Set after Herald's own keys exist, on top of what an empty Redis already uses.
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory', String(used + maxmemory));
    await admin.config('SET', 'maxmemory-policy', 'volatile-ttl');
  });
  after(async () => {
    await srv?.close();
    admin?.disconnect();
    await redis?.destroy();
  });

  it('a 24 MB flood of 60 KB publishes to fresh topics: every publish succeeds, memory stays bounded, registrations survive, evicted history recovers complete:false', async () => {
    const reg = await register(srv.base, 'keeper', ['flood.0']);
    const first = await publish(srv.base, { topic: 'flood.0', message: 'first' });
    const epoch = (await srv.herald.engine.history.position('flood.0')).epoch;
    const big = 'x'.repeat(60 * 1024);
    for (let i = 1; i <= 400; i++) await publish(srv.base, { topic: `flood.${i}`, message: big });
    const info = await admin.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)![1]);
    const limit = Number(/maxmemory:(\d+)/.exec(info)![1]);
    assert.ok(used <= limit * 1.05, `used_memory ${used} > maxmemory ${limit}`);
    const stats = await admin.info('stats');
    assert.ok(Number(/evicted_keys:(\d+)/.exec(stats)![1]) > 0, 'Redis evicted history to stay under maxmemory');
    // The registration (the longest TTL) is still there: the client connects and learns its
    // topic's history is gone.
    const ws = await TestSocket.open(`${reg.url}?since=${encodeURIComponent(JSON.stringify({ 'flood.0': { offset: first.offset, epoch } }))}`, 'herald.v1');
    const recovered = await ws.waitJson((o) => o['type'] === 'recovered', 5000);
    assert.equal(recovered['topic'], 'flood.0');
    assert.equal(recovered['complete'], false);
    await ws.closeAndWait();
  });
});
