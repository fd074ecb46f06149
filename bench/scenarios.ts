// The scenarios of issue 7. Each runs against one fresh server and one fresh load generator and
// yields one or more cases; every measured phase is one loadgen command with both processes'
// CPU read from /proc just before it and just after its reply.
import { cpuBetween, markCpu, openFileLimit, rssKiB, type CpuWindow } from './proc-stats.js';
import type { LoadgenProcess } from './loadgen-process.js';
import { deliveryCounters, type RunningServer } from './servers.js';
import { deliveryMetrics, perWrite, type Metrics } from './metrics.js';

export const scenarioNames = ['fanout', 'fanout-sse', 'unicast', 'latency', 'idle', 'cluster', 'storm'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** How big each scenario is: the full run, or --quick (seconds, for the smoke test). */
export interface Scale {
  readonly fanoutSizes: readonly number[];
  /** Publishes per burst = max(fanoutMinPublishes, fanoutDeliveries / S). */
  readonly fanoutDeliveries: number;
  readonly fanoutMinPublishes: number;
  readonly unicastUsers: number;
  readonly unicastPublishes: number;
  readonly batchPublishes: number;
  readonly batchSize: number;
  readonly latencySubscribers: number;
  readonly latencyRate: number;
  readonly latencyDurationMs: number;
  readonly idleSizes: readonly number[];
  /** The cluster scenario (bench/cluster.ts): subscribers in total, publishes in its burst. */
  readonly clusterSubscribers: number;
  readonly clusterPublishes: number;
  /** The reconnect-storm scenario (bench/storm.ts): clients, rooms they are spread over, publishes/s to the rooms. */
  readonly stormClients: number;
  readonly stormRooms: number;
  readonly stormRate: number;
  /** Deadline of each storm phase (setup, shutdown, restart, settle) and of the recovery itself. */
  readonly stormPhaseMs: number;
  readonly stormRecoveryMs: number;
  /** Publishing goes on this long after the last client recovered, before the tally. */
  readonly stormTailMs: number;
  readonly payloadBytes: number;
  readonly concurrency: number;
  readonly idleTimeoutMs: number;
  readonly settleMs: number;
}

export const fullScale: Scale = {
  fanoutSizes: [1000, 5000, 10_000],
  fanoutDeliveries: 500_000,
  fanoutMinPublishes: 50,
  unicastUsers: 10_000,
  unicastPublishes: 20_000,
  batchPublishes: 50_000,
  batchSize: 100,
  latencySubscribers: 1000,
  latencyRate: 50,
  latencyDurationMs: 6000,
  idleSizes: [10_000, 100_000],
  clusterSubscribers: 5000,
  clusterPublishes: 300,
  stormClients: 10_000,
  stormRooms: 100,
  stormRate: 200,
  stormPhaseMs: 120_000,
  stormRecoveryMs: 180_000,
  stormTailMs: 2000,
  payloadBytes: 64,
  concurrency: 16,
  idleTimeoutMs: 5000,
  settleMs: 2000,
};

export const quickScale: Scale = {
  fanoutSizes: [100, 500],
  fanoutDeliveries: 50_000,
  fanoutMinPublishes: 50,
  unicastUsers: 500,
  unicastPublishes: 2000,
  batchPublishes: 5000,
  batchSize: 100,
  latencySubscribers: 100,
  latencyRate: 50,
  latencyDurationMs: 1500,
  idleSizes: [1000],
  clusterSubscribers: 300,
  clusterPublishes: 50,
  stormClients: 300,
  stormRooms: 10,
  stormRate: 50,
  stormPhaseMs: 20_000,
  stormRecoveryMs: 30_000,
  stormTailMs: 500,
  payloadBytes: 64,
  concurrency: 16,
  idleTimeoutMs: 5000,
  settleMs: 500,
};

export interface CaseResult {
  /** Stable key, e.g. "fanout S=5000". */
  readonly name: string;
  readonly scenario: ScenarioName;
  readonly metrics: Metrics;
  readonly skipped?: string;
  /** The measured window on CLOCK_MONOTONIC (µs), to cut a server --cpu-prof profile to it. */
  readonly window?: { readonly startUs: number; readonly endUs: number };
}

function windowOf(cpu: CpuWindow): CaseResult['window'] {
  return { startUs: cpu.startMonoUs, endUs: cpu.endMonoUs };
}

export interface ScenarioContext {
  readonly server: RunningServer;
  readonly loadgen: LoadgenProcess;
  readonly scale: Scale;
  readonly progress: (phase: string) => void;
}

const TOPIC = 'bench';
const SOURCE_ADDRESSES = 8;
const CONNECT_CONCURRENCY = 64;

async function measure<T>(ctx: ScenarioContext, work: () => Promise<T>): Promise<{ value: T; cpu: CpuWindow; perWrite: Metrics }> {
  // Herald counts its deliveries and socket writes; read outside the CPU window so the reads cost it nothing.
  const before = await deliveryCounters(ctx.server);
  const start = markCpu(ctx.server.pid, ctx.loadgen.pid);
  const value = await work();
  const end = markCpu(ctx.server.pid, ctx.loadgen.pid);
  const after = await deliveryCounters(ctx.server);
  return { value, cpu: cpuBetween(start, end), perWrite: perWrite(before, after) };
}


async function addClients(ctx: ScenarioContext, count: number, topic: string, transport: 'websocket' | 'sse' = 'websocket'): Promise<void> {
  await ctx.loadgen.register({ count, topics: [topic], concurrency: ctx.scale.concurrency });
  const connected = await ctx.loadgen.connect({ concurrency: CONNECT_CONCURRENCY, sourceAddresses: SOURCE_ADDRESSES, transport });
  if (connected.failed > 0) throw new Error(`${connected.failed} ${transport === 'sse' ? 'SSE streams' : 'WebSocket upgrades'} failed: ${connected.firstError ?? ''}`);
}


/** The fan-out scenario; `sse`: the same with Server-Sent Events subscribers (compare the two in one run). */
async function fanout(ctx: ScenarioContext, transport: 'websocket' | 'sse' = 'websocket'): Promise<CaseResult[]> {
  const { scale } = ctx;
  const cases: CaseResult[] = [];
  const scenario = transport === 'sse' ? 'fanout-sse' : 'fanout';
  let connected = 0;
  for (const size of scale.fanoutSizes) {
    ctx.progress(`connecting ${size} subscribers`);
    await addClients(ctx, size - connected, TOPIC, transport);
    connected = size;
    const publishes = Math.max(scale.fanoutMinPublishes, Math.round(scale.fanoutDeliveries / size));
    const burst = {
      type: 'fanout' as const,
      topic: TOPIC,
      concurrency: scale.concurrency,
      payloadBytes: scale.payloadBytes,
      sampleEvery: Math.max(1, Math.floor(size / 50)),
      idleTimeoutMs: scale.idleTimeoutMs,
    };
    ctx.progress(`warm-up S=${size}`);
    await ctx.loadgen.deliver({ ...burst, publishes: 10 });
    ctx.progress(`burst of ${publishes} publishes to S=${size}`);
    const { value, cpu, perWrite: writeMetrics } = await measure(ctx, () => ctx.loadgen.deliver({ ...burst, publishes }));
    cases.push({
      name: `${scenario} S=${size}`,
      scenario,
      metrics: { ...deliveryMetrics(value, cpu), ...writeMetrics, connections: size },
      window: windowOf(cpu),
    });
  }
  return cases;
}

async function unicast(ctx: ScenarioContext): Promise<CaseResult[]> {
  const { scale } = ctx;
  ctx.progress(`connecting ${scale.unicastUsers} users`);
  await addClients(ctx, scale.unicastUsers, 'direct');
  const base = {
    type: 'unicast' as const,
    topic: 'direct',
    concurrency: scale.concurrency,
    payloadBytes: scale.payloadBytes,
    idleTimeoutMs: scale.idleTimeoutMs,
  };
  const cases: CaseResult[] = [];
  for (const batchSize of [1, scale.batchSize]) {
    const publishes = batchSize === 1 ? scale.unicastPublishes : scale.batchPublishes;
    ctx.progress(`warm-up unicast, batch ${batchSize}`);
    await ctx.loadgen.deliver({ ...base, batchSize, publishes: Math.min(publishes, batchSize * 200) });
    ctx.progress(`${publishes} unicast publishes, batch ${batchSize}`);
    const { value, cpu, perWrite: writeMetrics } = await measure(ctx, () => ctx.loadgen.deliver({ ...base, batchSize, publishes }));
    const name = batchSize === 1 ? `unicast U=${scale.unicastUsers}` : `unicast batch=${batchSize} U=${scale.unicastUsers}`;
    cases.push({
      name,
      scenario: 'unicast',
      metrics: { ...deliveryMetrics(value, cpu), ...writeMetrics, connections: scale.unicastUsers },
      window: windowOf(cpu),
    });
  }
  return cases;
}

async function latency(ctx: ScenarioContext): Promise<CaseResult[]> {
  const { scale } = ctx;
  ctx.progress(`connecting ${scale.latencySubscribers} subscribers`);
  await addClients(ctx, scale.latencySubscribers, TOPIC);
  const steady = {
    type: 'steady' as const,
    topic: TOPIC,
    ratePerSecond: scale.latencyRate,
    payloadBytes: scale.payloadBytes,
    idleTimeoutMs: scale.idleTimeoutMs,
  };
  await ctx.loadgen.deliver({ ...steady, durationMs: 500 });
  ctx.progress(`${scale.latencyRate} msg/s for ${scale.latencyDurationMs / 1000} s`);
  const { value, cpu, perWrite: writeMetrics } = await measure(ctx, () => ctx.loadgen.deliver({ ...steady, durationMs: scale.latencyDurationMs }));
  const name = `latency ${scale.latencyRate} msg/s S=${scale.latencySubscribers}`;
  return [
    {
      name,
      scenario: 'latency',
      metrics: { ...deliveryMetrics(value, cpu), ...writeMetrics, connections: scale.latencySubscribers },
      window: windowOf(cpu),
    },
  ];
}

async function idle(ctx: ScenarioContext): Promise<CaseResult[]> {
  const { scale, server } = ctx;
  const cases: CaseResult[] = [];
  // Each size gets a fresh count from the same server, so only the largest that fits is run
  // after the smaller ones; the sizes are cumulative (10,000 then 90,000 more).
  let connected = 0;
  for (const size of scale.idleSizes) {
    const needed = size + 200;
    const serverLimit = openFileLimit(server.pid);
    const loadgenLimit = ctx.loadgen.openFileLimit;
    if (serverLimit < needed || loadgenLimit < needed) {
      const reason =
        `needs ${needed} open files per process; RLIMIT_NOFILE is ${serverLimit} (server) / ${loadgenLimit} ` +
        '(load generator) and the hard limit cannot be raised here';
      cases.push({ name: `idle N=${size}`, scenario: 'idle', metrics: {}, skipped: reason });
      continue;
    }
    const rssBefore = rssKiB(server.pid);
    ctx.progress(`registering ${size - connected} clients`);
    const reg = await measure(ctx, () =>
      ctx.loadgen.register({ count: size - connected, topics: [TOPIC], concurrency: scale.concurrency }),
    );
    ctx.progress(`opening ${size - connected} WebSockets`);
    const up = await measure(ctx, () => ctx.loadgen.connect({ concurrency: CONNECT_CONCURRENCY, sourceAddresses: SOURCE_ADDRESSES }));
    if (up.value.failed > 0) throw new Error(`${up.value.failed} WebSocket upgrades failed: ${up.value.firstError ?? ''}`);
    const added = size - connected;
    connected = size;
    ctx.progress(`idle with ${size} connections`);
    await new Promise((r) => setTimeout(r, scale.settleMs));
    const rssAfter = rssKiB(server.pid);
    cases.push({
      name: `idle N=${size}`,
      scenario: 'idle',
      metrics: { connections: size, rssMiB: rssAfter / 1024, rssPerConnectionKiB: (rssAfter - rssBefore) / added },
    });
    const cpuUs = reg.cpu.serverUs + up.cpu.serverUs;
    const wallMs = reg.cpu.wallMs + up.cpu.wallMs;
    cases.push({
      name: `connect N=${size}`,
      scenario: 'idle',
      metrics: {
        connections: added,
        throughput: added / (wallMs / 1000),
        serverUsPerConnection: cpuUs / added,
        serverUsPerRegister: reg.cpu.serverUs / added,
        serverUsPerUpgrade: up.cpu.serverUs / added,
        serverCpuPct: (cpuUs / 1000 / wallMs) * 100,
        loadgenCpuPct: ((reg.cpu.loadgenUs + up.cpu.loadgenUs) / 1000 / wallMs) * 100,
        wallMs,
      },
      window: { startUs: reg.cpu.startMonoUs, endUs: up.cpu.endMonoUs },
    });
  }
  return cases;
}

export function runScenario(name: ScenarioName, ctx: ScenarioContext): Promise<CaseResult[]> {
  switch (name) {
    case 'fanout':
      return fanout(ctx);
    case 'fanout-sse':
      return fanout(ctx, 'sse');
    case 'unicast':
      return unicast(ctx);
    case 'latency':
      return latency(ctx);
    case 'idle':
      return idle(ctx);
    case 'cluster':
      // Several servers and a Redis: bench/cluster.ts starts its own processes (run.ts calls it).
      return Promise.reject(new Error('the cluster scenario is run by bench/cluster.ts, not against one server'));
    case 'storm':
      // Restarts its node and starts Redis: bench/storm.ts owns its processes (run.ts calls it).
      return Promise.reject(new Error('the storm scenario is run by bench/storm.ts, not against one server'));
  }
}
