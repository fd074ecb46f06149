import type { Config } from '../../config.js';
import type { Engine } from '../engine.js';
import { MemoryBroker } from './broker-memory.js';
import { MemoryClusterView } from './cluster-view-memory.js';
import { MemoryHistory } from './history-memory.js';
import { MemoryPresence } from './presence-memory.js';
import { MemoryRegistry } from './registry-memory.js';

/** The default engine: everything in this process; history is lost (new epochs) on restart. */
export function createMemoryEngine(config: Pick<Config, 'registrationTtlMs' | 'historySize' | 'historyTtlMs'> & Partial<Pick<Config, 'historyMaxBytes'>>): Engine {
  const registry = new MemoryRegistry(config.registrationTtlMs);
  const history = new MemoryHistory(config.historySize, config.historyTtlMs, config.historyMaxBytes);
  const broker = new MemoryBroker(history);
  const presence = new MemoryPresence();
  return {
    name: 'memory',
    registry,
    broker,
    history,
    presence,
    cluster: new MemoryClusterView(),
    healthy: () => true,
    onStatus: () => {},
    async close() {
      await registry.close();
      history.close();
      await broker.close();
      await presence.close();
    },
  };
}
