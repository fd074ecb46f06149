// Every figure the benchmark reports, named once with its unit, so the JSON, the chart and
// BENCHMARKS.md agree on what a number means.
import type { DeliveryResult } from './loadgen-protocol.js';
import type { CpuWindow } from './proc-stats.js';
import type { DeliveryCounters } from './servers.js';

export const metricInfo = {
  throughput: { label: 'throughput', unit: '/s', lowerIsBetter: false, digits: 0 },
  publishes: { label: 'publishes', unit: '', lowerIsBetter: false, digits: 0 },
  deliveries: { label: 'deliveries expected', unit: '', lowerIsBetter: false, digits: 0 },
  lost: { label: 'lost', unit: '', lowerIsBetter: true, digits: 0 },
  unexpected: { label: 'unexpected deliveries', unit: '', lowerIsBetter: true, digits: 0 },
  orderMismatches: { label: 'subscribers seeing another order (sampled)', unit: '', lowerIsBetter: true, digits: 0 },
  httpErrors: { label: 'HTTP errors', unit: '', lowerIsBetter: true, digits: 0 },
  closedSockets: { label: 'sockets closed by server', unit: '', lowerIsBetter: true, digits: 0 },
  p50Ms: { label: 'latency p50', unit: 'ms', lowerIsBetter: true, digits: 2 },
  p99Ms: { label: 'latency p99', unit: 'ms', lowerIsBetter: true, digits: 2 },
  maxMs: { label: 'latency max', unit: 'ms', lowerIsBetter: true, digits: 2 },
  serverCpuMs: { label: 'server CPU', unit: 'ms', lowerIsBetter: true, digits: 0 },
  serverCpuPct: { label: 'server CPU (of one core)', unit: '%', lowerIsBetter: true, digits: 0 },
  serverUsPerDelivery: { label: 'server CPU per delivery', unit: 'µs', lowerIsBetter: true, digits: 3 },
  serverUsPerPublish: { label: 'server CPU per publish', unit: 'µs', lowerIsBetter: true, digits: 2 },
  serverUsPerConnection: { label: 'server CPU per connection', unit: 'µs', lowerIsBetter: true, digits: 1 },
  serverUsPerRegister: { label: 'server CPU per POST /register', unit: 'µs', lowerIsBetter: true, digits: 1 },
  serverUsPerUpgrade: { label: 'server CPU per WebSocket upgrade', unit: 'µs', lowerIsBetter: true, digits: 1 },
  messagesPerWrite: { label: 'messages per socket write (Herald only: its deliveries / socket writes, from /stats)', unit: 'msg/write', lowerIsBetter: false, digits: 1 },
  loadgenCpuPct: { label: 'load generator CPU (of one core)', unit: '%', lowerIsBetter: true, digits: 0 },
  loadgenUsPerDelivery: { label: 'load generator CPU per delivery', unit: 'µs', lowerIsBetter: true, digits: 3 },
  connections: { label: 'connections', unit: '', lowerIsBetter: false, digits: 0 },
  rssMiB: { label: 'server RSS', unit: 'MiB', lowerIsBetter: true, digits: 1 },
  rssPerConnectionKiB: { label: 'server RSS per connection', unit: 'KiB', lowerIsBetter: true, digits: 2 },
  wallMs: { label: 'wall time', unit: 'ms', lowerIsBetter: true, digits: 0 },
  // cluster scenario: serverUs*/serverCpuPct are the first node's; these are the rest of the picture.
  scaleRatio: { label: 'deliveries/s, two nodes / one node (Redis engine, same run)', unit: '×', lowerIsBetter: false, digits: 2 },
  node2UsPerDelivery: { label: 'second node CPU per delivery it made', unit: 'µs', lowerIsBetter: true, digits: 3 },
  node2CpuPct: { label: 'second node CPU (of one core)', unit: '%', lowerIsBetter: true, digits: 0 },
  redisCpuPct: { label: 'redis-server CPU (of one core)', unit: '%', lowerIsBetter: true, digits: 0 },
  redisUsPerPublish: { label: 'redis-server CPU per publish', unit: 'µs', lowerIsBetter: true, digits: 1 },
  allUsPerDelivery: { label: 'CPU of every Herald node + Redis per delivery', unit: 'µs', lowerIsBetter: true, digits: 3 },
  benchUsPerDelivery: { label: 'CPU of every process the benchmark started (nodes, Redis, load generator) per delivery', unit: 'µs', lowerIsBetter: true, digits: 3 },
  ceilingRatio: { label: 'most two nodes could reach on this machine: all cores / redis ×1 CPU per delivery, over redis ×1 deliveries/s', unit: '×', lowerIsBetter: false, digits: 2 },
  machineCpuPct: { label: 'whole machine CPU, all cores (100 % per core)', unit: '%', lowerIsBetter: true, digits: 0 },
  othersCpuPct: { label: 'CPU of processes the benchmark did not start', unit: '%', lowerIsBetter: true, digits: 0 },
  stealPct: { label: 'CPU stolen by the hypervisor', unit: '%', lowerIsBetter: true, digits: 0 },
  // storm scenario: N clients, the node restarted on the same port, all reconnect at once.
  recoveryMs: { label: 'storm: node listening again -> last client recovered', unit: 'ms', lowerIsBetter: true, digits: 0 },
  reconnectP50Ms: { label: 'storm: per-client time to recover after the node listens, p50', unit: 'ms', lowerIsBetter: true, digits: 0 },
  reconnectP99Ms: { label: 'storm: per-client time to recover after the node listens, p99', unit: 'ms', lowerIsBetter: true, digits: 0 },
  gaveUp: { label: 'storm: clients that stopped for good (a final close code, e.g. 4000 replaced)', unit: '', lowerIsBetter: true, digits: 0 },
  notRecovered: { label: 'storm: clients not recovered by the deadline', unit: '', lowerIsBetter: true, digits: 0 },
  downMs: { label: 'storm: signal sent -> new node listening', unit: 'ms', lowerIsBetter: true, digits: 0 },
  shutdownMs: { label: 'storm: signal sent -> old node exited', unit: 'ms', lowerIsBetter: true, digits: 0 },
  reconnects: { label: 'storm: connections welcomed by the new node', unit: '', lowerIsBetter: true, digits: 0 },
  attempts: { label: 'storm: connection attempts (from the signal on)', unit: '', lowerIsBetter: true, digits: 0 },
  attemptsPerClient: { label: 'storm: connection attempts per client', unit: '', lowerIsBetter: true, digits: 1 },
  refused503: { label: 'storm: attempts answered 503', unit: '', lowerIsBetter: false, digits: 0 },
  refusedOther: { label: 'storm: attempts answered another status', unit: '', lowerIsBetter: true, digits: 0 },
  failedTcp: { label: 'storm: attempts with no HTTP answer (node down)', unit: '', lowerIsBetter: true, digits: 0 },
  serverUsPerReconnect: { label: 'storm: new node CPU from listening to the last recovery, per reconnect', unit: 'µs', lowerIsBetter: true, digits: 0 },
  steadyServerCpuPct: { label: 'storm: node CPU before the restart (publishes only)', unit: '%', lowerIsBetter: true, digits: 0 },
  serverPeakRssMiB: { label: 'storm: new node peak RSS (VmHWM)', unit: 'MiB', lowerIsBetter: true, digits: 1 },
  redisUsedMemoryMiB: { label: 'storm: Redis used_memory after the storm', unit: 'MiB', lowerIsBetter: true, digits: 1 },
  lostWithNode: { label: 'storm: deliveries owed for messages the stopped node answered 200 but never wrote (memory engine: gone with it, not in lost)', unit: '', lowerIsBetter: true, digits: 0 },
  duplicates: { label: 'deliveries a client saw twice', unit: '', lowerIsBetter: true, digits: 0 },
  outOfOrder: { label: 'deliveries a client saw after a later one', unit: '', lowerIsBetter: true, digits: 0 },
  unconfirmedDelivered: { label: 'storm: delivered messages whose publish got no 200 (published after all)', unit: '', lowerIsBetter: false, digits: 0 },
  publishRetries: { label: 'storm: publish attempts retried (node down or refusing)', unit: '', lowerIsBetter: true, digits: 0 },
  listenOverflows: { label: 'storm: kernel listen-queue overflows, whole machine (connections dropped before accept)', unit: '', lowerIsBetter: true, digits: 0 },
  synRetransmits: { label: 'storm: SYNs sent again, whole machine', unit: '', lowerIsBetter: true, digits: 0 },
} as const;

