// A throwaway redis-server for the cluster scenario: a free loopback port (never 6379), no
// persistence, its own temp dir; stopped by the PID it was started with, never by name.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild } from './servers.js';

export interface RedisProcess {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** The redis-server binary, or null when Redis is not installed. */
export function redisServerBinary(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server || ls /usr/bin/redis-server /usr/local/bin/redis-server 2>/dev/null | head -n1'], { encoding: 'utf8' });
  return found.stdout.trim().split('\n')[0] || null;
}

/** Whether a Redis on 127.0.0.1:port answers PING with PONG (within 500 ms). */
export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let text = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\r\n')) done(text.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

/** Starts redis-server on a free port (pinned to `core`, or not when null) and waits for PONG. */
export async function startRedis(core: number | null, timeoutMs = 10_000): Promise<RedisProcess> {
  const binary = redisServerBinary();
  if (binary === null) throw new Error('redis-server not found: the cluster scenario needs Redis (apt-get install -y redis-server)');
  let port = await freePort();
  while (port === 6379) port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  // taskset execs redis-server, so the child's PID is Redis's own (the one /proc is read for).
  const [command, argv] = core === null ? [binary, args] : ['taskset', ['-c', String(core), binary, ...args]];
  const child: ChildProcess = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  const stop = async (): Promise<void> => {
    await stopChild(child, 1000);
    rmSync(dir, { recursive: true, force: true });
  };
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start redis-server');
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (child.exitCode !== null) break;
    if (await redisPing(port)) return { pid, port, url: `redis://127.0.0.1:${port}`, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

/** One field of Redis's INFO (e.g. used_memory), read over a bare socket; NaN when unreadable. */
export function redisInfoField(port: number, field: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let text = '';
    const done = (value: number): void => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(Number.NaN));
    socket.once('error', () => done(Number.NaN));
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      // A bulk string: $LEN\r\n<body>\r\n
      const header = /^\$(\d+)\r\n/.exec(text);
      if (header === null) {
        if (text.startsWith('-')) done(Number.NaN);
        return;
      }
      if (text.length < header[0].length + Number(header[1])) return;
      const match = new RegExp(`\\r\\n${field}:(\\d+)\\r\\n`).exec(text);
      done(match ? Number(match[1]) : Number.NaN);
    });
    socket.once('connect', () => socket.write('INFO memory\r\n'));
  });
}
