// Issue 11 (low): a client's publish looked exactly like a backend's. herald.v1 messages
// published by a client now carry "from": {"user": U}, live and in recovery, on both engines;
// backend publishes carry none, and the plain protocol is unchanged (the payload only).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publish, register } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

async function v1(srv: TestServer, user: string | number, topics: string[]): Promise<{ s: TestSocket; id: string; url: string }> {
  const reg = await register(srv.base, user, topics);
  const s = await TestSocket.open(reg.url, 'herald.v1');
  await s.takeJson(1);
  await topicsLive(srv, reg.id, topics);
  return { s, id: reg.id, url: reg.url };
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`client publishes carry "from" (${engine})`, () => {
    let redis: RedisServer | undefined;
    let srv: TestServer;
    before(async () => {
      if (engine === 'redis') redis = await startRedis();
      srv = await startHerald({ clientPublish: ['chat.*'], ...(redis ? { redisUrl: redis.url } : {}) });
    });
    after(async () => {
      await srv.close();
      await redis?.destroy();
    });

    it('a v1 reader sees from.user on a client publish (live and recovered), none on a backend publish; a plain reader gets the payload only', async () => {
      const alice = await v1(srv, 'alice', []);
      const bob = await v1(srv, 42, ['chat.room']);
      const plainReg = await register(srv.base, 'plain', ['chat.room']);
      const plain = await TestSocket.open(plainReg.url);
      await topicsLive(srv, plainReg.id, ['chat.room']);
      alice.s.send({ type: 'publish', id: 1, topic: 'chat.room', data: { text: 'hi' } });
      assert.equal((await alice.s.takeJson(1))[0]!['type'], 'ok');
      await publish(srv.base, { topic: 'chat.room', data: { text: 'from the backend' } });
      const [fromClient, fromBackend] = await bob.s.takeJson(2);
      assert.deepEqual(fromClient!['from'], { user: 'alice' });
      assert.deepEqual(fromClient!['data'], { text: 'hi' });
      assert.equal('from' in fromBackend!, false);
      assert.deepEqual((await plain.take(2)).map((f) => f.data), ['{"text":"hi"}', '{"text":"from the backend"}']);
      // Recovery replays it with the same field.
      const late = await register(srv.base, 'late', ['chat.room']);
      const l = await TestSocket.open(`${late.url}?since=${encodeURIComponent(JSON.stringify({ 'chat.room': { offset: 0, epoch: '' } }))}`, 'herald.v1');
      const replayed = await l.waitJson((o) => o['type'] === 'message' && (o['data'] as { text: string }).text === 'hi');
      assert.deepEqual(replayed['from'], { user: 'alice' });
      for (const s of [alice.s, bob.s, plain, l]) await s.closeAndWait();
    });
  });
}
