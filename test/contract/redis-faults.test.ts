// The redis engine when Redis misbehaves: killed and restarted empty, or a connection cut.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Engine, EngineStatus } from '../../src/engines/engine.js';
import type { EngineLog } from '../../src/engines/redis/broker-redis.js';
import { HeraldError } from '../../src/errors.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { contractConfig, Inbox, waitFor } from './engine-contract.js';
import { redisNode } from './redis-factory.js';

/** Collects log lines so tests can check what an operator would read. */
function recordingLog(lines: string[]): EngineLog {
  const record = (a: unknown, b?: unknown): void => {
    lines.push(typeof a === 'string' ? a : String(b ?? ''));
  };
  return { debug: () => {}, info: record, warn: record, error: record } as unknown as EngineLog;
}

const isUnavailable = (err: unknown): boolean => err instanceof HeraldError && err.code === 'engine_unavailable';

describe('redis engine faults', () => {
  let redis: RedisServer;
  let engines: Engine[] = [];
  const node = async (log?: EngineLog, registrationTtlMs = 60_000): Promise<Engine> => {
    const e = await redisNode(redis.url, false, { ...contractConfig, registrationTtlMs, historyTtlMs: 60_000, nodeId: `n${engines.length}` }, 'faults', log);
    engines.push(e);
    return e;
  };

  before(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(engines.map((e) => e.close()));
    engines = [];
  });
  after(async () => {
    await redis?.destroy();
  });

  it('rides out a Redis restart: down, fast failures, up, reset, resubscribed, delivering again', async () => {
    const lines: string[] = [];
    const [a, b] = [await node(), await node(recordingLog(lines))];
    const statuses: EngineStatus['type'][] = [];
    b.onStatus((s) => statuses.push(s.type));
    const inB = new Inbox(b);
    await b.broker.subscribe('t');
    await b.broker.subscribe('u');
    const first = await a.broker.publish({ topic: 't', kind: 'text', body: 'before' });
    await inB.wait('t', 1);

    await redis.stop();
    await waitFor('both nodes to notice Redis is gone', () => !a.healthy() && !b.healthy(), 5_000);
    const t0 = Date.now();
    await assert.rejects(a.broker.publish({ topic: 't', kind: 'text', body: 'lost' }), isUnavailable);
    await assert.rejects(a.registry.get('x'), isUnavailable);
    await assert.rejects(a.history.position('t'), isUnavailable);
    assert.ok(Date.now() - t0 < 500, `calls fail fast while Redis is down (took ${Date.now() - t0} ms)`);
    await b.broker.subscribe('v'); // a client joining meanwhile does not fail or hang

    await redis.start();
    await waitFor('both nodes to be healthy again', () => a.healthy() && b.healthy(), 10_000);
    await waitFor('the reset status', () => statuses.includes('reset'), 3_000);
    assert.deepEqual(statuses, ['down', 'up', 'reset']);
    assert.ok(lines.some((l) => l === 'redis reconnected; resubscribed 3 topics'), `log says it resubscribed: ${JSON.stringify(lines)}`);

    const next = await a.broker.publish({ topic: 't', kind: 'text', body: 'after' });
    assert.equal(next.offset, 1, 'an empty Redis starts the topic again');
    assert.notEqual(next.epoch, first.epoch, 'under a new epoch, so clients know history was lost');
    await a.broker.publish({ topic: 'v', kind: 'text', body: 'joined while down' });
    assert.deepEqual((await inB.wait('t', 2)).map((m) => m.body), ['before', 'after']);
    assert.deepEqual((await inB.wait('v', 1)).map((m) => m.body), ['joined while down']);
  });

  it('fills from history what a node missed while its subscriber connection was cut', async () => {
    const [a, b] = [await node(), await node()];
    const inB = new Inbox(b);
    await b.broker.subscribe('gap');
    await a.broker.publish({ topic: 'gap', kind: 'text', body: 'm0' });
    await inB.wait('gap', 1);
    const admin = new Redis(redis.url);
    try {
      // Cut every subscriber connection; publishes go on from node A meanwhile.
      await admin.client('KILL', 'TYPE', 'pubsub');
      for (let i = 1; i <= 4; i++) await a.broker.publish({ topic: 'gap', kind: 'text', body: `m${i}` });
    } finally {
      admin.disconnect();
    }
    const got = await inB.wait('gap', 5, 5_000);
    assert.deepEqual(got.map((m) => m.offset), [1, 2, 3, 4, 5]);
  });

  it('notices a flushed Redis while connected and reports a reset', async () => {
    const e = await node();
    const statuses: EngineStatus['type'][] = [];
    e.onStatus((s) => statuses.push(s.type));
    const admin = new Redis(redis.url);
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    await waitFor('the reset status', () => statuses.includes('reset'), 3_000);
    assert.equal(e.healthy(), true);
  });

  it('expires the registrations of a node that died with their sockets open, one TTL later', async () => {
    const [a, b] = [await node(undefined, 300), await node(undefined, 300)];
    const reg = { id: randomBytes(16).toString('hex'), userId: 1, topics: [], grants: [], cursors: {}, createdAt: Date.now() };
    await a.registry.create(reg, { perUser: 10, total: 1_000_000 });
    await b.registry.markConnected(reg.id);
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(await a.registry.get(reg.id), 'alive while B holds it');
    await b.close(); // B "crashes": it never says disconnected, and stops renewing
    engines = engines.filter((e) => e !== b);
    await waitFor('the orphaned registration to expire', async () => (await a.registry.get(reg.id)) === undefined, 3_000);
  });

  it('ignores a late disconnect from a node whose socket moved to another node', async () => {
    const [a, b] = [await node(undefined, 300), await node(undefined, 300)];
    const reg = { id: randomBytes(16).toString('hex'), userId: 2, topics: [], grants: [], cursors: {}, createdAt: Date.now() };
    await a.registry.create(reg, { perUser: 10, total: 1_000_000 });
    await a.registry.markConnected(reg.id);
    await b.registry.markConnected(reg.id); // the client reconnected through B
    await a.registry.markDisconnected(reg.id); // A notices its old socket died, too late
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(await a.registry.get(reg.id), 'the socket on B keeps it alive');
    await b.registry.markDisconnected(reg.id);
    await waitFor('the registration to expire', async () => (await a.registry.get(reg.id)) === undefined, 3_000);
  });

  it('writes presence back after Redis came back empty, without the members that left meanwhile', async () => {
    const [a, b] = [await node(), await node()];
    a.presence.add('p', 'u1');
    a.presence.add('p', 'u2');
    b.presence.add('p', 'u3');
    await Promise.all([a.presence.flushed(), b.presence.flushed()]);
    await redis.stop();
    await waitFor('both nodes to notice Redis is gone', () => !a.healthy() && !b.healthy(), 5_000);
    a.presence.remove('p', 'u2'); // left while Redis was away
    await redis.start();
    await waitFor('the members written back', async () => {
      const p = await b.presence.get('p', true).catch(() => undefined);
      return JSON.stringify(p?.members?.map((m) => m.user).sort()) === '["u1","u3"]';
    }, 10_000);
    assert.deepEqual(await a.presence.get('p', false), { clients: 2, users: 2 });
  });

  it('drops members that left while Redis was unreachable but kept its data', async () => {
    const [a, b] = [await node(), await node()];
    a.presence.add('q', 'u1');
    a.presence.add('q', 'u2');
    await a.presence.flushed();
    const admin = new Redis(redis.url);
    try {
      // Cut A's command connection: its next write fails, and is retried whole.
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    } finally {
      admin.disconnect();
    }
    a.presence.remove('q', 'u2');
    await waitFor('the leave written', async () => {
      const p = await b.presence.get('q', true).catch(() => undefined);
      return JSON.stringify(p?.members?.map((m) => m.user)) === '["u1"]';
    }, 10_000);
  });

  it('fails fast with engine_unavailable when Redis is not there at start', async () => {
    const e = await import('../../src/engines/redis/engine-redis.js').then((m) =>
      m.createRedisEngine({ ...contractConfig, nodeId: 'x', redisUrl: 'redis://127.0.0.1:1', redisCluster: false }, undefined, { prefix: `${randomBytes(4).toString('hex')}:` }),
    );
    engines.push(e);
    const t0 = Date.now();
    await assert.rejects(e.broker.publish({ topic: 't', kind: 'text', body: 'x' }), isUnavailable);
    assert.ok(Date.now() - t0 < 4_000);
    assert.equal(e.healthy(), false);
  });
});
