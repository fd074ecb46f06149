// Starts the server under test (Herald or the baseline) pinned to one core, waits for /health,
// and stops it again: only by the PID it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';

export type Target = 'herald' | 'baseline';

export interface ServerSpec {
  readonly target: Target;
  readonly root: string;
  /** The core the server is pinned to (taskset -c); null: not pinned. */
  readonly core: number | null;
  readonly logFile: string;
  /** Extra node flags for both targets (e.g. --cpu-prof while profiling). */
  readonly nodeFlags: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Extra `herald serve` flags (e.g. --redis-url, --node-id); Herald only. */
  readonly args?: readonly string[];
  /** Listen on this port (a restart on the same port); default: a free one. */
  readonly port?: number;
  /** Called with the PID as soon as the process is spawned, before it listens. */
  readonly onSpawned?: (pid: number) => void;
}

export interface RunningServer {
  readonly target: Target;
  readonly pid: number;
  readonly port: number;
  stop(): Promise<void>;
  /** Sends `signal` to this process (by its PID) and resolves once it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Whether Herald has been built (npm run build) so it can be benchmarked. */
export function heraldBuilt(root: string): boolean {
  return existsSync(join(root, 'dist', 'src', 'cli', 'index.js'));
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** node with its flags, pinned with `taskset -c core` (which execs it: same PID) unless core is null. */
export function pinned(core: number | null, nodeArgs: readonly string[]): [string, string[]] {
  return core === null ? [process.execPath, [...nodeArgs]] : ['taskset', ['-c', String(core), process.execPath, ...nodeArgs]];
}

/**
 * Node's flags for `herald serve` as `npm start` runs it (package.json "start"; a test keeps
 * the two in step), so Herald is measured with the V8 settings it ships with.
 */
export const heraldNodeFlags: readonly string[] = ['--max-semi-space-size=8'];

export function commandFor(spec: ServerSpec, port: number): [string, string[]] {
  if (spec.target === 'herald') {
    const script = [join(spec.root, 'bin', 'herald.js'), 'serve', '--port', String(port), '--host', '127.0.0.1', ...(spec.args ?? [])];
    return pinned(spec.core, [...heraldNodeFlags, ...spec.nodeFlags, ...script]);
  }
  const script = [join(spec.root, 'dist', 'bench', 'baseline-server.js'), '--port', String(port), '--host', '127.0.0.1'];
  return pinned(spec.core, [...spec.nodeFlags, ...script]);
}

export async function startServer(spec: ServerSpec, timeoutMs = 20_000): Promise<RunningServer> {
  const port = spec.port ?? (await freePort());
  // The load generator registers thousands of clients from one address: no register rate limit
  // (an environment variable, which older Herald builds being compared simply ignore).
  const env = spec.target === 'herald' ? { HERALD_REGISTER_RATE: '0', ...spec.env } : spec.env;
  const running = await startListening(spec.target, commandFor(spec, port), port, { cwd: spec.root, logFile: spec.logFile, env, timeoutMs, ...(spec.onSpawned ? { onSpawned: spec.onSpawned } : {}) });
  return { ...running, target: spec.target };
}

/**
 * Spawns `command` (which listens on `port`) and waits until its GET /health answers 200.
 * taskset execs node, so the child's PID is the server's own PID (the one /proc is read for).
 */
export async function startListening(
  name: string,
  [command, args]: [string, string[]],
  port: number,
  options: { cwd: string; logFile: string; env?: Readonly<Record<string, string>>; timeoutMs?: number; onSpawned?: (pid: number) => void },
): Promise<{ pid: number; port: number; stop: () => Promise<void>; kill: (signal: NodeJS.Signals) => Promise<void>; exited: Promise<void> }> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const log = createWriteStream(options.logFile);
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, HERALD_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name}`);
  options.onSpawned?.(pid);
  let exited: string | null = null;
  // Resolves when the process is gone, whoever ended it (the chaos run signals it by PID).
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal ?? '?'}`));
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (exited !== null) throw new Error(`${name} ${exited} before /health answered; see ${options.logFile}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) {
        const kill = (signal: NodeJS.Signals): Promise<void> => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return gone;
        };
        return { pid, port, stop: () => stopChild(child), kill, exited: gone };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopChild(child);
  throw new Error(`${name} did not answer GET /health within ${timeoutMs} ms; see ${options.logFile}`);
}

export interface DeliveryCounters {
  readonly deliveries: number;
  readonly socketWrites: number;
}

/** Herald's own delivery counters (GET /stats); undefined for the baseline, which has none. */
export async function deliveryCounters(server: { readonly target: Target; readonly port: number }): Promise<DeliveryCounters | undefined> {
  if (server.target !== 'herald') return undefined;
  const res = await fetch(`http://127.0.0.1:${server.port}/stats`);
  const body = (await res.json()) as { deliveries: number; socket_writes: number };
  return { deliveries: body.deliveries, socketWrites: body.socket_writes };
}

/** SIGTERM, then SIGKILL after a grace period; only this child, by its PID. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
