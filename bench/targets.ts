// The targets of the performance issues (issue 7's fan-out and latency, issue 18's connect,
// unicast, idle memory and reconnect storms), judged against each case's medians so that every
// run of `npm run bench` says which are met.
import { formatMetric, type MetricName } from './metrics.js';
import type { CaseSummary } from './report.js';

interface Target {
  /** Which cases: the case name starts with this. */
  readonly prefix: string;
  readonly metric: MetricName;
  readonly atMost?: number;
  readonly atLeast?: number;
  /** Herald's median must also be at most the baseline's, in the same run. */
  readonly belowBaseline?: boolean;
}

const targets: readonly Target[] = [
  { prefix: 'fanout S=5000', metric: 'serverUsPerDelivery', atMost: 0.5 },
  { prefix: 'unicast U=', metric: 'serverUsPerPublish', atMost: 25 },
  { prefix: 'unicast batch=100 ', metric: 'throughput', atLeast: 100_000 },
  { prefix: 'latency', metric: 'p99Ms', atMost: 10, belowBaseline: true },
  { prefix: 'idle N=10000', metric: 'rssPerConnectionKiB', atMost: 5 },
  { prefix: 'connect N=10000', metric: 'serverUsPerConnection', atMost: 90, belowBaseline: true },
  { prefix: 'storm', metric: 'lost', atMost: 0 },
];

function targetOf(c: CaseSummary): Target | undefined {
  return targets.find((t) => c.name.startsWith(t.prefix));
}

/** "≤ 25 µs" and whether the case meets it ("✅", "❌"), or empty strings when it has no target. */
export function judge(c: CaseSummary): { target: string; verdict: string } {
  const t = targetOf(c);
  if (t === undefined) return { target: '', verdict: '' };
  const bound = t.atMost !== undefined ? `≤ ${formatMetric(t.metric, t.atMost)}` : `≥ ${formatMetric(t.metric, t.atLeast)}`;
  const target = `${bound}${t.belowBaseline ? ' and ≤ baseline' : ''}`;
  const h = c.medians.herald?.[t.metric];
  if (h === undefined) return { target, verdict: '' };
  const b = c.medians.baseline?.[t.metric];
  const met = (t.atMost === undefined || h <= t.atMost) && (t.atLeast === undefined || h >= t.atLeast) && (!t.belowBaseline || b === undefined || h <= b);
  return { target, verdict: met ? '✅' : '❌' };
}
