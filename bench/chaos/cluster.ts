// What the chaos run starts, and how it hurts it: one redis-server (with an append-only file, so
// a restart keeps history), a stalling proxy in front of it, three Herald nodes on that proxy,
// nginx (examples/nginx.conf's settings) in front of the nodes, and a cutting proxy in front of
// nginx that the clients connect through (each proxy in a process of its own). Loopback only; every process is stopped by its PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { redisPing, redisServerBinary } from '../redis-process.js';
import { commandFor, freePort, startListening, stopChild } from '../servers.js';
import { startProxyProcess, type RemoteFaultProxy } from './proxy-process.js';

export interface ChaosNode {
  readonly id: string;
  readonly port: number;
  pid: number;
  up: boolean;
  /** How many times it was started (1 = never restarted). */
  starts: number;
}

export interface RunningNode extends ChaosNode {
  stop: (() => Promise<void>) | null;
  exited: Promise<void>;
}

export interface ClusterOptions {
  readonly root: string;
  readonly dir: string;
  readonly nodes: number;
  /** Extra `herald serve` flags for every node. */
  readonly nodeArgs: readonly string[];
}

function nginxBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx 2>/dev/null'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!found) throw new Error('nginx not found: the chaos run puts examples/nginx.conf in front of the nodes (apt-get install -y nginx)');
  return found;
}

