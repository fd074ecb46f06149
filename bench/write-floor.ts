// The floor under a unicast publish on this machine: what one small write to a loopback TCP
// socket costs the writing process, with nothing above net.Socket (no HTTP, no WebSocket
// framing, no Herald). The writer (bench/write-floor-server.ts) is pinned to core 0 as the
// benchmarked servers are; this process reads every socket on core 1, as the load generator
// does. Writer CPU per write comes from /proc/PID/stat, median of --runs.
//
// Cases:
//   - one write of --bytes to a random one of --sockets connections, 16 per event-loop turn
//     (a unicast delivery: each message to another socket);
//   - the same over 16 connections (the same sockets again and again: warm caches);
//   - read a request, answer with one write, on 16 connections with one request in flight on
//     each (the TCP part of an HTTP request/response, without HTTP).
// A unicast POST /publish costs at least one of the last (its HTTP answer) plus one of the first
// (its WebSocket frame); a /publish/batch message at least one of the first.
//
//   node dist/bench/write-floor.js [--sockets 10000] [--writes 100000] [--runs 3] [--bytes 64]
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuMicros, openFileLimit } from './proc-stats.js';
import { pinned, stopChild } from './servers.js';
import { median } from './stats.js';
import type { WriterCommand, WriterReply } from './write-floor-server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    sockets: { type: 'string', default: '10000' },
    writes: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    bytes: { type: 'string', default: '64' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('Usage: node dist/bench/write-floor.js [--sockets N] [--writes N] [--runs N] [--bytes N]\nWriter CPU per small write to a loopback TCP socket (writer on core 0, reader on core 1).');
  process.exit(0);
}
const sockets = Number(values.sockets);
const writes = Number(values.writes);
const runs = Number(values.runs);
const bytes = Number(values.bytes);
const IN_FLIGHT = 16;
/** A POST /publish of the unicast scenario is about this long (headers and body). */
const REQUEST_BYTES = 200;

/** The writer process and its IPC replies, taken in order. */
class Writer {
  readonly #child: ChildProcess;
  readonly #replies: WriterReply[] = [];
  readonly #waiting: Array<(r: WriterReply) => void> = [];

