// Renders a BenchReport as one self-contained HTML page: inline SVG bar charts (Herald next to
// the baseline) and a table of every case's medians. No scripts, no external assets.
import { judge } from './targets.js';
import { formatMetric, metricInfo, type MetricName } from './metrics.js';
import type { BenchReport, CaseSummary } from './report.js';
import type { Target } from './servers.js';

interface Chart {
  readonly title: string;
  readonly metric: MetricName;
  readonly scenario: CaseSummary['scenario'];
  readonly namePrefix?: string;
}

const charts: readonly Chart[] = [
  { title: 'Fan-out: server CPU per delivery (lower is better)', metric: 'serverUsPerDelivery', scenario: 'fanout' },
  { title: 'Fan-out: deliveries per second', metric: 'throughput', scenario: 'fanout' },
  { title: 'Fan-out over SSE: server CPU per delivery (lower is better; compare with WebSocket above)', metric: 'serverUsPerDelivery', scenario: 'fanout-sse' },
  { title: 'Unicast: server CPU per publish (lower is better)', metric: 'serverUsPerPublish', scenario: 'unicast' },
  { title: 'Unicast: messages per second', metric: 'throughput', scenario: 'unicast' },
  { title: 'Latency at moderate load: p99 (lower is better)', metric: 'p99Ms', scenario: 'latency' },
  { title: 'Idle: server RSS per connection (lower is better)', metric: 'rssPerConnectionKiB', scenario: 'idle', namePrefix: 'idle' },
  { title: 'Connect: server CPU per connection (lower is better)', metric: 'serverUsPerConnection', scenario: 'idle', namePrefix: 'connect' },
  { title: 'Cluster: deliveries per second, one Herald vs two sharing Redis', metric: 'throughput', scenario: 'cluster' },
  { title: 'Cluster: CPU per delivery of the first node (lower is better)', metric: 'serverUsPerDelivery', scenario: 'cluster' },
  { title: 'Reconnect storm: node listening again -> last client recovered (lower is better)', metric: 'recoveryMs', scenario: 'storm' },
  { title: 'Reconnect storm: new node CPU per reconnect (lower is better)', metric: 'serverUsPerReconnect', scenario: 'storm' },
];

// The storm scenario's figures, in a table of their own (they share few columns with the others).
const stormMetrics: readonly MetricName[] = [
  'connections',
  'recoveryMs',
  'notRecovered',
  'gaveUp',
  'reconnectP50Ms',
  'reconnectP99Ms',
  'downMs',
  'shutdownMs',
  'attempts',
  'attemptsPerClient',
  'refused503',
  'refusedOther',
  'failedTcp',
  'listenOverflows',
  'synRetransmits',
  'reconnects',
  'serverUsPerReconnect',
  'serverCpuPct',
  'steadyServerCpuPct',
  'serverPeakRssMiB',
  'redisUsedMemoryMiB',
  'loadgenCpuPct',
  'publishes',
  'deliveries',
  'lost',
  'lostWithNode',
  'duplicates',
  'outOfOrder',
  'unexpected',
  'unconfirmedDelivered',
  'publishRetries',
];

const colors: Record<Target, string> = { herald: '#2563eb', baseline: '#9ca3af' };
const tableMetrics: readonly MetricName[] = [
  'throughput',
  'lost',
  'serverUsPerDelivery',
  'serverUsPerPublish',
  'serverUsPerConnection',
  'p50Ms',
  'p99Ms',
  'maxMs',
  'rssPerConnectionKiB',
  'messagesPerWrite',
  'serverCpuPct',
  'loadgenCpuPct',
  'scaleRatio',
  'node2UsPerDelivery',
  'node2CpuPct',
  'redisCpuPct',
  'machineCpuPct',
  'othersCpuPct',
];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function barChart(chart: Chart, cases: readonly CaseSummary[]): string {
  const rows = cases.filter(
    (c) => c.scenario === chart.scenario && (chart.namePrefix === undefined || c.name.startsWith(chart.namePrefix)),
  );
  const bars: Array<{ label: string; target: Target; value: number }> = [];
  for (const c of rows) {
    for (const target of ['herald', 'baseline'] as const) {
      const value = c.medians[target]?.[chart.metric];
      if (value !== undefined && Number.isFinite(value)) bars.push({ label: c.name, target, value });
    }
  }
  if (bars.length === 0) return '';
  const max = Math.max(...bars.map((b) => b.value)) || 1;
  const rowHeight = 22;
  const labelWidth = 300;
  const plotWidth = 420;
  const height = bars.length * rowHeight + 10;
  const parts = bars.map((bar, i) => {
    const y = i * rowHeight + 5;
    const width = Math.max(1, (bar.value / max) * plotWidth);
    const label = `${bar.label} · ${bar.target}`;
    return (
      `<text x="${labelWidth - 6}" y="${y + 14}" text-anchor="end">${escape(label)}</text>` +
      `<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${rowHeight - 6}" fill="${colors[bar.target]}"/>` +
      `<text x="${labelWidth + width + 4}" y="${y + 14}">${escape(formatMetric(chart.metric, bar.value))}</text>`
    );
  });
  return (
    `<figure><figcaption>${escape(chart.title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 110}" height="${height}" font-size="12" font-family="system-ui, sans-serif">` +
    `${parts.join('')}</svg></figure>`
  );
}

