// Real redis-server processes for tests: one server, or a Redis Cluster of several, on free
// ports in a temp dir. Everything started here is killed by PID (never by name), also when
// the test process exits early; port 6379 is never used so a developer's Redis is safe.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILLs the server (no save: it comes back empty) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts a new, empty redis-server on the same port. */
  start(): Promise<void>;
  /** Stops it for good and removes its temp dir. */
  destroy(): Promise<void>;
}

export interface RedisCluster {
  readonly ports: number[];
  /** A seed URL (the first node); ioredis discovers the others. */
  readonly url: string;
  /** SIGKILLs master `index` and starts it again, empty, with its cluster config (it rejoins). */
  restartNode(index: number): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function binary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name} || ls /usr/bin/${name} /usr/local/bin/${name} 2>/dev/null | head -n1`], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0];
  if (!path) throw new Error(`${name} not found: these tests need a real Redis (>= 7). Install it with: apt-get install -y redis-server`);
  return path;
}

/** A port that was free a moment ago; never 6379. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    if (port !== 6379 && port !== 0) return port;
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    sock.once('connect', () => sock.write('PING\r\n'));
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function spawnRedis(dir: string, port: number, extra: string[]): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning', ...extra];
  const child = spawn(binary('redis-server'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

async function startOn(dir: string, port: number, extra: string[] = []): Promise<ChildProcess> {
  const child = spawnRedis(dir, port, extra);
  const failed = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`redis-server on port ${port} exited with code ${code}`))));
  failed.catch(() => {});
  await Promise.race([waitUntil(`redis-server on port ${port}`, () => ping(port)), failed]);
  return child;
}

/** Starts an empty redis-server (no persistence) on a free port. */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined = await startOn(dir, port);
  const stop = async (): Promise<void> => {
    if (child) await kill(child);
    child = undefined;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    async start() {
      if (child) throw new Error('redis-server is already running');
      child = await startOn(dir, port);
    },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of `masters` redis-server processes (no replicas), ready to serve. */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-redis-cluster-'));
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const nodeArgs: string[][] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      // The cluster bus port is set explicitly: the default (port + 10000) may be taken or > 65535.
      const busPort = await freePort();
      ports.push(port);
      nodeArgs.push(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000', '--cluster-port', String(busPort)]);
      children.push(await startOn(dir, port, nodeArgs[i]!));
    }
    const create = spawnSync(binary('redis-cli'), ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}\n${create.stderr}`);
    for (const port of ports) {
      await waitUntil(`cluster_state:ok on ${port}`, async () => {
        const info = spawnSync(binary('redis-cli'), ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' });
        return info.stdout.includes('cluster_state:ok');
      }, 20_000);
    }
  } catch (err) {
    await Promise.all(children.map(kill));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const clusterOk = (port: number): Promise<void> =>
    waitUntil(`cluster_state:ok on ${port}`, async () => {
      const info = spawnSync(binary('redis-cli'), ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' });
      return info.stdout.includes('cluster_state:ok');
    }, 20_000);
  return {
    ports,
    url: `redis://127.0.0.1:${ports[0]}`,
    async restartNode(index: number) {
      await kill(children[index]!);
      children[index] = await startOn(dir, ports[index]!, nodeArgs[index]!);
      for (const port of ports) await clusterOk(port);
    },
    async stop() {
      await Promise.all(children.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
