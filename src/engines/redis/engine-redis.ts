import { randomBytes } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Engine } from '../engine.js';
import { RedisBroker, type EngineLog } from './broker-redis.js';
import { RedisClusterView } from './cluster-view-redis.js';
import { connect } from './connection.js';
import { RedisHealth } from './health-redis.js';
import { RedisHistory } from './history-redis.js';
import { RedisKeys } from './keys.js';
import { RedisLink } from './link.js';
import { RedisPresence } from './presence-redis.js';
import { RedisRegistry } from './registry-redis.js';
import { RedisWebhooks } from './webhooks-redis.js';

export type RedisEngineConfig = Pick<Config, 'redisUrl' | 'redisCluster' | 'registrationTtlMs' | 'historySize' | 'historyTtlMs' | 'nodeId'> & Partial<Pick<Config, 'presenceTtlMs' | 'webhookUrl' | 'webhookMaxPending'>>;

export interface RedisEngineOptions {
  /** Prepended to every key and channel; nodes of one deployment must agree (tests isolate by it). */
  prefix?: string;
  /** How often health is probed (ms). */
  probeIntervalMs?: number;
  /** How often the pub/sub subscription is proven alive (see RedisBroker). Default 1 000 ms. */
  subscriptionProbeMs?: number;
}

const silent: EngineLog = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } as unknown as EngineLog;

/**
 * The engine for many processes: registry, broker and history in Redis (or a Redis Cluster
 * with `redisCluster`). Connects at once and reconnects forever; until the first connect, or
 * while Redis is away, calls fail fast with engine_unavailable and healthy() is false.
 */
export function createRedisEngine(config: RedisEngineConfig, log: EngineLog = silent, options: RedisEngineOptions = {}): Engine {
  if (!config.redisUrl) throw new Error('createRedisEngine needs config.redisUrl (HERALD_REDIS_URL)');
  const keys = new RedisKeys(options.prefix);
  const name = `herald${config.nodeId ? `:${config.nodeId}` : ''}`;
  const base = { url: config.redisUrl, cluster: config.redisCluster };
  const link = new RedisLink(connect({ ...base, subscriber: false, name }), config.redisCluster);
  const sub = connect({ ...base, subscriber: true, name: `${name}:sub` });
  const registry = new RedisRegistry(link, keys, config.registrationTtlMs);
  const history = new RedisHistory(link, keys);
  const broker = new RedisBroker(link, sub, keys, {
    historySize: config.historySize,
    historyTtlMs: config.historyTtlMs,
    log,
    recover: (topic, since) => history.since(topic, since),
    ...(options.subscriptionProbeMs === undefined ? {} : { probeIntervalMs: options.subscriptionProbeMs }),
  });
  const ttlMs = config.presenceTtlMs ?? 30_000;
  // One name for this node's presence and cluster view shares: a dead node's topics (from the
  // cluster view) lead the webhook sweep to its presence shares.
  const node = randomBytes(6).toString('hex');
  // The delivering node is replaced within a third of the presence TTL (at most 10 s) of its death.
  const webhooksOn = config.webhookUrl !== undefined;
  const webhooks: RedisWebhooks = new RedisWebhooks(link, keys, { enabled: webhooksOn, maxPending: config.webhookMaxPending ?? 100_000, leaseMs: Math.max(300, Math.min(10_000, Math.floor(ttlMs / 3))), log, sweep: (n, topic): Promise<number> => presence.sweep(n, topic) });
  const presence: RedisPresence = new RedisPresence(link, keys, { ttlMs, log, node, forward: webhooksOn ? (notices) => webhooks.add(notices) : undefined });
  broker.onPresence((e) => presence.receive(e));
  const cluster = new RedisClusterView(link, keys, { ttlMs, log, node });
  const health = new RedisHealth(link, broker, keys, log, options.probeIntervalMs);
  // Redis came back empty: this node's members are written back (renewal would find them gone
  // within a third of the TTL anyway; this is at once).
  health.onStatus((s) => {
    if (s.type === 'reset') presence.reset();
    else if (s.type === 'up') void presence.renew();
  });
  return {
    name: 'redis',
    registry,
    broker,
    history,
    presence,
    cluster,
    webhooks,
    healthy: () => health.healthy(),
    onStatus: (handler) => health.onStatus(handler),
    async close() {
      health.close();
      await presence.close();
      await cluster.close();
      await webhooks.close();
      await registry.close();
      await broker.close();
      try {
        await link.client.quit();
      } catch {
        link.client.disconnect();
      }
    },
  };
}
