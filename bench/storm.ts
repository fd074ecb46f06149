// The reconnect-storm scenario (issue 18): N clients connected to one Herald node, each holding
// one of R rooms, publishes flowing to the rooms at a steady rate; the node is stopped (SIGTERM:
// a deploy, then SIGKILL: a crash) and started again on the same port, and every client comes
// back at once. Per case: engine (memory, Redis) × client kind (the SDK with its backoff, raw
// sockets with none), one setup, one storm per signal, each tallied on its own.
//
//   node      taskset -c 0, as every scenario runs Herald (bench/servers.ts)
//   clients   the load generator, taskset -c 1 (one process: N sockets + the publisher)
//   redis     not pinned (as in the cluster scenario), a fresh throwaway redis-server per case
// Memory engine: registrations die with the node, so clients connect with connection tokens
// (HERALD_TOKEN_SECRET), which outlive it; history dies too (a new epoch: clients resuming with
// `since` get what the new node has, complete:false). Redis: registrations, cursors and history
// survive. Every phase has a deadline; every process is started here and stopped by its PID.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { cpuMicros, tcpCounters } from './proc-stats.js';
import { LoadgenProcess } from './loadgen-process.js';
import { redisInfoField, startRedis, type RedisProcess } from './redis-process.js';
import { freePort, startServer, type RunningServer } from './servers.js';
import { percentileSorted } from './stats.js';
import { monoMs } from './storm-fleet.js';
import type { Metrics } from './metrics.js';
import type { CaseResult, Scale } from './scenarios.js';
import type { StormAwaitResult, StormClientKind, StormSettleResult } from './storm-protocol.js';

export interface StormContext {
  readonly root: string;
  readonly logDir: string;
  readonly run: number;
  readonly nodeFlags: readonly string[];
  readonly scale: Scale;
  readonly progress: (phase: string) => void;
  /** Every process started is handed here first, so the runner can stop it on Ctrl-C or a timeout. */
  readonly track: (process: { stop(): Promise<void> }) => void;
  /** Which cases to run (default: all). */
  readonly engines?: readonly StormEngine[];
  readonly kinds?: readonly StormClientKind[];
  readonly signals?: readonly StormSignal[];
}

export type StormEngine = 'memory' | 'redis';
export const stormEngines: readonly StormEngine[] = ['memory', 'redis'];
export const stormKinds: readonly StormClientKind[] = ['sdk', 'raw'];
export type StormSignal = 'SIGTERM' | 'SIGKILL';
/** SIGTERM first (a deploy: 1001 to every socket, then exit), then SIGKILL (a crash: the kernel closes them). */
export const stormSignals: readonly StormSignal[] = ['SIGTERM', 'SIGKILL'];
const kindLabel: Record<StormClientKind, string> = { sdk: 'SDK backoff', raw: 'no backoff' };

const SOURCE_ADDRESSES = 8;
const CONNECT_CONCURRENCY = 64;
const PUBLISH_LANES = 4;
const STEADY_WINDOW_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** VmHWM (peak resident set) of `pid`, in KiB. */
function peakRssKiB(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Resolves with the monotonic time the port first accepts a TCP connection (polled every 5 ms). */
async function listeningAt(port: number, deadlineMs: number, onListening: () => void): Promise<number> {
  const deadline = performance.now() + deadlineMs;
  while (performance.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) {
      const at = monoMs();
      onListening();
      return at;
    }
    await sleep(5);
  }
  throw new Error(`port ${port} did not accept a connection within ${deadlineMs} ms of the restart`);
}

