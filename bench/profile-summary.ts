// Summarizes a V8 .cpuprofile (node --cpu-prof) as self time per function and per file, the
// view used to write the profiling notes in BENCHMARKS.md.
//
//   node dist/bench/run.js --scenarios fanout --target herald --runs 1 --node-flags "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   node dist/bench/profile-summary.js /tmp/prof/CPU.*.cpuprofile [--top 30] [--report bench/results/latest.json --case "fanout S=5000"]
// With --report and --case, only the samples inside that case's measured window count (the
// report stores each window on CLOCK_MONOTONIC, the clock of .cpuprofile timestamps).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BenchReport } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function table(title: string, totals: Map<string, number>, all: number, top: number): string {
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = rows.map(([name, us]) => `${((us / all) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  return `${title}\n${lines.join('\n')}\n`;
}

/** The windows of a case in a report (one per run and target). */
function windowsOf(reportFile: string, caseName: string): Array<{ startUs: number; endUs: number }> {
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as BenchReport;
  return report.runs.flatMap((r) => r.cases.filter((c) => c.name === caseName && c.window !== undefined).map((c) => c.window!));
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' }, report: { type: 'string' }, case: { type: 'string' } },
});
const top = Number(values.top);
const windows = values.report !== undefined && values.case !== undefined ? windowsOf(values.report, values.case) : null;
if (windows !== null && windows.length === 0) throw new Error(`no window for case "${values.case ?? ''}" in ${values.report ?? ''}`);
for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfTime = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windows !== null && !windows.some((w) => at >= w.startUs && at <= w.endUs)) return;
    selfTime.set(id, (selfTime.get(id) ?? 0) + delta);
  });
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let busy = 0;
  let all = 0;
  for (const [id, us] of selfTime) {
    const node = byId.get(id);
    if (node === undefined) continue;
    all += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const f = functionName.startsWith('(') ? functionName : shortUrl(url);
    byFile.set(f, (byFile.get(f) ?? 0) + us);
  }
  if (all === 0) {
    process.stdout.write(`${file}: no samples in the window(s)\n`);
    continue;
  }
  process.stdout.write(`${file}: ${(all / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle\n\n`);
  process.stdout.write(table('self time by file', byFile, busy, top));
  process.stdout.write('\n');
  process.stdout.write(table('self time by function', byFunction, busy, top));
}
