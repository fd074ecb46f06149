import type { Engine } from '../../src/engines/engine.js';
import type { EngineLog } from '../../src/engines/redis/broker-redis.js';
import { createRedisEngine } from '../../src/engines/redis/engine-redis.js';
import type { ContractConfig } from './engine-contract.js';
import { waitFor } from './engine-contract.js';

/** A redis engine node on `url`; nodes of one space share keys, spaces never see each other. */
export async function redisNode(url: string, cluster: boolean, config: ContractConfig, space: string, log?: EngineLog): Promise<Engine> {
  const e = createRedisEngine({ ...config, redisUrl: url, redisCluster: cluster }, log, { prefix: `test-${space}:`, probeIntervalMs: 100 });
  await waitFor('the redis engine to be healthy', () => e.healthy(), 10_000);
  return e;
}
