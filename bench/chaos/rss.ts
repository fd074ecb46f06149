// Each node's resident memory over the run, and how fast it grows: the least-squares slope of
// RSS against time over each process's life (a restart starts a new process, and a new line).

export interface RssSample {
  readonly node: string;
  readonly pid: number;
  /** Seconds since the chaos began. */
  readonly t: number;
  readonly rssMiB: number;
  /** The node's open sockets (GET /health), when it answered within the second. */
  connections: number | null;
}

export interface RssSlope {
  readonly node: string;
  readonly pid: number;
  readonly fromS: number;
  readonly toS: number;
  readonly firstMiB: number;
  readonly lastMiB: number;
  readonly maxMiB: number;
  readonly lastConnections: number | null;
  /** Growth in MiB per minute over this process's samples (null: too few). */
  readonly miBPerMinute: number | null;
}

function slope(points: readonly RssSample[]): number | null {
  if (points.length < 10) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.rssMiB, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mx) * (p.rssMiB - my);
    den += (p.t - mx) ** 2;
  }
  return den === 0 ? null : (num / den) * 60;
}

/** One line per node process (node id + PID), in the order they first appear. */
export function rssSlopes(samples: readonly RssSample[]): RssSlope[] {
  const groups = new Map<string, RssSample[]>();
  for (const s of samples) {
    const key = `${s.node}:${s.pid}`;
    let list = groups.get(key);
    if (list === undefined) groups.set(key, (list = []));
    list.push(s);
  }
  return [...groups.values()].map((list) => {
    const first = list[0]!;
    const last = list[list.length - 1]!;
    return {
      node: first.node,
      pid: first.pid,
      fromS: first.t,
      toS: last.t,
      firstMiB: first.rssMiB,
      lastMiB: last.rssMiB,
      maxMiB: Math.max(...list.map((s) => s.rssMiB)),
      lastConnections: [...list].reverse().find((s) => s.connections !== null)?.connections ?? null,
      miBPerMinute: slope(list),
    };
  });
}
