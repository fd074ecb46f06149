// A Redis subscription that silently stops delivering while commands still work: the node
// notices within seconds, says so on /health (503), resubscribes and fills the gap from history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publish, register } from '../helpers/http.js';
import { startRedis } from '../helpers/redis.js';
import { startRedisProxy } from '../helpers/redis-proxy.js';
import { startHerald, topicsLive } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { TestSocket } from '../helpers/ws-client.js';

test('a deaf subscription: /health 503 within seconds, then resubscribed, and no message lost', async () => {
  const redis = await startRedis();
  const proxy = await startRedisProxy(redis.port);
  const srv = await startHerald({ redisUrl: proxy.url });
  try {
    await waitFor('healthy', async () => (await fetch(`${srv.base}/health`)).status === 200, 10_000);
    const reg = await register(srv.base, 1, ['deaf.t']);
    const s = await TestSocket.open(reg.url);
    await topicsLive(srv, reg.id, ['deaf.t']);
    await publish(srv.base, { topic: 'deaf.t', message: 'm1' });
    assert.equal((await s.next()).data, 'm1');

    assert.ok(proxy.deafenSubscribers() >= 1, 'the subscriber connection went through the proxy');
    const deafAt = Date.now();
    for (let i = 2; i <= 6; i++) await publish(srv.base, { topic: 'deaf.t', message: `m${i}` });
    await waitFor('/health to say 503', async () => (await fetch(`${srv.base}/health`)).status === 503, 10_000);
    const noticedMs = Date.now() - deafAt;
    const frames = await s.take(5, 15_000);
    assert.deepEqual(frames.map((f) => f.data), ['m2', 'm3', 'm4', 'm5', 'm6']);
    await waitFor('/health to say 200 again', async () => (await fetch(`${srv.base}/health`)).status === 200, 10_000);
    await publish(srv.base, { topic: 'deaf.t', message: 'm7' });
    assert.equal((await s.next(5_000)).data, 'm7');
    assert.ok(noticedMs < 8_000, `noticed after ${noticedMs} ms`);
    await s.closeAndWait();
  } finally {
    await srv.close();
    await proxy.close();
    await redis.destroy();
  }
});