/** examples/nginx.conf pointed at these nodes and this port, everything kept in `dir`. */
export function nginxConfig(root: string, port: number, nodePorts: readonly number[]): string {
  const example = readFileSync(join(root, 'examples/nginx.conf'), 'utf8');
  const servers = nodePorts.map((p) => `        server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n');
  const conf = example
    .replace(/^worker_processes .*$/m, 'worker_processes 1;\nworker_rlimit_nofile 20000;')
    .replace(/(?:^ *server 127\.0\.0\.1:\d+ [^\n]*\n)+/m, `${servers}\n`)
    .replace(/^( *)listen 8000;$/m, `$1listen 127.0.0.1:${port};`)
    .replace(/^http \{$/m, 'http {\n    access_log off;\n    client_body_temp_path tmp/body;\n    proxy_temp_path tmp/proxy;');
  if (!conf.includes(`listen 127.0.0.1:${port};`) || !conf.includes(`127.0.0.1:${nodePorts[0]}`)) {
    throw new Error('examples/nginx.conf no longer has the shape the chaos run rewrites (listen 8000; server 127.0.0.1:800x lines)');
  }
  return conf;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export class ChaosCluster {
  readonly #options: ClusterOptions;
  readonly nodes: RunningNode[] = [];
  #redis: ChildProcess | null = null;
  #redisPort = 0;
  #redisDir = '';
  #redisProxy: RemoteFaultProxy | null = null;
  #nginx: ChildProcess | null = null;
  #clientProxy: RemoteFaultProxy | null = null;
  /** The public address clients and /register use: the cutting proxy in front of nginx. */
  base = '';

  constructor(options: ClusterOptions) {
    this.#options = options;
  }

  get redisPid(): number {
    return this.#redis?.pid ?? 0;
  }

  get nginxPid(): number {
    return this.#nginx?.pid ?? 0;
  }

  async start(progress: (text: string) => void): Promise<void> {
    const { dir } = this.#options;
    mkdirSync(dir, { recursive: true });
    progress('starting redis-server (append-only file)');
    this.#redisDir = mkdtempSync(join(tmpdir(), 'herald-chaos-redis-'));
    this.#redisPort = await freePort();
    while (this.#redisPort === 6379) this.#redisPort = await freePort();
    await this.startRedis();
    this.#redisProxy = await startProxyProcess(this.#redisPort);
    const redisUrl = `redis://127.0.0.1:${this.#redisProxy.port}`;
    for (let i = 0; i < this.#options.nodes; i++) {
      const id = String.fromCharCode(97 + i);
      const port = await freePort();
      const node: RunningNode = { id, port, pid: 0, up: false, starts: 0, stop: null, exited: Promise.resolve() };
      this.nodes.push(node);
    }
    progress(`starting ${this.nodes.length} Herald nodes`);
    await Promise.all(this.nodes.map((n) => this.startNode(n, redisUrl)));
    progress('starting nginx');
    const nginxPort = await freePort();
    const nginxDir = join(dir, 'nginx');
    mkdirSync(join(nginxDir, 'logs'), { recursive: true });
    mkdirSync(join(nginxDir, 'tmp'), { recursive: true });
    writeFileSync(join(nginxDir, 'nginx.conf'), nginxConfig(this.#options.root, nginxPort, this.nodes.map((n) => n.port)));
    const nginx = spawn(
      nginxBinary(),
      ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf'), '-g', `daemon off; pid ${join(nginxDir, 'nginx.pid')}; error_log ${join(nginxDir, 'logs/error.log')};`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    nginx.stderr?.resume();
    this.#nginx = nginx;
    await waitFor('nginx to proxy /health', async () => {
      if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}; see ${nginxDir}/logs/error.log`);
      try {
        return (await fetch(`http://127.0.0.1:${nginxPort}/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
      } catch {
        return false;
      }
    }, 10_000);
    this.#clientProxy = await startProxyProcess(nginxPort);
    this.base = `http://127.0.0.1:${this.#clientProxy.port}`;
  }

  async startRedis(): Promise<void> {
    const binary = redisServerBinary();
    if (binary === null) throw new Error('redis-server not found: the chaos run needs Redis (apt-get install -y redis-server)');
    // appendfsync always: a SIGKILLed Redis would keep every acknowledged publish; it is
    // restarted with SIGTERM here (which syncs anyway), so this only rules out the doubt.
    const args = ['--port', String(this.#redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.#redisDir, '--daemonize', 'no', '--loglevel', 'warning'];
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    this.#redis = child;
    await waitFor(`redis-server on ${this.#redisPort}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      return redisPing(this.#redisPort);
    }, 15_000);
  }

  async stopRedis(signal: NodeJS.Signals): Promise<void> {
    const child = this.#redis;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
    this.#redis = null;
  }

  async startNode(node: RunningNode, redisUrl = `redis://127.0.0.1:${this.#redisProxy?.port ?? 0}`): Promise<void> {
    node.starts++;
    const spec = {
      target: 'herald' as const,
      root: this.#options.root,
      core: null,
      logFile: join(this.#options.dir, `node-${node.id}-${node.starts}.log`),
      nodeFlags: [],
      args: ['--redis-url', redisUrl, '--node-id', node.id, '--trust-proxy', ...this.#options.nodeArgs],
    };
    const running = await startListening(`Herald ${node.id}`, commandFor(spec, node.port), node.port, {
      cwd: this.#options.root,
      logFile: spec.logFile,
      env: { HERALD_LOG_LEVEL: 'warn' },
      timeoutMs: 30_000,
    });
    node.pid = running.pid;
    node.stop = running.stop;
    node.exited = running.exited;
    node.up = true;
  }

  /** Sends `signal` to the node's process (by its PID) and, for KILL/TERM, waits until it is gone. */
  async signalNode(node: RunningNode, signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    process.kill(node.pid, signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      const timer = setTimeout(() => process.kill(node.pid, 'SIGKILL'), 15_000);
      await node.exited;
      clearTimeout(timer);
      node.up = false;
      node.stop = null;
    }
  }

  redisProxy(): RemoteFaultProxy {
    if (this.#redisProxy === null) throw new Error('not started');
    return this.#redisProxy;
  }

  clientProxy(): RemoteFaultProxy {
    if (this.#clientProxy === null) throw new Error('not started');
    return this.#clientProxy;
  }

  /** Stops everything it started, each by its PID, in the reverse order. */
  async stop(): Promise<void> {
    await this.#clientProxy?.close();
    if (this.#nginx !== null) await stopChild(this.#nginx, 5000); // the master stops its workers
    for (const node of this.nodes) {
      if (node.up) {
        try {
          process.kill(node.pid, 'SIGCONT'); // a node left stopped would never exit on SIGTERM
        } catch {
          // already gone
        }
      }
      await node.stop?.();
      node.up = false;
    }
    await this.#redisProxy?.close();
    await this.stopRedis('SIGTERM');
    if (this.#redisDir !== '') rmSync(this.#redisDir, { recursive: true, force: true });
  }
}
