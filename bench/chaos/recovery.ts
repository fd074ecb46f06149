// How long each fault took to heal, client by client. A client has recovered from a fault at the
// first check, after the fault ended, where it is connected and holds, for each of its topics,
// everything acknowledged up to max(the fault's end, one second before the check): the second
// leaves room for messages on their way. Checked every 250 ms. The first check comes a second
// after the fault's end: a client whose connection was just cut may not have read its close yet
// and still look connected (3,000 closes take a while to read), so times under ~1 s read as 1 s.
import type { ChaosClient } from './fleet.js';
import type { PublishLedger } from './ledger.js';
import { percentileSorted } from '../stats.js';

export const CHECK_MS = 250;
const IN_FLIGHT_MS = 1000;

export interface FaultWindow {
  readonly startedAt: number;
  /** When the fault was over (process gone, Redis answering, stall lifted, connections cut). */
  endedAt: number | null;
  /** Client indexes not recovered yet. */
  readonly pending: Set<number>;
  /** Per recovered client: ms from the fault's end to recovered. */
  readonly times: number[];
  /** The same times, apart for SDK and plain clients (a plain client that lost a message on a
   *  cut connection only counts as caught up when a newer message of that topic reaches it). */
  readonly timesByKind: { sdk: number[]; plain: number[] };
  /** The last clients to recover: [client index, ms]. */
  slowest: Array<[number, number]>;
  allRecoveredAt: number | null;
  readonly dropsAtStart: number;
  dropsAtRecovery: number | null;
}

export function caughtUp(client: ChaosClient, ledger: PublishLedger, at: number): boolean {
  if (!client.connected()) return false;
  for (const topic of client.topics) {
    if (client.maxOffset(topic, ledger) < ledger.expectedMax(topic, client.user, at)) return false;
  }
  return true;
}

export class RecoveryTracker {
  readonly windows: FaultWindow[] = [];
  readonly #clients: readonly ChaosClient[];
  readonly #ledger: PublishLedger;
  #timer: NodeJS.Timeout | undefined;

  constructor(clients: readonly ChaosClient[], ledger: PublishLedger) {
    this.#clients = clients;
    this.#ledger = ledger;
  }

  totalDrops(): number {
    return this.#clients.reduce((sum, c) => sum + c.drops, 0);
  }

  open(): FaultWindow {
    const w: FaultWindow = {
      startedAt: Date.now(),
      endedAt: null,
      pending: new Set(this.#clients.map((_c, i) => i)),
      times: [],
      timesByKind: { sdk: [], plain: [] },
      slowest: [],
      allRecoveredAt: null,
      dropsAtStart: this.totalDrops(),
      dropsAtRecovery: null,
    };
    this.windows.push(w);
    return w;
  }

  start(): void {
    this.#timer = setInterval(() => this.check(), CHECK_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Clients (of one kind, or all) not caught up with everything acknowledged a second ago (or at `at`). */
  behind(at = Date.now() - IN_FLIGHT_MS, kind?: ChaosClient['kind']): number {
    return this.#clients.filter((c) => (kind === undefined || c.kind === kind) && !caughtUp(c, this.#ledger, at)).length;
  }

  pendingCount(): number {
    return this.windows.reduce((n, w) => n + w.pending.size, 0);
  }

  check(): void {
    const now = Date.now();
    for (const w of this.windows) {
      if (w.endedAt === null || w.pending.size === 0 || now - w.endedAt < IN_FLIGHT_MS) continue;
      const at = Math.max(w.endedAt, now - IN_FLIGHT_MS);
      for (const i of w.pending) {
        if (!caughtUp(this.#clients[i]!, this.#ledger, at)) continue;
        w.pending.delete(i);
        w.times.push(now - w.endedAt);
        w.timesByKind[this.#clients[i]!.kind].push(now - w.endedAt);
        if (w.pending.size < 3) w.slowest.push([i, now - w.endedAt]);
      }
      if (w.pending.size === 0) {
        w.allRecoveredAt = now;
        w.dropsAtRecovery = this.totalDrops();
      }
    }
  }
}

export interface RecoverySummary {
  readonly clients: number;
  readonly recovered: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export function summarizeTimes(times: readonly number[], clients: number): RecoverySummary {
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (p: number): number | null => (sorted.length === 0 ? null : percentileSorted(sorted, p));
  return { clients, recovered: sorted.length, p50Ms: pick(50), p99Ms: pick(99), maxMs: sorted.length === 0 ? null : (sorted[sorted.length - 1] as number) };
}
