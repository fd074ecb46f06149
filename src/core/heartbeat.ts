import type { Hub } from './hub.js';

/**
 * One timer for every socket: each round pings, and a socket that has not answered (pong or
 * any message) for two rounds is dropped.
 */
export function startHeartbeat(hub: Hub, intervalMs: number): () => void {
  const timer = setInterval(() => {
    for (const s of hub.sessions()) {
      if (s.closed) continue;
      if (s.missed >= 2) {
        s.terminate('heartbeat');
        continue;
      }
      s.missed++;
      try {
        s.ws.ping();
      } catch {
        s.terminate('error');
      }
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