function stormTable(report: BenchReport): string {
  const cases = report.summary.filter((c) => c.scenario === 'storm');
  if (cases.length === 0) return '';
  const head = `<tr><th>case</th><th>runs</th>${stormMetrics.map((m) => `<th>${escape(metricInfo[m].label)}</th>`).join('')}</tr>`;
  const rows = cases.map((c) => {
    const m = c.medians.herald ?? {};
    const cells = stormMetrics.map((name) => {
      const bad = ['lost', 'duplicates', 'outOfOrder', 'notRecovered', 'gaveUp'].includes(name) && (m[name] ?? 0) > 0;
      return `<td${bad ? ' class="bad"' : ''}>${escape(formatMetric(name, m[name]))}</td>`;
    });
    return `<tr><td>${escape(c.name)}</td><td>${c.runs.herald ?? 0}</td>${cells.join('')}</tr>`;
  });
  return (
    '<h2>Reconnect storm (medians; lost, duplicates, out of order and not recovered are the worst run)</h2>' +
    '<p>One Herald node (core 0) under N clients (load generator, core 1), each holding one room; publishes to the rooms ' +
    'go on throughout and are retried while the node is down. The node is stopped (SIGTERM, then SIGKILL in the same case) and ' +
    'started on the same port; a client has recovered when the new node sent it <code>recovered</code> for its room. ' +
    'SDK: HeraldClient with its default backoff (500 ms doubling to 30 s, full jitter); no backoff: raw herald.v1 sockets ' +
    'that reconnect at once. Memory engine: connection tokens; Redis: registrations.</p>' +
    `<table>${head}${rows.join('')}</table>`
  );
}

function caseTable(report: BenchReport): string {
  const head = `<tr><th>case</th><th>server</th><th>runs</th><th>goal (issues 7, 18)</th>${tableMetrics
    .map((m) => `<th>${escape(metricInfo[m].label)}</th>`)
    .join('')}</tr>`;
  const body = report.summary.filter((c) => c.scenario !== 'storm').flatMap((c) => {
    if (c.skipped !== undefined) return [`<tr><td>${escape(c.name)}</td><td colspan="${tableMetrics.length + 3}">skipped: ${escape(c.skipped)}</td></tr>`];
    const goal = judge(c);
    const lines: string[] = [];
    for (const target of ['herald', 'baseline'] as const) {
      const m = c.medians[target];
      if (m === undefined) continue;
      const cells = tableMetrics.map((name) => {
        const bad = name === 'lost' && (m.lost ?? 0) > 0;
        return `<td${bad ? ' class="bad"' : ''}>${escape(formatMetric(name, m[name]))}</td>`;
      });
      const goalCell = target === 'herald' ? `${escape(goal.target)} ${goal.verdict}` : '';
      lines.push(`<tr><td>${escape(c.name)}</td><td>${target}</td><td>${c.runs[target] ?? 0}</td><td>${goalCell}</td>${cells.join('')}</tr>`);
    }
    if (Object.keys(c.ratios).length > 0) {
      const cells = tableMetrics.map((name) => {
        const r = c.ratios[name];
        return `<td>${r === undefined || name === 'lost' ? '' : `${r.toFixed(r < 0.1 ? 3 : 2)}×`}</td>`;
      });
      lines.push(`<tr class="ratio"><td>${escape(c.name)}</td><td>herald / baseline</td><td></td><td></td>${cells.join('')}</tr>`);
    }
    return lines;
  });
  return `<table>${head}${body.join('')}</table>`;
}

export function renderHtml(report: BenchReport): string {
  const m = report.machine;
  const figures = charts.map((chart) => barChart(chart, report.summary)).join('');
  const errors = report.errors.length > 0 ? `<h2>Errors</h2><ul>${report.errors.map((e) => `<li>${escape(e)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald benchmark</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#111}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}tr.ratio td{color:#555;font-style:italic;border-bottom:2px solid #999}
td.bad{background:#fecaca}figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
</style></head><body>
<h1>Herald benchmark</h1>
<p>${escape(report.startedAt)} · ${m.cpus} × ${escape(m.model)} · Node ${escape(m.node)} · Linux ${escape(m.kernel)} ·
${report.options.runs} run(s), medians${report.options.quick ? ' · <b>--quick</b> (small sizes)' : ''}<br>
<code>${escape(report.command)}</code>${report.source === undefined ? '' : ` · Herald at ${escape(report.source.commit)}${report.source.srcDirty ? ' + uncommitted src/ changes' : ''}`}</p>
<p class="legend">Server pinned to core 0, load generator to core 1; server CPU from /proc/PID/stat over each measured phase.
<span style="background:${colors.herald}"></span>Herald<span style="background:${colors.baseline}"></span>baseline (naive, bench/baseline-server.ts)</p>
${figures}
<h2>All cases (medians; loss counters are the worst run)</h2>
${caseTable(report)}
${stormTable(report)}
${errors}
</body></html>
`;
}