  constructor() {
    const [command, args] = pinned(0, [join(root, 'dist', 'bench', 'write-floor-server.js')]);
    this.#child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (r: WriterReply) => {
      const w = this.#waiting.shift();
      if (w) w(r);
      else this.#replies.push(r);
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  next(timeoutMs = 60_000): Promise<WriterReply> {
    const r = this.#replies.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the writer did not answer in time')), timeoutMs);
      this.#waiting.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  send(cmd: WriterCommand): void {
    this.#child.send(cmd);
  }

  stop(): Promise<void> {
    return stopChild(this.#child);
  }
}

/** Connects `n` sockets to the writer; every byte they read is counted in `received.bytes`. */
async function connectAll(port: number, n: number, received: { bytes: number }): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, async (_, j) => {
        const s = connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + ((i + j) % 8)}`, noDelay: true });
        await once(s, 'connect');
        s.on('data', (chunk: Buffer) => {
          received.bytes += chunk.length;
        });
        return s;
      }),
    );
    out.push(...batch);
  }
  return out;
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function acceptedBy(writer: Writer): Promise<number> {
  writer.send({ type: 'count' });
  const r = await writer.next();
  if (r.type !== 'accepted') throw new Error(`the writer answered ${r.type} to count`);
  return r.sockets;
}

/** Starts a writer and connects `n` sockets to it (all accepted). */
async function setUp(n: number): Promise<{ writer: Writer; conns: Socket[]; received: { bytes: number } }> {
  const writer = new Writer();
  const received = { bytes: 0 };
  const ready = await writer.next(20_000);
  if (ready.type !== 'ready') throw new Error('the writer did not start');
  const conns = await connectAll(ready.port, n, received);
  const deadline = performance.now() + 30_000;
  while ((await acceptedBy(writer)) < n) {
    if (performance.now() > deadline) throw new Error('the writer did not accept every connection');
    await new Promise((r) => setTimeout(r, 20));
  }
  return { writer, conns, received };
}

/** Writer CPU per write (µs) for each run: `count` writes spread over `n` sockets. */
async function spreadCase(n: number, count: number): Promise<number[]> {
  const { writer, conns, received } = await setUp(n);
  try {
    const run = async (k: number): Promise<number> => {
      const expected = received.bytes + k * bytes;
      const cpu0 = cpuMicros(writer.pid);
      writer.send({ type: 'spread', writes: k, bytes, perTurn: IN_FLIGHT });
      const done = await writer.next();
      if (done.type !== 'done') throw new Error(`the writer answered ${done.type} to spread`);
      const cpu = cpuMicros(writer.pid) - cpu0;
      await until(() => received.bytes >= expected, 30_000, 'every byte written to arrive');
      return cpu / k;
    };
    await run(Math.min(count, 10_000)); // warm-up
    const samples: number[] = [];
    for (let r = 0; r < runs; r++) samples.push(await run(count));
    return samples;
  } finally {
    for (const c of conns) c.destroy();
    await writer.stop();
  }
}

/** Writer CPU per answer (µs) for each run: IN_FLIGHT connections, one request in flight on each. */
async function echoCase(count: number): Promise<number[]> {
  const { writer, conns } = await setUp(IN_FLIGHT);
  try {
    writer.send({ type: 'echo', bytes });
    const request = Buffer.alloc(REQUEST_BYTES, 0x72);
    const run = async (k: number): Promise<number> => {
      let sent = 0;
      const cpu0 = cpuMicros(writer.pid);
      await Promise.all(
        conns.map(
          (c) =>
            new Promise<void>((resolve) => {
              // Every answer is `bytes` long and the next request waits for it: count what arrived.
              let have = 0;
              const onData = (chunk: Buffer): void => {
                have += chunk.length;
                if (have < bytes) return;
                have -= bytes;
                if (sent >= k) {
                  c.off('data', onData);
                  resolve();
                  return;
                }
                sent++;
                c.write(request);
              };
              c.on('data', onData);
              sent++;
              c.write(request);
            }),
        ),
      );
      return (cpuMicros(writer.pid) - cpu0) / sent;
    };
    await run(Math.min(count, 5_000));
    const samples: number[] = [];
    for (let r = 0; r < runs; r++) samples.push(await run(count));
    return samples;
  } finally {
    for (const c of conns) c.destroy();
    await writer.stop();
  }
}

const needed = sockets + 64;
if (openFileLimit() < needed) {
  console.error(`write-floor: --sockets ${sockets} needs ${needed} open files; RLIMIT_NOFILE is ${openFileLimit()} (raise it with ulimit -n, or lower --sockets)`);
  process.exit(2);
}
// This process reads: core 1, every thread (the writer gets core 0).
if (availableParallelism() < 2) console.error('write-floor: fewer than 2 cores: reader and writer share one, the figures include the reader');
else execFileSync('taskset', ['-apc', '1', String(process.pid)], { stdio: ['ignore', 'ignore', 'inherit'] });

const fmt = (xs: number[]): string => `**${median(xs)!.toFixed(2)} µs** (runs: ${xs.map((x) => x.toFixed(2)).join(' / ')})`;
console.log(`writer CPU per ${bytes}-byte socket.write on loopback TCP, median of ${runs} runs (writer on core 0, reader on core 1)\n`);
console.log('| case | writer CPU per write |');
console.log('|---|---|');
console.log(`| to a random one of ${sockets} sockets, ${IN_FLIGHT} per turn, ${writes} writes | ${fmt(await spreadCase(sockets, writes))} |`);
console.log(`| to a random one of ${IN_FLIGHT} sockets, ${IN_FLIGHT} per turn, ${writes} writes | ${fmt(await spreadCase(IN_FLIGHT, writes))} |`);
const answers = Math.max(1000, Math.floor(writes / 4));
console.log(`| read a ${REQUEST_BYTES}-byte request, answer ${bytes} bytes (${IN_FLIGHT} connections, one in flight each), ${answers} answers | ${fmt(await echoCase(answers))} |`);
