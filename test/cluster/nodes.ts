// Several real Herald processes sharing one Redis: what a cluster test starts.
import { publish } from '../helpers/http.js';
import { spawnHerald, type HeraldProcess } from '../helpers/server.js';
import type { TestSocket } from '../helpers/ws-client.js';

export interface Node extends HeraldProcess {
  id: string;
}

/** Waits until /health says 200 (the node reaches Redis). */
export async function healthy(node: HeraldProcess, timeoutMs = 10_000): Promise<void> {
  await healthIs(node, 200, timeoutMs);
}

export async function healthIs(node: HeraldProcess, status: number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 0;
  for (;;) {
    try {
      last = (await fetch(`${node.base}/health`)).status;
      if (last === status) return;
    } catch {
      last = -1;
    }
    if (Date.now() > end) throw new Error(`node ${node.base}: /health stayed ${last}, wanted ${status}\n${node.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `count` nodes named a, b, c... on `redisUrl`, each healthy. */
export async function startNodes(count: number, redisUrl: string, args: string[] = []): Promise<Node[]> {
  const nodes = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const id = String.fromCharCode(97 + i);
      const p = await spawnHerald(['--redis-url', redisUrl, '--node-id', id, '--cursor-save', '200ms', ...args]);
      return { ...p, id };
    }),
  );
  await Promise.all(nodes.map((n) => healthy(n)));
  return nodes;
}

export async function stopNodes(nodes: HeraldProcess[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
}

/** The registration's ws:// URL, pointed at another node. */
export function on(node: HeraldProcess, url: string): string {
  const u = new URL(url);
  u.port = String(node.port);
  return u.toString();
}

/**
 * Resolves once a plain socket receives messages of `topic` (its join finished): publishes
 * probes through `node` until one arrives, and drops the probes from the socket's queue.
 */
export async function plainJoined(ws: TestSocket, node: HeraldProcess, topic: string, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    await publish(node.base, { topic, message: `probe-${i}` });
    try {
      await ws.next(100);
      break;
    } catch {
      if (Date.now() > end) throw new Error(`socket never received ${topic}`);
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  ws.frames.splice(0, ws.frames.length);
}
