// The summary as a Markdown table (printed at the end of a run, pasted into BENCHMARKS.md).
import { formatMetric, type MetricName, type Metrics } from './metrics.js';
import type { BenchReport, CaseSummary } from './report.js';
import { judge } from './targets.js';

// The headline figure of each scenario, the one its target is written against.
const headline: Record<CaseSummary['scenario'], readonly MetricName[]> = {
  fanout: ['serverUsPerDelivery', 'throughput', 'messagesPerWrite'],
  'fanout-sse': ['serverUsPerDelivery', 'throughput', 'messagesPerWrite'],
  unicast: ['serverUsPerPublish', 'throughput', 'messagesPerWrite'],
  latency: ['p50Ms', 'p99Ms', 'maxMs', 'messagesPerWrite'],
  idle: ['rssPerConnectionKiB', 'serverUsPerConnection'],
  cluster: ['throughput', 'serverUsPerDelivery'],
  storm: ['recoveryMs', 'reconnectP99Ms', 'serverUsPerReconnect'],
};

function cell(name: MetricName, m: Metrics | undefined): string | null {
  const value = m?.[name];
  return value === undefined ? null : `${formatMetric(name, value)}`;
}

function describe(c: CaseSummary, m: Metrics | undefined): string {
  return headline[c.scenario]
    .map((name) => cell(name, m))
    .filter((s): s is string => s !== null)
    .join(' · ');
}

function ratio(c: CaseSummary): string {
  const r = headline[c.scenario]
    .map((name) => (c.ratios[name] === undefined ? null : `${(c.ratios[name] as number).toFixed(2)}×`))
    .filter((s): s is string => s !== null);
  return r.join(' · ');
}

/** The cluster scenario has no baseline but more processes: a table of its own. */
function clusterTable(cases: readonly CaseSummary[]): string[] {
  if (cases.length === 0) return [];
  const f = (name: MetricName, m: Metrics | undefined): string => formatMetric(name, m?.[name]);
  const lines = [
    '',
    '| cluster case | deliveries/s | two / one (ceiling) | CPU/delivery node a · b | node a msg/write | CPU % node a · b · redis · load gen | machine % · others % | lost |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const c of cases) {
    const m = c.medians.herald;
    lines.push(
      `| ${c.name} | ${f('throughput', m)} | ${f('scaleRatio', m)} (${f('ceilingRatio', m)}) | ${f('serverUsPerDelivery', m)} · ${f('node2UsPerDelivery', m)} | ${f('messagesPerWrite', m)} | ` +
        `${f('serverCpuPct', m)} · ${f('node2CpuPct', m)} · ${f('redisCpuPct', m)} · ${f('loadgenCpuPct', m)} | ${f('machineCpuPct', m)} · ${f('othersCpuPct', m)} | ${f('lost', m)} |`,
    );
  }
  return lines;
}

/** The storm scenario (Herald only): recovery after a restart under N clients, a table of its own. */
export function stormTable(cases: readonly CaseSummary[]): string[] {
  if (cases.length === 0) return [];
  const f = (name: MetricName, m: Metrics | undefined): string => formatMetric(name, m?.[name]);
  const lines = [
    '',
    '| storm case | target | all recovered after (node listening -> last) | per client p50 · p99 | attempts / client · 503s · no answer | listen-queue overflows (machine) | node CPU / reconnect · CPU % | node peak RSS · Redis used | down (signal -> listening) | lost · dup · out of order (of deliveries); gone with a memory node | load gen CPU |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of cases) {
    const m = c.medians.herald;
    const goal = judge(c);
    const notBack = (m?.notRecovered ?? 0) > 0 ? ` (**${f('notRecovered', m)} not recovered**)` : '';
    lines.push(
      `| ${c.name} | lost ${goal.target} ${goal.verdict} | ${f('recoveryMs', m)}${notBack} | ${f('reconnectP50Ms', m)} · ${f('reconnectP99Ms', m)} | ${f('attemptsPerClient', m)} · ${f('refused503', m)} · ${f('failedTcp', m)} | ${f('listenOverflows', m)} | ` +
        `${f('serverUsPerReconnect', m)} · ${f('serverCpuPct', m)} | ${f('serverPeakRssMiB', m)} · ${f('redisUsedMemoryMiB', m)} | ${f('downMs', m)} | ` +
        `${f('lost', m)} · ${f('duplicates', m)} · ${f('outOfOrder', m)} (of ${f('deliveries', m)}); ${f('lostWithNode', m)} | ${f('loadgenCpuPct', m)} |`,
    );
  }
  return lines;
}

export function renderMarkdown(report: BenchReport): string {
  const lines = [
    '| case | target | Herald (median) | baseline (median) | Herald / baseline | lost H / B | load gen CPU H / B |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const c of report.summary) {
    if (c.scenario === 'cluster' || c.scenario === 'storm') continue;
    if (c.skipped !== undefined) {
      lines.push(`| ${c.name} | | skipped: ${c.skipped} | | | | |`);
      continue;
    }
    const h = c.medians.herald;
    const b = c.medians.baseline;
    const lost = `${h?.lost ?? '–'} / ${b?.lost ?? '–'}`;
    const loadgen = `${formatMetric('loadgenCpuPct', h?.loadgenCpuPct)} / ${formatMetric('loadgenCpuPct', b?.loadgenCpuPct)}`;
    const { target, verdict } = judge(c);
    lines.push(`| ${c.name} | ${target} ${verdict} | ${describe(c, h) || '–'} | ${describe(c, b) || '–'} | ${ratio(c)} | ${lost} | ${loadgen} |`);
  }
  lines.push(...clusterTable(report.summary.filter((c) => c.scenario === 'cluster')));
  lines.push(...stormTable(report.summary.filter((c) => c.scenario === 'storm')));
  return `${lines.join('\n')}\n`;
}