export type MetricName = keyof typeof metricInfo;
export type Metrics = Partial<Record<MetricName, number>>;

/** Metrics whose worst run matters more than their median (a loss in any run is a loss). */
export const worstCaseMetrics: readonly MetricName[] = ['lost', 'unexpected', 'orderMismatches', 'httpErrors', 'closedSockets', 'notRecovered', 'gaveUp', 'duplicates', 'outOfOrder', 'lostWithNode'];

export function formatMetric(name: MetricName, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const info = metricInfo[name];
  const text = value.toLocaleString('en-US', { maximumFractionDigits: info.digits, minimumFractionDigits: 0 });
  return info.unit === '' || info.unit === '/s' ? text : `${text} ${info.unit}`;
}

/** The figures of a delivery phase: what arrived, and the server's and load generator's CPU. */
export function deliveryMetrics(result: DeliveryResult, cpu: Pick<CpuWindow, 'wallMs' | 'serverUs' | 'loadgenUs'>): Metrics {
  const seconds = result.durationMs / 1000;
  const metrics: Metrics = {
    throughput: result.delivered / seconds,
    publishes: result.publishes,
    deliveries: result.expected,
    lost: result.lost,
    unexpected: result.unexpected,
    orderMismatches: result.orderMismatches,
    httpErrors: result.httpErrors,
    closedSockets: result.closedSockets,
    serverCpuMs: cpu.serverUs / 1000,
    serverCpuPct: (cpu.serverUs / 1000 / cpu.wallMs) * 100,
    serverUsPerDelivery: cpu.serverUs / Math.max(1, result.delivered),
    serverUsPerPublish: cpu.serverUs / Math.max(1, result.publishes),
    loadgenCpuPct: (cpu.loadgenUs / 1000 / cpu.wallMs) * 100,
    loadgenUsPerDelivery: cpu.loadgenUs / Math.max(1, result.delivered),
    wallMs: cpu.wallMs,
  };
  if (result.latency !== null) {
    metrics.p50Ms = result.latency.p50Ms;
    metrics.p99Ms = result.latency.p99Ms;
    metrics.maxMs = result.latency.maxMs;
  }
  return metrics;
}

/** Messages per socket write over a phase, from Herald's counters before and after it. */
export function perWrite(before: DeliveryCounters | undefined, after: DeliveryCounters | undefined): Metrics {
  if (before === undefined || after === undefined) return {};
  const writes = after.socketWrites - before.socketWrites;
  return writes > 0 ? { messagesPerWrite: (after.deliveries - before.deliveries) / writes } : {};
}
