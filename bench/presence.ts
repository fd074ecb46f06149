// The presence scenario (issue 14), Herald on Redis: two nodes sharing one redis-server.
//   join storm   10,000 plain clients of distinct users connect to one presence topic at once,
//                split over the nodes; a herald.v1 watcher counts join lines per frame, and each
//                node's largest event-loop stall is read from /metrics (nodejs_eventloop_lag_max_seconds,
//                reset by every scrape)
//   counts       GET /presence/:topic?members=false on a 10,000-member topic, one at a time: p50/p99
//   members      the full member list of that topic: time per request
//   leave storm  every client dropped at once: leave lines per frame, stalls
//   connect cost 2,000 clients connecting to a presence topic vs a topic without presence:
//                wall time and the nodes' CPU
// Run: npm run build && node dist/bench/presence.js [--users 10000]. Everything is started here
// and stopped by its PID.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { cpuMicros } from './proc-stats.js';
import { RawSubscriber } from './raw-ws-client.js';
import { startRedis } from './redis-process.js';
import { startServer, type RunningServer } from './servers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const USERS = arg('users', 10_000);
const CONNECT_COST_CLIENTS = arg('connect-clients', 2_000);
const COUNT_REQUESTS = arg('count-requests', 1_000);
const LIST_REQUESTS = arg('list-requests', 20);
/** `--no-presence`: the same storms on a topic without presence, to see what presence adds. */
const PRESENCE = !process.argv.includes('--no-presence');
const TOPIC = PRESENCE ? 'room.big' : 'plain.big';

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }));
  return out;
}

