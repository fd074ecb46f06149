// One chaos run: the cluster, the clients, steady publishes, a fault every 10-20 s, and at the
// end the books compared. Used by `npm run chaos` (bench/chaos/run.ts) and by the 60-second run
// in `npm test` (test/chaos/chaos.test.ts).
import { rssKiB } from '../proc-stats.js';
import { ChaosCluster } from './cluster.js';
import { faultDescriptions, FaultDeck, injectFault, seeded, type FaultKind } from './faults.js';
import { PlainChaosClient, SdkChaosClient, type ChaosClient } from './fleet.js';
import { countLoss, PublishLedger, type LossCounts } from './ledger.js';
import { Publisher } from './publisher.js';
import { RecoveryTracker, summarizeTimes, type RecoverySummary } from './recovery.js';
import { rssSlopes, type RssSample, type RssSlope } from './rss.js';

export interface ChaosOptions {
  readonly root: string;
  /** Logs and nginx's files go here. */
  readonly dir: string;
  readonly seconds: number;
  readonly sdkClients: number;
  readonly plainClients: number;
  readonly rooms: number;
  readonly inboxes: number;
  /** Users: clients are spread over them, so several clients share a user. */
  readonly users: number;
  readonly publishesPerSecond: number;
  readonly faultGapMs: readonly [number, number];
  readonly faults: readonly FaultKind[];
  readonly seed: number;
  readonly nodeArgs: readonly string[];
  readonly progress: (line: string) => void;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly target: string;
  readonly detail: string;
  /** Seconds since the chaos began. */
  readonly at: number;
  readonly durationMs: number;
  /** From the fault's end to each client caught up again. */
  readonly recovery: RecoverySummary;
  readonly recoverySdk: RecoverySummary;
  readonly recoveryPlain: RecoverySummary;
  /** From the fault's end until the last client was caught up (null: not within the run). */
  readonly allRecoveredMs: number | null;
  readonly connectionsLost: number | null;
  /** The last clients to recover, with their time. */
  readonly slowest: readonly string[];
  readonly publishes: Record<'acked' | 'degraded' | 'refused' | 'unknown', number>;
}

export interface ChaosResult {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  readonly clients: { readonly sdk: number; readonly plain: number; readonly users: number; readonly rooms: number; readonly inboxes: number };
  readonly publishes: Record<'total' | 'acked' | 'degraded' | 'refused' | 'unknown' | 'skipped', number>;
  readonly sdk: LossCounts;
  readonly plain: LossCounts;
  readonly faults: readonly FaultRecord[];
  readonly recoveryByKind: Partial<Record<FaultKind, RecoverySummary & { readonly faults: number; readonly sdk: RecoverySummary; readonly plain: RecoverySummary }>>;
  readonly rss: { readonly samples: readonly RssSample[]; readonly slopes: readonly RssSlope[] };
  /** Whether every client was caught up at the end, after the drain. */
  readonly drained: boolean;
  readonly notes: readonly string[];
}

const REGISTER_CONCURRENCY = 32;

async function register(base: string, user: string, topics: readonly string[]): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${base}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: user, topics }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { url?: string };
      if (res.status === 200 && typeof body.url === 'string') return body.url;
      throw new Error(`POST /register answered ${res.status}`);
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
}

async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function sleep(ms: number, cancelled: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const end = Date.now() + ms;
    const tick = (): void => {
      if (cancelled() || Date.now() >= end) resolve();
      else setTimeout(tick, Math.min(250, end - Date.now()));
    };
    tick();
  });
}

