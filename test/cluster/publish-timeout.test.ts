import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { register, request } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

describe('redis engine: slow Redis', () => {
  let redis: RedisServer;
  let srv: TestServer;
  before(async () => {
    redis = await startRedis();
    srv = await startHerald({ redisUrl: redis.url });
  });
  after(async () => {
    await srv?.close();
    await redis?.destroy();
  });

  test('is a 503, not a local delivery that Redis then delivers again', async () => {
    const reg = await register(srv.base, 1, ['slow']);
    const s = await TestSocket.open(reg.url);
    // Wait until the topic is live for the socket.
    for (let i = 0; ; i++) {
      await request(srv.base, 'POST', '/publish', { topic: 'slow', message: `probe-${i}` });
      if ((await s.take(1, 200).catch(() => [])).length > 0) break;
      assert.ok(i < 50, 'topic never became live');
    }
    s.frames.length = 0;
    // Redis holds writes past the command timeout (2 s), then runs the publish anyway.
    execFileSync('redis-cli', ['-p', String(new URL(redis.url).port), 'CLIENT', 'PAUSE', '2600', 'WRITE']);
    const r = await request(srv.base, 'POST', '/publish', { topic: 'slow', message: 'once' });
    assert.equal(r.status, 503);
    assert.equal(r.body.error, 'engine_unavailable');
    await request(srv.base, 'POST', '/publish', { topic: 'slow', message: 'marker' });
    const seen: string[] = [];
    while (!seen.includes('marker')) seen.push((await s.next(8000)).data);
    assert.equal(seen.filter((d) => d === 'once').length, 1, `got ${JSON.stringify(seen)}`);
    await s.closeAndWait();
  });

  test('a plain client that drops while its reconnect is still joining keeps its cursor', async () => {
    const reg = await register(srv.base, 2, ['keep']);
    let s = await TestSocket.open(reg.url);
    for (let i = 0; ; i++) {
      await request(srv.base, 'POST', '/publish', { topic: 'keep', message: `probe-${i}` });
      if ((await s.take(1, 200).catch(() => [])).length > 0) break;
      assert.ok(i < 50, 'topic never became live');
    }
    await s.closeAndWait();
    for (const m of ['m4', 'm5']) await request(srv.base, 'POST', '/publish', { topic: 'keep', message: m });
    // Reconnect while Redis is paused, and drop before the join can complete.
    execFileSync('redis-cli', ['-p', String(new URL(redis.url).port), 'CLIENT', 'PAUSE', '400', 'ALL']);
    s = await TestSocket.open(reg.url);
    s.ws.terminate();
    await s.closed;
    // The aborted connection must not have erased where the client stood.
    const until = Date.now() + 5000;
    while (srv.herald.relay.hub.get(reg.id) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const third = await TestSocket.open(reg.url);
    const got = (await third.take(2, 5000)).map((f) => f.data);
    assert.deepEqual(got, ['m4', 'm5']);
    await third.closeAndWait();
  });
});
