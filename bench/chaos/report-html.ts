// The chaos report as one self-contained HTML page: each node's RSS over time (SVG lines, a
// mark at each fault), the loss counters, and a table of what each fault cost.
import type { ChaosReport } from './report.js';

const nodeColors: Record<string, string> = { a: '#2563eb', b: '#16a34a', c: '#dc2626' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const ms = (v: number | null): string => (v === null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);

function rssChart(report: ChaosReport): string {
  const { samples } = report.result.rss;
  if (samples.length === 0) return '';
  const width = 900;
  const height = 280;
  const pad = { left: 50, right: 20, top: 10, bottom: 30 };
  const maxT = Math.max(1, ...samples.map((s) => s.t));
  const maxY = Math.max(1, ...samples.map((s) => s.rssMiB)) * 1.1;
  const x = (t: number): number => pad.left + (t / maxT) * (width - pad.left - pad.right);
  const y = (v: number): number => height - pad.bottom - (v / maxY) * (height - pad.top - pad.bottom);
  const lines = new Map<string, string[]>();
  for (const s of samples) {
    const key = `${s.node}:${s.pid}`;
    const list = lines.get(key) ?? [];
    list.push(`${x(s.t).toFixed(1)},${y(s.rssMiB).toFixed(1)}`);
    lines.set(key, list);
  }
  const paths = [...lines].map(([key, pts]) => `<polyline fill="none" stroke="${nodeColors[key.split(':')[0] ?? ''] ?? '#555'}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
  const marks = report.result.faults.map(
    (f) => `<line x1="${x(f.at).toFixed(1)}" x2="${x(f.at).toFixed(1)}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="#999" stroke-dasharray="3,3"/><text x="${(x(f.at) + 2).toFixed(1)}" y="${pad.top + 10}" font-size="9" fill="#666">${escape(f.kind)}</text>`,
  );
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${pad.left - 4}" y="${y(maxY * f).toFixed(1)}" text-anchor="end" font-size="10">${(maxY * f).toFixed(0)}</text>`);
  const xticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(maxT * f).toFixed(1)}" y="${height - 10}" text-anchor="middle" font-size="10">${Math.round(maxT * f)} s</text>`);
  const legend = Object.entries(nodeColors).map(([n, c]) => `<span style="background:${c}"></span>node ${n}`).join('');
  return `<figure><figcaption>RSS of each node (MiB) over the run; dashed: faults (a restarted node is a new line)</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif">${marks.join('')}${paths.join('')}${ticks.join('')}${xticks.join('')}</svg>
<p class="legend">${legend}</p></figure>`;
}