async function registerAll(node: RunningServer, prefix: string, count: number, topic: string): Promise<string[]> {
  return pool(Array.from({ length: count }, (_, i) => i), 32, async (i) => {
    const res = await fetch(`http://127.0.0.1:${node.port}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: `${prefix}${i}`, topics: [topic] }) });
    const body = (await res.json()) as { url: string };
    return new URL(body.url).pathname;
  });
}

/** The largest event-loop stall (ms) of a node since its last scrape. */
async function maxStallMs(node: RunningServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)/m.exec(text);
  return m ? round(Number(m[1]) * 1000, 1) : NaN;
}

/** A herald.v1 watcher: counts join/leave lines and the frames that carried them. */
class Watcher {
  joins = 0;
  leaves = 0;
  joinFrames = 0;
  leaveFrames = 0;
  readonly ws: WebSocket;
  constructor(url: string) {
    this.ws = new WebSocket(url, 'herald.v1');
    this.ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const j = countOf(text, '"type":"join"');
      const l = countOf(text, '"type":"leave"');
      this.joins += j;
      this.leaves += l;
      if (j > 0) this.joinFrames++;
      if (l > 0) this.leaveFrames++;
    });
  }
  reset(): void {
    this.joins = this.leaves = this.joinFrames = this.leaveFrames = 0;
  }
}

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

async function connectAll(nodes: RunningServer[], paths: string[], concurrency: number): Promise<RawSubscriber[]> {
  return pool(paths, concurrency, (path, i) => RawSubscriber.connect({ host: '127.0.0.1', port: nodes[i % nodes.length]!.port, path, localAddress: `127.0.0.${2 + (i % 8)}`, timeoutMs: 60_000 }));
}

async function waitForSubscribers(node: RunningServer, topic: string, n: number, atMost = false): Promise<void> {
  const end = performance.now() + 60_000;
  for (;;) {
    const body = (await (await fetch(`http://127.0.0.1:${node.port}/topics?limit=20`)).json()) as { topics: Array<{ topic: string; subscribers: number }> };
    const have = body.topics.find((t) => t.topic === topic)?.subscribers ?? 0;
    if (atMost ? have <= n : have >= n) return;
    if (performance.now() > end) throw new Error(`${topic} never reached ${n} subscribers: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(join(tmpdir(), 'herald-bench-presence-'));
  const redis = await startRedis(null);
  const nodes: RunningServer[] = [];
  const results: Record<string, unknown> = { users: USERS };
  try {
    for (const id of ['a', 'b']) {
      nodes.push(await startServer({ target: 'herald', root, core: null, logFile: join(logDir, `${id}.log`), nodeFlags: (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean), args: ['--redis-url', redis.url, '--node-id', id, '--presence-topics', 'room.*', '--max-connections', '100000', '--max-registrations-per-user', '10'] }));
    }
    const [a, b] = nodes as [RunningServer, RunningServer];
    const base = (n: RunningServer): string => `http://127.0.0.1:${n.port}`;

    // A herald.v1 watcher on B.
    const watcherPath = (await registerAll(b, 'watcher', 1, TOPIC))[0]!;
    const watcher = new Watcher(`ws://127.0.0.1:${b.port}${watcherPath}`);
    await new Promise((r) => watcher.ws.once('open', r));
    if (PRESENCE) await waitUntil('the watcher\'s own join', () => watcher.joins >= 1, 10_000);
    watcher.reset();

    process.stdout.write(`registering ${USERS} users...\n`);
    const paths = await registerAll(a, 'u', USERS, TOPIC);

    // Join storm.
    await Promise.all(nodes.map(maxStallMs));
    let t0 = performance.now();
    const clients = await connectAll(nodes, paths, 1000);
    if (PRESENCE) await waitUntil(`${USERS} joins at the watcher (have ${watcher.joins})`, () => watcher.joins >= USERS, 120_000);
    else await waitForSubscribers(a, TOPIC, USERS + 1);
    const joinMs = performance.now() - t0;
    const joinStalls = await Promise.all(nodes.map(maxStallMs));
    results['join storm'] = { ms: round(joinMs, 0), joins: watcher.joins, frames: watcher.joinFrames, users_per_frame: round(watcher.joins / watcher.joinFrames, 1), max_stall_ms: joinStalls };
    process.stdout.write(`join storm: ${JSON.stringify(results['join storm'])}\n`);

    if (!PRESENCE) {
      await Promise.all(nodes.map(maxStallMs));
      t0 = performance.now();
      for (const c of clients) c.destroy();
      await waitForSubscribers(a, TOPIC, 1, true);
      results['leave storm'] = { ms: round(performance.now() - t0, 0), max_stall_ms: await Promise.all(nodes.map(maxStallMs)) };
      process.stdout.write(`leave storm: ${JSON.stringify(results['leave storm'])}\n`);
      return;
    }
    // Counts and members of a 10,000-member topic.
    const counts: number[] = [];
    for (let i = 0; i < COUNT_REQUESTS; i++) {
      t0 = performance.now();
      const res = await fetch(`${base(nodes[i % 2]!)}/presence/${TOPIC}?members=false`);
      const body = (await res.json()) as { users: number };
      counts.push(performance.now() - t0);
      if (i === 0 && body.users !== USERS + 1) throw new Error(`expected ${USERS + 1} users, got ${JSON.stringify(body)}`);
    }
    counts.sort((x, y) => x - y);
    results['GET ?members=false'] = { requests: COUNT_REQUESTS, p50_ms: round(percentile(counts, 50)), p99_ms: round(percentile(counts, 99)), max_ms: round(counts[counts.length - 1]!) };
    const lists: number[] = [];
    let listed = 0;
    for (let i = 0; i < LIST_REQUESTS; i++) {
      t0 = performance.now();
      const res = await fetch(`${base(nodes[i % 2]!)}/presence/${TOPIC}`);
      const body = (await res.json()) as { members: unknown[] };
      lists.push(performance.now() - t0);
      listed = body.members.length;
    }
    lists.sort((x, y) => x - y);
    results['GET full list'] = { requests: LIST_REQUESTS, members: listed, p50_ms: round(percentile(lists, 50)), max_ms: round(lists[lists.length - 1]!) };
    process.stdout.write(`counts: ${JSON.stringify(results['GET ?members=false'])}\nlist: ${JSON.stringify(results['GET full list'])}\n`);

    // Leave storm.
    await Promise.all(nodes.map(maxStallMs));
    t0 = performance.now();
    for (const c of clients) c.destroy();
    await waitUntil(`${USERS} leaves at the watcher (have ${watcher.leaves})`, () => watcher.leaves >= USERS, 120_000);
    const leaveStalls = await Promise.all(nodes.map(maxStallMs));
    results['leave storm'] = { ms: round(performance.now() - t0, 0), leaves: watcher.leaves, frames: watcher.leaveFrames, users_per_frame: round(watcher.leaves / watcher.leaveFrames, 1), max_stall_ms: leaveStalls };
    process.stdout.write(`leave storm: ${JSON.stringify(results['leave storm'])}\n`);
    watcher.ws.close();

    // Connect cost, presence on vs off, alternated to even out the machine's noise.
    const cost: Record<string, { ms: number[]; cpu_ms: number[] }> = { presence: { ms: [], cpu_ms: [] }, none: { ms: [], cpu_ms: [] } };
    for (let round_ = 0; round_ < 3; round_++) {
      for (const [label, topic] of [['presence', `room.c${round_}`], ['none', `plain.c${round_}`]] as const) {
        const p = await registerAll(a, `${label}${round_}-`, CONNECT_COST_CLIENTS, topic);
        const cpu0 = nodes.map((n) => cpuMicros(n.pid));
        t0 = performance.now();
        const cs = await connectAll(nodes, p, 200);
        // Joined everywhere: the cluster view counts every client (written after each join).
        await waitForSubscribers(a, topic, CONNECT_COST_CLIENTS);
        const ms = performance.now() - t0;
        const cpu = nodes.reduce((s, n, i) => s + cpuMicros(n.pid) - cpu0[i]!, 0) / 1000;
        cost[label]!.ms.push(round(ms, 0));
        cost[label]!.cpu_ms.push(round(cpu, 0));
        for (const c of cs) c.destroy();
        await new Promise((r) => setTimeout(r, 1500));
      }
    }
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    results['connect cost'] = {
      clients: CONNECT_COST_CLIENTS,
      presence: cost['presence'],
      none: cost['none'],
      ratio_wall: round(median(cost['presence']!.ms) / median(cost['none']!.ms)),
      ratio_cpu: round(median(cost['presence']!.cpu_ms) / median(cost['none']!.cpu_ms)),
    };
    process.stdout.write(`connect cost: ${JSON.stringify(results['connect cost'])}\n`);
    process.stdout.write(`\n${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
