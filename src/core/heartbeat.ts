import type { Hub } from './hub.js';
import type { Session } from './session.js';

/** How often the heartbeat wakes: each wake pings its share of the round's sockets. */
const TICK_MS = 100;

/**
 * One timer for every socket: each round pings every socket once, and a socket that has not
 * answered (pong or any message) for two rounds is dropped. A round starts every `intervalMs`
 * and is spread over it, a slice per tick: pinging 10,000 sockets at once would hold the event
 * loop for ~100 ms (every other socket's messages waiting behind it), a slice holds it for ~0.5 ms.
 */
export function startHeartbeat(hub: Hub, intervalMs: number): () => void {
  const slices = Math.max(1, Math.floor(intervalMs / TICK_MS));
  const tickMs = intervalMs / slices;
  let round: Iterator<Session> | undefined;
  let perTick = 1;
  let startedAt = -Infinity;
  const tick = (): void => {
    if (round === undefined) {
      const now = performance.now();
      // Rounds start at most once per interval (half a tick of slack for timer jitter).
      if (now - startedAt < intervalMs - tickMs / 2) return;
      startedAt = now;
      // Sessions added during the round are visited in it too (Map iteration is live).
      round = hub.sessions();
      perTick = Math.max(1, Math.ceil(hub.size / slices));
    }
    for (let i = 0; i < perTick; i++) {
      const next = round.next();
      if (next.done === true) {
        round = undefined;
        return;
      }
      visit(next.value);
    }
  };
  const timer = setInterval(tick, tickMs);
  timer.unref();
  return () => clearInterval(timer);
}

function visit(s: Session): void {
  if (s.closed) return;
  if (s.missed >= 2) {
    s.terminate('heartbeat');
    return;
  }
  try {
    // Only a ping the peer must answer counts as missed until it does (SSE gets a comment line).
    if (s.transport.heartbeat()) s.missed++;
  } catch {
    s.terminate('error');
  }
}
