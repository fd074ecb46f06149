import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A standalone connection or a Cluster client: the commands Herald uses exist on both. */
export type RedisClient = Redis | Cluster;

export interface ConnectOptions {
  url: string;
  cluster: boolean;
  /** A subscriber connection: no command timeout (it blocks in subscribe mode). */
  subscriber: boolean;
  name: string;
}

// Reconnect forever with capped exponential backoff: Redis being away is an outage to ride
// out, never a reason to exit.
const backoff = (times: number): number => Math.min(50 * 2 ** Math.min(times, 10), 2_000);

function baseOptions(url: URL, o: ConnectOptions): RedisOptions {
  return {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    connectionName: o.name,
    connectTimeout: 2_000,
    // Commands fail as soon as the connection drops instead of being retried after a
    // reconnect: a publish must reject quickly (and never run twice), not queue forever.
    maxRetriesPerRequest: 0,
    ...(o.subscriber ? {} : { commandTimeout: 2_000 }),
    // Resubscribing is done by the broker, which knows the topics it still wants and logs it.
    autoResubscribe: false,
    retryStrategy: backoff,
  };
}

export function connect(o: ConnectOptions): RedisClient {
  const url = new URL(o.url);
  const options = baseOptions(url, o);
  if (!o.cluster) {
    const db = Number(url.pathname.slice(1) || '0');
    return new Redis({ ...options, host: url.hostname, port: Number(url.port || 6379), db });
  }
  const { retryStrategy: _r, ...redisOptions } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions,
    clusterRetryStrategy: backoff,
    // SSUBSCRIBE through one subscriber connection per shard (ioredis routes by slot).
    shardedSubscribers: o.subscriber,
    slotsRefreshTimeout: 2_000,
    enableOfflineQueue: true,
  };
  return new Cluster([{ host: url.hostname, port: Number(url.port || 6379) }], clusterOptions);
}

/** Masters to scan (Cluster) or the one connection. */
export function masters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}