export async function runChaos(o: ChaosOptions, signal?: AbortSignal): Promise<ChaosResult> {
  const random = seeded(o.seed);
  const startedAt = new Date().toISOString();
  const notes: string[] = [];
  const cluster = new ChaosCluster({ root: o.root, dir: o.dir, nodes: 3, nodeArgs: o.nodeArgs });
  const clients: ChaosClient[] = [];
  const ledger = new PublishLedger();
  const users = Array.from({ length: o.users }, (_, i) => `u${i}`);
  const rooms = Array.from({ length: o.rooms }, (_, i) => `room.${i}`);
  const inboxOf = (userIndex: number): string => `inbox.${userIndex % o.inboxes}`;
  const publisher = new Publisher(ledger, {
    ports: () => cluster.nodes.filter((n) => n.up).map((n) => n.port),
    next: () => {
      if (random() < 0.8) return { topic: rooms[Math.floor(random() * rooms.length)] as string, user: null };
      const u = Math.floor(random() * users.length);
      return { topic: inboxOf(u), user: users[u] as string };
    },
  });
  const tracker = new RecoveryTracker(clients, ledger);
  const samples: RssSample[] = [];
  let rssTimer: NodeJS.Timeout | undefined;
  let chaosStart = 0;
  const cancelled = (): boolean => signal?.aborted === true;
  try {
    await cluster.start((text) => o.progress(text));
    chaosStart = Date.now();
    const sampleRss = (): void => {
      for (const n of cluster.nodes) {
        if (!n.up) continue;
        const t = (Date.now() - chaosStart) / 1000;
        let rss = Number.NaN;
        try {
          rss = rssKiB(n.pid) / 1024;
        } catch {
          // exited between the check and the read
        }
        if (!Number.isFinite(rss)) continue; // a process being reaped has no VmRSS
        const sample: RssSample = { node: n.id, pid: n.pid, t, rssMiB: rss, connections: null };
        samples.push(sample);
        // The node's sockets at the time (clients move between nodes with the faults).
        void fetch(`http://127.0.0.1:${n.port}/health`, { signal: AbortSignal.timeout(900) })
          .then(async (res) => ((await res.json()) as { connections?: number }).connections)
          .then((c) => (sample.connections = typeof c === 'number' ? c : null))
          .catch(() => {});
      }
    };
    sampleRss();
    rssTimer = setInterval(sampleRss, 1000);

    // Clients: user k's clients hold two rooms and their user's inbox (user-addressed publishes).
    const total = o.sdkClients + o.plainClients;
    o.progress(`registering ${total} clients (${o.sdkClients} SDK, ${o.plainClients} plain)`);
    // SDK and plain clients interleaved, exactly o.sdkClients of the first kind.
    const isSdk = (i: number): boolean => Math.floor(((i + 1) * o.sdkClients) / total) > Math.floor((i * o.sdkClients) / total);
    const specs = Array.from({ length: total }, (_, i) => {
      const u = i % users.length;
      const picked = new Set<string>();
      while (picked.size < Math.min(2, rooms.length)) picked.add(rooms[Math.floor(random() * rooms.length)] as string);
      return { kind: isSdk(i) ? 'sdk' : 'plain', user: users[u] as string, topics: [...picked, inboxOf(u)] };
    });
    const urls: string[] = new Array(total);
    let nextSpec = 0;
    await Promise.all(
      Array.from({ length: REGISTER_CONCURRENCY }, async () => {
        while (nextSpec < total && !cancelled()) {
          const i = nextSpec++;
          urls[i] = await register(cluster.base, specs[i]!.user, specs[i]!.topics);
        }
      }),
    );
    specs.forEach((s, i) => {
      const name = `${s.kind}-${i}`;
      clients.push(s.kind === 'sdk' ? new SdkChaosClient(name, urls[i]!, s.user, s.topics) : new PlainChaosClient(name, urls[i]!, s.user, s.topics));
    });
    o.progress(`connecting ${total} clients through nginx`);
    for (let i = 0; i < clients.length; i += 100) {
      for (const c of clients.slice(i, i + 100)) c.start();
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitUntil('every client to connect', () => clients.every((c) => c.connected()), 120_000);

    // Warm-up: one message to every topic, until every client has one of each (its joins are live).
    o.progress('warm-up: a message on every topic until every client has one of each');
    const allTopics = [...rooms, ...Array.from({ length: o.inboxes }, (_, i) => `inbox.${i}`)];
    const heard = (): boolean => clients.every((c) => c.topics.every((t) => (c.receipts.get(t)?.ids.size ?? 0) > 0));
    const warmEnd = Date.now() + 60_000;
    while (!heard()) {
      if (Date.now() > warmEnd) throw new Error('warm-up: some clients never received their topics within 60 s');
      await Promise.all(allTopics.map((t) => publisher.publish(t, null)));
      await sleep(1000, heard);
    }
    ledger.firstCounted = ledger.records.length;
    chaosStart = Date.now();
    samples.length = 0;

    publisher.start(o.publishesPerSecond);
    tracker.start();
    const deadline = chaosStart + o.seconds * 1000;
    const deck = new FaultDeck(o.faults, random);
    const faults: Array<{ kind: FaultKind; target: string; detail: string; window: ReturnType<RecoveryTracker['open']> }> = [];
    const status = (what: string): void => {
      const elapsed = Math.round((Date.now() - chaosStart) / 1000);
      const connected = clients.filter((c) => c.connected()).length;
      o.progress(
        `${elapsed}/${o.seconds}s ${what} · connected ${connected}/${clients.length} · published ${ledger.records.length - ledger.firstCounted} (in flight ${publisher.inFlight}) · faults ${faults.length} · waiting to recover ${tracker.pendingCount()}`,
      );
    };
    const statusTimer = setInterval(() => status(faults.length === 0 ? 'steady' : `last fault ${faults[faults.length - 1]!.kind}`), 5000);
    try {
      const gap = (): number => o.faultGapMs[0] + random() * (o.faultGapMs[1] - o.faultGapMs[0]);
      let nextFaultAt = Date.now() + gap();
      while (Date.now() < deadline && !cancelled()) {
        await sleep(Math.min(nextFaultAt, deadline) - Date.now(), cancelled);
        // A fault needs up to ~12 s and its recovery some more: none is started in the last 12 s.
        if (Date.now() >= deadline - 12_000 || cancelled()) break;
        const kind = deck.next();
        const window = tracker.open();
        status(`injecting ${kind}`);
        const result = await injectFault(kind, cluster, random, () => (window.endedAt = Date.now()));
        window.endedAt ??= Date.now();
        faults.push({ kind, target: result.target, detail: result.detail, window });
        status(`${kind} ${result.target}: ${result.detail}`);
        nextFaultAt = Date.now() + gap();
      }
      o.progress('stopping publishes; draining (up to 60 s) until every client has everything acknowledged');
      await publisher.stop();
      const drainEnd = Date.now() + 60_000;
      while (tracker.behind(Date.now()) > 0 && Date.now() < drainEnd && !cancelled()) await sleep(250, cancelled);
      tracker.check();
    } finally {
      clearInterval(statusTimer);
      tracker.stop();
      clearInterval(rssTimer);
    }
    // Drained: every SDK client has everything. A plain client that lost a message on a cut
    // connection (its cursor is what was written, not what arrived) never catches up: counted apart.
    const drained = tracker.behind(Date.now(), 'sdk') === 0;
    const plainBehind = tracker.behind(Date.now(), 'plain');
    if (cancelled()) notes.push('CANCELLED before its end (Ctrl-C or the time bound): no drain, so the last publishes count as lost');
    else if (!drained) notes.push('some SDK clients were still not caught up 60 s after the last publish');
    if (plainBehind > 0) notes.push(`${plainBehind} plain clients were missing a message at the end (lost on a cut connection; see plain "lost")`);

    const name = (i: number): string => clients[i]?.name ?? String(i);
    const sdk = countLoss(ledger, clients, 'sdk', name);
    const plain = countLoss(ledger, clients, 'plain', name);
    const faultRecords: FaultRecord[] = faults.map((f) => {
      const w = f.window;
      const end = w.allRecoveredAt ?? Date.now();
      return {
        kind: f.kind,
        target: f.target,
        detail: f.detail,
        at: Math.round((w.startedAt - chaosStart) / 100) / 10,
        durationMs: (w.endedAt ?? w.startedAt) - w.startedAt,
        recovery: summarizeTimes(w.times, clients.length),
        recoverySdk: summarizeTimes(w.timesByKind.sdk, o.sdkClients),
        recoveryPlain: summarizeTimes(w.timesByKind.plain, o.plainClients),
        allRecoveredMs: w.allRecoveredAt === null || w.endedAt === null ? null : w.allRecoveredAt - w.endedAt,
        connectionsLost: w.dropsAtRecovery === null ? null : w.dropsAtRecovery - w.dropsAtStart,
        slowest: [...w.slowest.map(([i, t]) => `${name(i)} ${t} ms`), ...[...w.pending].slice(0, 3).map((i) => `${name(i)} not recovered`)],
        publishes: ledger.outcomesBetween(w.startedAt, end),
      };
    });
    const recoveryByKind: ChaosResult['recoveryByKind'] = {};
    for (const kind of new Set(faults.map((f) => f.kind))) {
      const of = faults.filter((f) => f.kind === kind);
      recoveryByKind[kind] = {
        ...summarizeTimes(of.flatMap((f) => f.window.times), clients.length * of.length),
        faults: of.length,
        sdk: summarizeTimes(of.flatMap((f) => f.window.timesByKind.sdk), o.sdkClients * of.length),
        plain: summarizeTimes(of.flatMap((f) => f.window.timesByKind.plain), o.plainClients * of.length),
      };
    }
    const counted = ledger.records.length - ledger.firstCounted;
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      seconds: Math.round((Date.now() - chaosStart) / 1000),
      clients: { sdk: o.sdkClients, plain: o.plainClients, users: o.users, rooms: o.rooms, inboxes: o.inboxes },
      publishes: {
        total: counted,
        acked: ledger.count('acked'),
        degraded: ledger.count('degraded'),
        refused: ledger.count('refused'),
        unknown: ledger.count('unknown'),
        skipped: publisher.skipped,
      },
      sdk,
      plain,
      faults: faultRecords,
      recoveryByKind,
      rss: { samples, slopes: rssSlopes(samples) },
      drained,
      notes: [...notes, ...Object.entries(faultDescriptions).filter(([k]) => o.faults.includes(k as FaultKind)).map(([k, d]) => `${k}: ${d}`)],
    };
  } finally {
    clearInterval(rssTimer);
    o.progress('stopping clients and every process started');
    await publisher.stop().catch(() => {});
    await Promise.all(clients.map((c) => c.close()));
    await cluster.stop();
  }
}
