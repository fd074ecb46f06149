// The faults the chaos run injects, one at a time. Each resolves when the cluster is whole again
// (the node restarted and healthy, Redis answering, the stall lifted), and says what it did.
import type { ChaosCluster } from './cluster.js';

export const faultKinds = ['kill-node', 'term-node', 'stop-node', 'restart-redis', 'cut-clients', 'stall-redis'] as const;
export type FaultKind = (typeof faultKinds)[number];

export const faultDescriptions: Record<FaultKind, string> = {
  'kill-node': 'SIGKILL a node, then start it again on its port',
  'term-node': 'SIGTERM a node (it closes its sockets with 1001), then start it again',
  'stop-node': 'SIGSTOP a node for 10 s, then SIGCONT (a node that hangs, sockets open)',
  'restart-redis': 'SIGKILL redis-server and start it again on its append-only file (history kept)',
  'cut-clients': 'destroy every client connection in the TCP proxy in front of nginx',
  'stall-redis': 'the proxy in front of Redis accepts but forwards nothing for 10 s, then delivers what it held',
};

export interface FaultResult {
  readonly kind: FaultKind;
  /** The node hit (kill/term/stop), else what was hit. */
  readonly target: string;
  readonly detail: string;
}

const HOLD_MS = 10_000;

/**
 * Injects one fault; calls `ended()` the moment the fault itself is over (the process gone for
 * kill/term, as its clients move to the other nodes; SIGCONT; Redis answering; the stall lifted;
 * the connections cut), and resolves once the cluster is whole again (a killed node restarted).
 */
export async function injectFault(kind: FaultKind, cluster: ChaosCluster, random: () => number, ended: () => void): Promise<FaultResult> {
  const up = cluster.nodes.filter((n) => n.up);
  const node = up[Math.floor(random() * up.length)];
  switch (kind) {
    case 'kill-node':
    case 'term-node': {
      if (node === undefined) {
        ended();
        return { kind, target: '-', detail: 'no node up' };
      }
      const started = Date.now();
      await cluster.signalNode(node, kind === 'kill-node' ? 'SIGKILL' : 'SIGTERM');
      const exited = Date.now();
      ended();
      await cluster.startNode(node);
      return { kind, target: node.id, detail: `exited after ${exited - started} ms, healthy again after ${Date.now() - started} ms` };
    }
    case 'stop-node': {
      if (node === undefined) {
        ended();
        return { kind, target: '-', detail: 'no node up' };
      }
      await cluster.signalNode(node, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, HOLD_MS));
      await cluster.signalNode(node, 'SIGCONT');
      ended();
      return { kind, target: node.id, detail: `stopped ${HOLD_MS} ms` };
    }
    case 'restart-redis': {
      const started = Date.now();
      await cluster.stopRedis('SIGKILL');
      await cluster.startRedis();
      ended();
      return { kind, target: 'redis', detail: `answering again after ${Date.now() - started} ms` };
    }
    case 'cut-clients': {
      const n = await cluster.clientProxy().cut();
      ended();
      return { kind, target: 'clients', detail: `${n} connections cut` };
    }
    case 'stall-redis': {
      await cluster.redisProxy().stall();
      await new Promise((r) => setTimeout(r, HOLD_MS));
      await cluster.redisProxy().resume();
      ended();
      return { kind, target: 'redis', detail: `stalled ${HOLD_MS} ms` };
    }
  }
}

/** Every kind once in a shuffled order, then again: each kind comes up as often as the others. */
export class FaultDeck {
  readonly #kinds: readonly FaultKind[];
  readonly #random: () => number;
  #deck: FaultKind[] = [];

  constructor(kinds: readonly FaultKind[], random: () => number) {
    this.#kinds = kinds;
    this.#random = random;
  }

  next(): FaultKind {
    if (this.#deck.length === 0) {
      this.#deck = [...this.#kinds];
      for (let i = this.#deck.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        [this.#deck[i], this.#deck[j]] = [this.#deck[j] as FaultKind, this.#deck[i] as FaultKind];
      }
    }
    return this.#deck.pop() as FaultKind;
  }
}

/** A small seeded PRNG (mulberry32), so a run's choices can be repeated with --seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
