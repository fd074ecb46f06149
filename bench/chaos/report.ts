// The chaos run's JSON report: the run's result with the machine, the command and the commit.
import { machineInfo, sourceInfo, type BenchReport } from '../report.js';
import { openFileLimit } from '../proc-stats.js';
import type { ChaosOptions, ChaosResult } from './chaos.js';

export interface ChaosReport {
  readonly version: 1;
  readonly command: string;
  readonly source: BenchReport['source'];
  readonly machine: BenchReport['machine'];
  readonly options: Omit<ChaosOptions, 'progress' | 'root' | 'dir'>;
  readonly result: ChaosResult;
}

export function chaosReport(root: string, command: string, options: ChaosOptions, result: ChaosResult): ChaosReport {
  const { progress: _p, root: _r, dir: _d, ...rest } = options;
  return { version: 1, command, source: sourceInfo(root), machine: machineInfo(openFileLimit()), options: rest, result };
}

/** A few lines for the terminal. */
export function chaosSummary(report: ChaosReport): string {
  const r = report.result;
  const s = (ms: number | null): string => (ms === null ? '–' : `${(ms / 1000).toFixed(2)} s`);
  const lines = [
    `chaos: ${r.seconds} s, ${r.faults.length} faults, ${r.clients.sdk} SDK + ${r.clients.plain} plain clients, ${r.publishes.total} publishes (${r.publishes.acked} acked, ${r.publishes.degraded} degraded, ${r.publishes.refused} refused, ${r.publishes.unknown} no answer)`,
    `SDK:   expected ${r.sdk.expected}, lost ${r.sdk.lost}, gaps reported ${r.sdk.reportedGaps}, duplicates ${r.sdk.duplicates}, order violations ${r.sdk.orderViolations}`,
    `plain: expected ${r.plain.expected}, lost ${r.plain.lost}, gaps reported ${r.plain.reportedGaps}, duplicates ${r.plain.duplicates} (at-least-once around a crash), order violations ${r.plain.orderViolations}`,
    ...Object.entries(r.recoveryByKind).map(
      ([k, v]) =>
        `recovery ${k.padEnd(13)} x${v.faults}: p50 ${s(v.p50Ms)} p99 ${s(v.p99Ms)} max ${s(v.maxMs)}` +
        (v.sdk === undefined ? '' : ` · SDK p50 ${s(v.sdk.p50Ms)} p99 ${s(v.sdk.p99Ms)} max ${s(v.sdk.maxMs)} · plain max ${s(v.plain.maxMs)}`),
    ),
    ...r.faults.map((f) => `  at ${f.at} s ${f.kind} ${f.target}: all recovered ${s(f.allRecoveredMs)} after its end; last: ${f.slowest.join(', ')}`),
    ...r.rss.slopes.filter((x) => x.miBPerMinute !== null).map((x) => `rss node ${x.node} pid ${x.pid}: ${x.firstMiB.toFixed(0)} -> ${x.lastMiB.toFixed(0)} MiB over ${(x.toS - x.fromS).toFixed(0)} s (${x.lastConnections ?? '?'} sockets at the end), slope ${x.miBPerMinute!.toFixed(2)} MiB/min`),
    ...[...r.sdk.examples, ...r.plain.examples].slice(0, 10),
  ];
  if (!r.drained) lines.push('NOT DRAINED: some SDK clients were not caught up 60 s after the last publish');
  lines.push(...r.notes.filter((n) => /plain clients were missing|CANCELLED/.test(n)));
  return lines.join('\n');
}