function stormMetrics(engine: StormEngine, clients: number, signalAt: number, exitAt: number, listenAt: number, wait: StormAwaitResult, settle: StormSettleResult, cpu: { serverUs: number; loadgenUs: number; endAt: number; steadyPct: number }): Metrics {
  const times = wait.recoveredAt.map((t) => Math.max(0, t - listenAt));
  const last = times.length > 0 ? (times[times.length - 1] as number) : Number.NaN;
  const windowMs = cpu.endAt - listenAt;
  return {
    connections: clients,
    recoveryMs: wait.notRecovered === 0 ? last : Number.NaN,
    reconnectP50Ms: percentileSorted(times, 50),
    reconnectP99Ms: percentileSorted(times, 99),
    notRecovered: wait.notRecovered,
    shutdownMs: exitAt - signalAt,
    downMs: listenAt - signalAt,
    reconnects: wait.reconnects,
    attempts: wait.attempts,
    attemptsPerClient: wait.attempts / clients,
    refused503: wait.refused503,
    refusedOther: wait.refusedOther,
    failedTcp: wait.failedTcp,
    gaveUp: Object.values(wait.gaveUp).reduce((a, b) => a + b, 0),
    serverUsPerReconnect: cpu.serverUs / Math.max(1, wait.reconnects),
    serverCpuMs: cpu.serverUs / 1000,
    serverCpuPct: (cpu.serverUs / 1000 / windowMs) * 100,
    steadyServerCpuPct: cpu.steadyPct,
    loadgenCpuPct: (cpu.loadgenUs / 1000 / windowMs) * 100,
    wallMs: windowMs,
    publishes: settle.confirmed,
    deliveries: settle.expected,
    // Memory engine: what the stopped node answered 200 but never wrote died with it (nothing
    // persists); counted apart. Redis keeps every message: any loss is a loss.
    lost: engine === 'memory' ? settle.lost - settle.lostWithNode : settle.lost,
    lostWithNode: settle.lostWithNode,
    duplicates: settle.duplicates,
    outOfOrder: settle.outOfOrder,
    unexpected: settle.unexpected,
    unconfirmedDelivered: settle.unconfirmedDelivered,
    publishRetries: settle.publishRetries,
  };
}

