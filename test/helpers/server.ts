// Starts Herald for a test: in this process (buildApp on port 0) or as a real child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildApp, type Herald } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { waitFor } from './wait.js';

export interface TestServer {
  herald: Herald;
  /** http://127.0.0.1:PORT */
  base: string;
  port: number;
  close(): Promise<void>;
}

/** Herald in this process on a free port, silent unless HERALD_TEST_LOG is set. */
export async function startHerald(overrides: Partial<Config> = {}): Promise<TestServer> {
  const config = loadConfig({}, {}, { port: 0, logLevel: process.env.HERALD_TEST_LOG ?? 'silent', ...overrides });
  const herald = await buildApp(config);
  await herald.app.listen({ port: overrides.port ?? 0, host: '127.0.0.1' });
  const address = herald.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { herald, base: `http://127.0.0.1:${address.port}`, port: address.port, close: () => herald.close() };
}

/** Resolves once the socket of `clientId` on this server receives every one of `topics` live. */
export async function topicsLive(srv: TestServer, clientId: string, topics: string[], timeoutMs = 5_000): Promise<void> {
  await waitFor(`${topics.join(', ')} live for ${clientId}`, () => topics.every((t) => srv.herald.relay.hub.get(clientId)?.links.get(t)?.live === true), timeoutMs);
}

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const heraldBin = `${repoRoot}bin/herald.js`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface HeraldProcess {
  child: ChildProcess;
  base: string;
  port: number;
  pid: number;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM (or the given signal), resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `herald serve` as a real process; resolves once /health answers. */
export async function spawnHerald(args: string[] = [], env: Record<string, string> = {}): Promise<HeraldProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [heraldBin, 'serve', '--port', String(port), '--host', '127.0.0.1', ...args], {
    env: { ...process.env, HERALD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`herald exited with ${child.exitCode}:\n${out}`);
    try {
      const r = await fetch(`${base}/health`);
      if (r.status === 200 || r.status === 503) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`herald did not answer /health within 15 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    base,
    port,
    pid: child.pid!,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
