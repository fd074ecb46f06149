// SSE on the Redis engine: a stream read on one node resumes exactly on another with its
// Last-Event-ID, and follows PATCH /register made through a third party (the other node).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publish, register, request } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { SseReader } from '../helpers/sse-client.js';
import { startNodes, stopNodes, type Node } from './nodes.js';

/** Publishes probes on `topic` through `via` until the stream has one: it is then live there. */
async function untilLive(r: SseReader, via: string, topic: string): Promise<number> {
  for (let i = 0; ; i++) {
    if (i > 100) throw new Error(`no probe of ${topic} arrived`);
    await publish(via, { topic, message: `probe-${topic}-${i}` });
    const ok = await r.waitFor('a probe', () => r.messages().some((m) => m['topic'] === topic), 100).then(() => true, () => false);
    if (ok) return r.messageCount;
  }
}

describe('SSE across nodes (Redis engine)', () => {
  let redis: RedisServer;
  let nodes: Node[] = [];
  before(async () => {
    redis = await startRedis();
    nodes = await startNodes(2, redis.url);
  });
  after(async () => {
    await stopNodes(nodes);
    await redis?.destroy();
  });

  it('resumes on another node exactly after the Last-Event-ID', async () => {
    const [a, b] = nodes as [Node, Node];
    const reg = await register(a.base, 'roamer', ['r1', 'r2']);
    const first = await SseReader.open(`${a.base}/sse/${reg.id}`);
    await untilLive(first, b.base, 'r1');
    await untilLive(first, b.base, 'r2');
    await publish(b.base, { topic: 'r1', message: 'seen' });
    await first.waitFor('seen', () => first.messages().some((m) => m['data'] === 'seen'));
    const token = first.lastEventId!;
    first.close();
    await publish(a.base, { topic: 'r2', message: 'missed-r2' });
    await publish(b.base, { topic: 'r1', message: 'missed-r1' });
    const second = await SseReader.open(`${b.base}/sse/${reg.id}`, { 'last-event-id': token });
    try {
      await second.waitMessages(2);
      assert.deepEqual(second.messages().map((m) => m['data']).sort(), ['missed-r1', 'missed-r2']);
      assert.deepEqual(second.events.filter((e) => e.event === 'recovered'), []);
      // PATCH through node A: the stream on node B joins r3 at once.
      assert.equal((await request(a.base, 'PATCH', `/register/${reg.id}`, { topics: ['r1', 'r3'] })).status, 200);
      const before = second.messageCount;
      await untilLive(second, a.base, 'r3');
      assert.ok(second.messageCount > before);
    } finally {
      second.close();
    }
  });
});
