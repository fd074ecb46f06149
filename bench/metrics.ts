// Every figure the benchmark reports, named once with its unit, so the JSON, the chart and
// BENCHMARKS.md agree on what a number means.

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
  loadgenCpuPct: { label: 'load generator CPU (of one core)', unit: '%', lowerIsBetter: true, digits: 0 },
  loadgenUsPerDelivery: { label: 'load generator CPU per delivery', unit: 'µs', lowerIsBetter: true, digits: 3 },
  connections: { label: 'connections', unit: '', lowerIsBetter: false, digits: 0 },
  rssMiB: { label: 'server RSS', unit: 'MiB', lowerIsBetter: true, digits: 1 },
  rssPerConnectionKiB: { label: 'server RSS per connection', unit: 'KiB', lowerIsBetter: true, digits: 2 },
  wallMs: { label: 'wall time', unit: 'ms', lowerIsBetter: true, digits: 0 },
} as const;

export type MetricName = keyof typeof metricInfo;
export type Metrics = Partial<Record<MetricName, number>>;

/** Metrics whose worst run matters more than their median (a loss in any run is a loss). */
export const worstCaseMetrics: readonly MetricName[] = ['lost', 'unexpected', 'orderMismatches', 'httpErrors', 'closedSockets'];

export function formatMetric(name: MetricName, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const info = metricInfo[name];
  const text = value.toLocaleString('en-US', { maximumFractionDigits: info.digits, minimumFractionDigits: 0 });
  return info.unit === '' || info.unit === '/s' ? text : `${text} ${info.unit}`;
}