async function stormCase(ctx: StormContext, engine: StormEngine, kind: StormClientKind, cases: CaseResult[]): Promise<void> {
  const { scale } = ctx;
  const clients = scale.stormClients;
  const label = `${engine} ${kind}`;
  const stops: Array<() => Promise<void>> = [];
  const keep = <T extends { stop(): Promise<void> }>(p: T): T => {
    ctx.track(p);
    stops.push(() => p.stop());
    return p;
  };
  try {
    let redis: RedisProcess | null = null;
    if (engine === 'redis') {
      ctx.progress(`${label}: starting redis-server`);
      redis = keep(await startRedis(null));
    }
    // A fresh secret per case; it goes to Herald through its environment and is never logged.
    const tokenSecret = engine === 'memory' ? randomBytes(32).toString('hex') : undefined;
    const port = await freePort();
    let generation = 0;
    const spec = (onSpawned?: (pid: number) => void): Parameters<typeof startServer>[0] => ({
      target: 'herald',
      root: ctx.root,
      core: 0,
      port,
      logFile: join(ctx.logDir, `storm-${engine}-${kind}-run${ctx.run}-${++generation}.log`),
      nodeFlags: ctx.nodeFlags,
      args: redis === null ? [] : ['--redis-url', redis.url, '--node-id', 'a'],
      env: tokenSecret === undefined ? {} : { HERALD_TOKEN_SECRET: tokenSecret },
      ...(onSpawned ? { onSpawned } : {}),
    });
    ctx.progress(`${label}: starting Herald`);
    let server: RunningServer = keep(await startServer(spec()));
    const loadgen = keep(await LoadgenProcess.start(ctx.root, 1, port));
    ctx.progress(`${label}: connecting ${clients} clients`);
    await loadgen.storm({
      type: 'storm-setup',
      kind,
      clients,
      rooms: scale.stormRooms,
      concurrency: CONNECT_CONCURRENCY,
      sourceAddresses: SOURCE_ADDRESSES,
      deadlineMs: scale.stormPhaseMs,
      ...(tokenSecret === undefined ? {} : { tokenSecret }),
    });
    for (const signal of ctx.signals ?? stormSignals) {
      ctx.progress(`${label}: publishing ${scale.stormRate}/s to ${scale.stormRooms} rooms`);
      await loadgen.storm({ type: 'storm-publish', ratePerSecond: scale.stormRate, lanes: PUBLISH_LANES, payloadBytes: scale.payloadBytes });
      await loadgen.storm({ type: 'storm-ready', deadlineMs: scale.stormPhaseMs });
      const steadyStart = cpuMicros(server.pid);
      await sleep(STEADY_WINDOW_MS);
      const steadyPct = ((cpuMicros(server.pid) - steadyStart) / 1000 / STEADY_WINDOW_MS) * 100;
      await loadgen.storm({ type: 'storm-arm' });

      ctx.progress(`${label}: ${signal} to the node`);
      const signalAt = monoMs();
      const tcpBefore = tcpCounters();
      const old = server;
      await Promise.race([old.kill(signal), sleep(scale.stormPhaseMs).then(() => old.kill('SIGKILL'))]);
      const exitAt = monoMs();
      // Armed now: only connections made after the old node is gone count as recovered.
      const waiting = loadgen.storm({ type: 'storm-await', afterMonoMs: exitAt, deadlineMs: scale.stormRecoveryMs });
      waiting.catch(() => undefined);
      // CPU is read the moment the new node accepts connections: its start-up is not the storm's.
      let marks = { server: 0, loadgen: 0 };
      let listening: Promise<number> | null = null;
      const restarted = startServer(
        spec((pid) => {
          listening = listeningAt(port, scale.stormPhaseMs, () => (marks = { server: cpuMicros(pid), loadgen: cpuMicros(loadgen.pid) }));
          listening.catch(() => undefined);
        }),
        scale.stormPhaseMs,
      );
      ctx.progress(`${label}: restarting on port ${port}; ${clients} clients coming back`);
      server = keep(await restarted);
      if (listening === null) throw new Error('the restarted node was never spawned');
      const listenAt = await listening;
      const wait = await waiting;
      if (wait.type !== 'storm-await') throw new Error(`expected storm-await, got ${wait.type}`);
      const endAt = monoMs();
      const tcpAfter = tcpCounters();
      const cpu = { serverUs: cpuMicros(server.pid) - marks.server, loadgenUs: cpuMicros(loadgen.pid) - marks.loadgen, endAt, steadyPct };
      const peakRss = peakRssKiB(server.pid);
      ctx.progress(`${label}: ${signal}: tail of publishes, then the tally`);
      await sleep(scale.stormTailMs);
      const settled = await loadgen.storm({ type: 'storm-settle', idleTimeoutMs: scale.idleTimeoutMs, deadlineMs: scale.stormPhaseMs });
      if (settled.type !== 'storm-settle') throw new Error(`expected storm-settle, got ${settled.type}`);
      const metrics = stormMetrics(engine, clients, signalAt, exitAt, listenAt, wait.result, settled.result, cpu);
      ctx.progress(
        `${label}: ${signal}: ${clients - wait.result.notRecovered}/${clients} back ${Math.round(metrics.recoveryMs ?? Number.NaN)} ms after listening ` +
          `(down ${Math.round(metrics.downMs ?? 0)} ms, ${wait.result.attempts} attempts, ${wait.result.refused503} × 503` +
          `${Object.keys(wait.result.gaveUp).length > 0 ? `, gave up for good: ${JSON.stringify(wait.result.gaveUp)}` : ''}); lost ${settled.result.lost} (${settled.result.lostWithNode} with the node) of ${settled.result.expected}`,
      );
      metrics.serverPeakRssMiB = peakRss / 1024;
      metrics.listenOverflows = tcpAfter.listenOverflows - tcpBefore.listenOverflows;
      metrics.synRetransmits = tcpAfter.synRetransmits - tcpBefore.synRetransmits;
      if (redis !== null) metrics.redisUsedMemoryMiB = (await redisInfoField(redis.port, 'used_memory')) / 1024 / 1024;
      cases.push({
        name: `storm ${engine} ${kindLabel[kind]} ${signal} N=${clients}`,
        scenario: 'storm',
        metrics,
      });
    }
  } finally {
    ctx.progress(`${label}: stopping`);
    for (const stop of stops.reverse()) await stop();
  }
}

/**
 * Every engine × client kind, in an order that alternates from run to run. Each finished case
 * goes into `out` at once, so a run stopped by its time limit still reports what it measured.
 */
export async function storm(ctx: StormContext, out: CaseResult[] = []): Promise<CaseResult[]> {
  const combos = (ctx.engines ?? stormEngines).flatMap((engine) => (ctx.kinds ?? stormKinds).map((kind) => [engine, kind] as const));
  const order = ctx.run % 2 === 1 ? combos : [...combos].reverse();
  for (const [engine, kind] of order) await stormCase(ctx, engine, kind, out);
  return out;
}
