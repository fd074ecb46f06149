// Where a POST /publish's CPU goes, layer by layer: bare node:http answering a parsed JSON body,
// Fastify with Herald's schema and body parser, Herald publishing to a topic nobody follows, and
// Herald delivering each publish to one of U connected users (the unicast scenario). Each server
// is pinned to core 0 and this process (the client: 16 keep-alive connections, one request in
// flight on each) to core 1; server CPU per request comes from /proc/PID/stat, median of --runs.
//
//   node dist/bench/http-floor.js [--requests 30000] [--runs 3] [--users 10000]
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMicros, openFileLimit } from './proc-stats.js';
import { HttpConnection } from './raw-http-client.js';
import { RawSubscriber } from './raw-ws-client.js';
import { commandFor, freePort, pinned, startListening } from './servers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '30000' },
    runs: { type: 'string', default: '3' },
    users: { type: 'string', default: '10000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('Usage: node dist/bench/http-floor.js [--requests N] [--runs N] [--users N]\nServer CPU per POST /publish for node:http, Fastify, Herald (no delivery) and Herald (one delivery to one of N users).');
  process.exit(0);
}
const requests = Number(values.requests);
const runs = Number(values.runs);
const users = Number(values.users);
const CONCURRENCY = 16;
const message = 'x'.repeat(64);

interface Layer {
  name: string;
  command: (port: number) => [string, string[]];
  /** Users to register and connect before publishing (each gets the publishes addressed to it). */
  users: number;
}

const layers: Layer[] = [
  { name: 'node:http, parse the body, answer', command: (port) => pinned(0, [join(root, 'dist', 'bench', 'floor-server.js'), '--kind', 'node', '--port', String(port)]), users: 0 },
  { name: "Fastify + Herald's schema and body parser", command: (port) => pinned(0, [join(root, 'dist', 'bench', 'floor-server.js'), '--kind', 'fastify', '--port', String(port)]), users: 0 },
  { name: 'Herald, topic without subscribers', command: (port) => heraldCommand(port), users: 0 },
  { name: `Herald, to one of ${users} connected users`, command: (port) => heraldCommand(port), users },
];

function heraldCommand(port: number): [string, string[]] {
  return commandFor({ target: 'herald', root, core: 0, logFile: '', nodeFlags: [] }, port);
}

// Thousands of registrations come from this one address: Herald's per-address register rate
// limit (HERALD_REGISTER_RATE, 100/s by default) would refuse most of them, as in run.ts.
const serverEnv = { HERALD_REGISTER_RATE: '0' };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function drive(connections: HttpConnection[], count: number, body: () => string): Promise<void> {
  let sent = 0;
  await Promise.all(
    connections.map(async (c) => {
      while (sent < count) {
        sent++;
        const res = await c.request({ method: 'POST', path: '/publish', body: body() });
        if (res.status !== 200) throw new Error(`POST /publish answered ${res.status}: ${res.body.toString()}`);
      }
    }),
  );
}

async function measureLayer(layer: Layer, logDir: string): Promise<{ usPerRequest: number; perSecond: number; delivered: number; expected: number }> {
  const port = await freePort();
  const server = await startListening(layer.name, layer.command(port), port, { cwd: root, logFile: join(logDir, `${port}.log`), env: serverEnv });
  const subscribers: RawSubscriber[] = [];
  try {
    const connections = await Promise.all(Array.from({ length: CONCURRENCY }, () => HttpConnection.open('127.0.0.1', port)));
    for (let i = 0; i < layer.users; i += CONCURRENCY) {
      await Promise.all(
        connections.slice(0, Math.min(CONCURRENCY, layer.users - i)).map(async (c, j) => {
          const res = await c.request({ method: 'POST', path: '/register', body: JSON.stringify({ user_id: i + j, topics: ['direct'] }) });
          if (res.status !== 200) throw new Error(`POST /register answered ${res.status}: ${res.body.toString()}`);
          const { id } = JSON.parse(res.body.toString()) as { id: string };
          subscribers.push(await RawSubscriber.connect({ host: '127.0.0.1', port, path: `/ws/${id}`, localAddress: `127.0.0.${2 + ((i + j) % 8)}` }));
        }),
      );
    }
    const body = layer.users > 0 ? () => `{"topic":"direct","user_id":${Math.floor(Math.random() * layer.users)},"message":"${message}"}` : () => `{"topic":"nobody","message":"${message}"}`;
    await drive(connections, 2000, body);
    const received = (): number => subscribers.reduce((n, s) => n + s.messages, 0);
    const samples: number[] = [];
    const rates: number[] = [];
    for (let r = 0; r < runs; r++) {
      const cpu0 = cpuMicros(server.pid);
      const t0 = performance.now();
      await drive(connections, requests, body);
      const t1 = performance.now();
      samples.push((cpuMicros(server.pid) - cpu0) / requests);
      rates.push(requests / ((t1 - t0) / 1000));
    }
    // Every publish of the warm-up and the runs reaches its one user (allow in-flight ones to land).
    const expected = layer.users > 0 ? 2000 + runs * requests : 0;
    const deadline = performance.now() + 5000;
    while (received() < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const c of connections) c.close();
    return { usPerRequest: median(samples), perSecond: median(rates), delivered: received(), expected };
  } finally {
    for (const s of subscribers) s.destroy();
    await server.stop();
  }
}

// Each connected user is a socket here and in the server; the connections need a few more.
const needed = users + CONCURRENCY + 64;
const limit = openFileLimit();
if (limit < needed) {
  console.error(`http-floor: --users ${users} needs ${needed} open files; RLIMIT_NOFILE is ${limit} (raise it with ulimit -n, or lower --users)`);
  process.exit(2);
}
// This process is the client: core 1, every thread (the server gets core 0).
if (availableParallelism() < 2) console.error('http-floor: fewer than 2 cores: client and server share one, the figures include the client');
else execFileSync('taskset', ['-apc', '1', String(process.pid)], { stdio: ['ignore', 'ignore', 'inherit'] });
const logDir = mkdtempSync(join(tmpdir(), 'herald-http-floor-'));
console.log(`server CPU per POST /publish, median of ${runs} × ${requests} requests, ${CONCURRENCY} in flight (server on core 0, client on core 1)\n`);
console.log('| server | CPU per request | requests/s | lost · unexpected |');
console.log('|---|---|---|---|');
for (const layer of layers) {
  const r = await measureLayer(layer, logDir);
  const check = layer.users > 0 ? `${Math.max(0, r.expected - r.delivered)} · ${Math.max(0, r.delivered - r.expected)}` : '–';
  console.log(`| ${layer.name} | ${r.usPerRequest.toFixed(1)} µs | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${check} |`);
}
