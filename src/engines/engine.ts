import type { Broker } from './broker.js';
import type { ClusterView } from './cluster-view.js';
import type { History } from './history.js';
import type { Presence } from './presence.js';
import type { Registry } from './registry.js';
import type { WebhookQueue } from './webhooks.js';

/** The shared parts behind the relay; `memory` for one process, `redis` for many. */
export interface Engine {
  readonly name: 'memory' | 'redis';
  readonly registry: Registry;
  readonly broker: Broker;
  readonly history: History;
  /** Who holds which topic, on every node (for topics with presence). */
  readonly presence: Presence;
  /** Topics and /stats of every live node, for operators. */
  readonly cluster: ClusterView;
  /** Webhook events on their way to HERALD_WEBHOOK_URL (empty and idle while it is unset). */
  readonly webhooks: WebhookQueue;
  /** False while the engine's backend (Redis) is unreachable. */
  healthy(): boolean;
  /** Called with true/false whenever health changes, and after a backend came back empty. */
  onStatus(handler: (status: EngineStatus) => void): void;
  close(): Promise<void>;
}

export type EngineStatus = { type: 'up' } | { type: 'down'; error: string } | { type: 'reset' };