export function renderChaosHtml(report: ChaosReport): string {
  const r = report.result;
  const lossRow = (name: string, c: typeof r.sdk): string =>
    `<tr><td>${name}</td><td>${c.expected}</td><td${c.lost > 0 ? ' class="bad"' : ''}>${c.lost}</td><td>${c.reportedGaps}</td><td${c.duplicates > 0 && name === 'SDK' ? ' class="bad"' : ''}>${c.duplicates}</td><td${c.orderViolations > 0 ? ' class="bad"' : ''}>${c.orderViolations}</td><td>${c.unacknowledgedReceived}</td></tr>`;
  const faultRows = r.faults.map(
    (f) =>
      `<tr><td>${f.at} s</td><td>${escape(f.kind)}</td><td>${escape(f.target)}</td><td>${ms(f.durationMs)}</td><td>${ms(f.recovery.p50Ms)}</td><td>${ms(f.recovery.p99Ms)}</td><td>${ms(f.recovery.maxMs)}</td><td>${ms(f.allRecoveredMs)}</td><td>${f.connectionsLost ?? '–'}</td><td>${f.publishes.acked}</td><td>${f.publishes.degraded}</td><td>${f.publishes.refused}</td><td>${f.publishes.unknown}</td><td>${escape(f.detail)}</td><td>${escape(f.slowest.join(', '))}</td></tr>`,
  );
  const kindRows = Object.entries(r.recoveryByKind).map(
    ([kind, s]) =>
      `<tr><td>${escape(kind)}</td><td>${s.faults}</td><td>${ms(s.p50Ms)}</td><td>${ms(s.p99Ms)}</td><td>${ms(s.maxMs)}</td>` +
      `<td>${ms(s.sdk?.p50Ms ?? null)}</td><td>${ms(s.sdk?.p99Ms ?? null)}</td><td>${ms(s.sdk?.maxMs ?? null)}</td><td>${ms(s.plain?.maxMs ?? null)}</td></tr>`,
  );
  const slopeRows = r.rss.slopes.map(
    (s) => `<tr><td>${s.node}</td><td>${s.pid}</td><td>${s.fromS.toFixed(0)}–${s.toS.toFixed(0)} s</td><td>${s.firstMiB.toFixed(1)}</td><td>${s.lastMiB.toFixed(1)}</td><td>${s.maxMiB.toFixed(1)}</td><td>${s.lastConnections ?? '–'}</td><td>${s.miBPerMinute === null ? '–' : s.miBPerMinute.toFixed(2)}</td></tr>`,
  );
  const p = r.publishes;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Herald chaos run</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#111}
table{border-collapse:collapse;font-size:13px;margin:.5rem 0 1.5rem}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
td:first-child,th{text-align:left}td.bad{background:#fecaca}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
</style></head><body>
<h1>Herald chaos run</h1>
<p>${escape(r.startedAt)} · ${r.seconds} s of faults · ${report.machine.cpus} × ${escape(report.machine.model)} · Node ${escape(report.machine.node)} · Herald at ${escape(report.source.commit)}${report.source.srcDirty ? ' + uncommitted src/ changes' : ''}<br>
<code>${escape(report.command)}</code></p>
<p>3 Herald nodes on one redis-server, behind nginx (examples/nginx.conf); ${r.clients.sdk} herald.v1 clients (SDK) and ${r.clients.plain} plain clients of ${r.clients.users} users on ${r.clients.rooms} rooms + ${r.clients.inboxes} user-addressed inboxes.
Publishes: ${p.total} (${p.acked} acknowledged with an offset, ${p.degraded} degraded, ${p.refused} refused, ${p.unknown} without an answer, ${p.skipped} not started). Drained at the end: ${r.drained ? 'yes' : '<b>no</b>'}.</p>
<h2>Loss, duplicates, order</h2>
<table><tr><th>clients</th><th>expected deliveries</th><th>lost</th><th>gaps reported (complete:false)</th><th>duplicates</th><th>order violations</th><th>received without an acknowledged publish</th></tr>
${lossRow('SDK', r.sdk)}${lossRow('plain', r.plain)}</table>
${[...r.sdk.examples, ...r.plain.examples].length > 0 ? `<ul>${[...r.sdk.examples, ...r.plain.examples].map((e) => `<li>${escape(e)}</li>`).join('')}</ul>` : ''}
<h2>Recovery by kind of fault (from the fault's end to each client caught up)</h2>
<table><tr><th>fault</th><th>times</th><th>p50</th><th>p99</th><th>max</th><th>SDK p50</th><th>SDK p99</th><th>SDK max</th><th>plain max</th></tr>${kindRows.join('')}</table>
<h2>Each fault</h2>
<table><tr><th>at</th><th>fault</th><th>target</th><th>lasted</th><th>p50</th><th>p99</th><th>max</th><th>all recovered</th><th>connections lost</th><th>publishes acked</th><th>degraded</th><th>refused</th><th>no answer</th><th>detail</th><th>last to recover</th></tr>${faultRows.join('')}</table>
${rssChart(report)}
<h2>RSS per node process</h2>
<table><tr><th>node</th><th>pid</th><th>samples</th><th>first MiB</th><th>last MiB</th><th>max MiB</th><th>sockets at the end</th><th>slope MiB/min</th></tr>${slopeRows.join('')}</table>
<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>
</body></html>
`;
}
