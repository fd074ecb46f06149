import type { Config } from '../../config.js';
import type { Engine } from '../engine.js';
import { MemoryBroker } from './broker-memory.js';
import { MemoryClusterView } from './cluster-view-memory.js';
import { MemoryHistory } from './history-memory.js';
import { MemoryPresence } from './presence-memory.js';
import { MemoryRegistry } from './registry-memory.js';
import { memberNotices } from '../webhooks.js';
import { MemoryWebhooks } from './webhooks-memory.js';

export type MemoryEngineConfig = Pick<Config, 'registrationTtlMs' | 'historySize' | 'historyTtlMs'> & Partial<Pick<Config, 'historyMaxBytes' | 'webhookUrl' | 'webhookMaxPending'>>;

/**
 * The default engine: everything in this process; history is lost (new epochs) on restart, and
 * so are webhook events not yet delivered.
 */
export function createMemoryEngine(config: MemoryEngineConfig): Engine {
  const registry = new MemoryRegistry(config.registrationTtlMs);
  const history = new MemoryHistory(config.historySize, config.historyTtlMs, config.historyMaxBytes);
  const broker = new MemoryBroker(history);
  const webhooks = new MemoryWebhooks(config.webhookUrl !== undefined, config.webhookMaxPending ?? 100_000);
  const presence = new MemoryPresence((e) => webhooks.push(memberNotices(e)));
  return {
    name: 'memory',
    registry,
    broker,
    history,
    presence,
    cluster: new MemoryClusterView((n) => webhooks.push(n)),
    webhooks,
    healthy: () => true,
    onStatus: () => {},
    async close() {
      await registry.close();
      history.close();
      await broker.close();
      await presence.close();
      await webhooks.close();
    },
  };
}
