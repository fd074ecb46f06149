// The benchmark's JSON report: every run's raw cases, and per case the median over runs for
// each target with Herald / baseline ratios.
import { cpus, release } from 'node:os';
import { execFileSync } from 'node:child_process';
import { metricInfo, worstCaseMetrics, type MetricName, type Metrics } from './metrics.js';
import { median } from './stats.js';
import type { CaseResult, ScenarioName } from './scenarios.js';
import type { Target } from './servers.js';

export interface RunRecord {
  readonly run: number;
  readonly target: Target;
  readonly scenario: ScenarioName;
  readonly cases: readonly CaseResult[];
  readonly error?: string;
}

export interface CaseSummary {
  readonly name: string;
  readonly scenario: ScenarioName;
  /** Median of each metric over the runs; loss counters are the worst run instead. */
  readonly medians: Partial<Record<Target, Metrics>>;
  readonly runs: Partial<Record<Target, number>>;
  /** Herald / baseline for every metric both have (below 1 is better for costs). */
  readonly ratios: Metrics;
  readonly skipped?: string;
}

export interface BenchReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  /** The commit Herald was built from, and whether src/ had uncommitted changes at the time. */
  readonly source: { readonly commit: string; readonly srcDirty: boolean };
  readonly machine: {
    readonly cpus: number;
    readonly model: string;
    readonly node: string;
    readonly kernel: string;
    readonly openFileLimit: number;
  };
  readonly options: {
    readonly quick: boolean;
    readonly runs: number;
    readonly scenarios: readonly ScenarioName[];
    readonly targets: readonly Target[];
  };
  readonly summary: readonly CaseSummary[];
  readonly runs: readonly RunRecord[];
  readonly errors: readonly string[];
}

function summarizeMetrics(samples: readonly Metrics[]): Metrics {
  const out: Metrics = {};
  for (const name of Object.keys(metricInfo) as MetricName[]) {
    const values = samples.map((m) => m[name]).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    const value = worstCaseMetrics.includes(name) ? Math.max(...values) : median(values);
    if (value !== null) out[name] = value;
  }
  return out;
}

export function summarize(records: readonly RunRecord[]): CaseSummary[] {
  const order: string[] = [];
  const byCase = new Map<string, { scenario: ScenarioName; samples: Map<Target, Metrics[]>; skipped?: string }>();
  for (const record of records) {
    for (const c of record.cases) {
      let entry = byCase.get(c.name);
      if (entry === undefined) {
        entry = { scenario: c.scenario, samples: new Map() };
        byCase.set(c.name, entry);
        order.push(c.name);
      }
      if (c.skipped !== undefined) {
        entry.skipped = c.skipped;
        continue;
      }
      const list = entry.samples.get(record.target) ?? [];
      list.push(c.metrics);
      entry.samples.set(record.target, list);
    }
  }
  return order.map((name) => {
    const entry = byCase.get(name)!;
    const medians: Partial<Record<Target, Metrics>> = {};
    const runs: Partial<Record<Target, number>> = {};
    for (const [target, samples] of entry.samples) {
      medians[target] = summarizeMetrics(samples);
      runs[target] = samples.length;
    }
    const ratios: Metrics = {};
    const herald = medians.herald;
    const baseline = medians.baseline;
    if (herald !== undefined && baseline !== undefined) {
      for (const metric of Object.keys(herald) as MetricName[]) {
        const h = herald[metric];
        const b = baseline[metric];
        if (h !== undefined && b !== undefined && b !== 0 && Number.isFinite(h / b)) ratios[metric] = h / b;
      }
    }
    const summary: CaseSummary = { name, scenario: entry.scenario, medians, runs, ratios };
    return entry.skipped !== undefined && entry.samples.size === 0 ? { ...summary, skipped: entry.skipped } : summary;
  });
}

export function machineInfo(openFileLimit: number): BenchReport['machine'] {
  const list = cpus();
  return { cpus: list.length, model: list[0]?.model ?? 'unknown', node: process.version, kernel: release(), openFileLimit };
}

export function sourceInfo(root: string): BenchReport['source'] {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return { commit, srcDirty: dirty };
  } catch {
    return { commit: 'unknown', srcDirty: false };
  }
}
