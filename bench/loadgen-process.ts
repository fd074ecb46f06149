// The parent's handle on the load generator child: spawn it pinned to its core, send one command
// at a time over IPC, await the reply.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pinned, stopChild } from './servers.js';
import type {
  ConnectCommand,
  ConnectResult,
  DeliveryResult,
  FanoutCommand,
  LoadCommand,
  LoadReply,
  RegisterCommand,
  RegisterResult,
  SteadyCommand,
  UnicastCommand,
} from './loadgen-protocol.js';
import type { StormCommand, StormResult } from './storm-protocol.js';

export class LoadgenProcess {
  readonly pid: number;
  readonly openFileLimit: number;
  readonly #child: ChildProcess;
  #waiting: ((reply: LoadReply) => void) | null = null;
  #exit: string | null = null;

  private constructor(child: ChildProcess, pid: number, openFileLimit: number) {
    this.#child = child;
    this.pid = pid;
    this.openFileLimit = openFileLimit;
    child.on('message', (reply: LoadReply) => {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting?.(reply);
    });
    child.once('exit', (code, signal) => {
      this.#exit = `load generator exited with ${code ?? signal ?? '?'}`;
      this.#waiting?.({ type: 'error', message: this.#exit });
      this.#waiting = null;
    });
  }

  /** `ports`: one server, or every node of a cluster (commands then say which node by index). */
  static async start(root: string, core: number | null, ports: number | readonly number[], nodeFlags: readonly string[] = []): Promise<LoadgenProcess> {
    const list = typeof ports === 'number' ? [ports] : ports;
    const [command, args] = pinned(core, [...nodeFlags, join(root, 'dist', 'bench', 'loadgen.js'), '--host', '127.0.0.1', '--port', list.join(',')]);
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (child.pid === undefined) throw new Error('could not start the load generator');
    const ready = await new Promise<LoadReply>((resolve) => {
      child.once('message', (reply: LoadReply) => resolve(reply));
      child.once('exit', (code) => resolve({ type: 'error', message: `load generator exited with ${code ?? '?'}` }));
    });
    if (ready.type !== 'ready') {
      await stopChild(child);
      throw new Error(ready.type === 'error' ? ready.message : `unexpected first message ${ready.type}`);
    }
    return new LoadgenProcess(child, child.pid, ready.openFileLimit);
  }

  #send(cmd: LoadCommand): Promise<LoadReply> {
    if (this.#exit !== null) return Promise.reject(new Error(this.#exit));
    return new Promise((resolve, reject) => {
      this.#waiting = (reply) => (reply.type === 'error' ? reject(new Error(reply.message)) : resolve(reply));
      this.#child.send(cmd);
    });
  }

  async register(cmd: Omit<RegisterCommand, 'type'>): Promise<RegisterResult> {
    const reply = await this.#send({ type: 'register', ...cmd });
    if (reply.type !== 'register') throw new Error(`expected register, got ${reply.type}`);
    return reply.result;
  }

  async connect(cmd: Omit<ConnectCommand, 'type'>): Promise<ConnectResult> {
    const reply = await this.#send({ type: 'connect', ...cmd });
    if (reply.type !== 'connect') throw new Error(`expected connect, got ${reply.type}`);
    return reply.result;
  }

  async deliver(cmd: FanoutCommand | UnicastCommand | SteadyCommand): Promise<DeliveryResult> {
    const reply = await this.#send(cmd);
    if (reply.type !== 'delivery') throw new Error(`expected delivery, got ${reply.type}`);
    return reply.result;
  }

  /** One command of the reconnect-storm scenario (bench/storm.ts). */
  async storm(cmd: StormCommand): Promise<StormResult> {
    const reply = await this.#send(cmd);
    if (reply.type !== 'storm') throw new Error(`expected storm, got ${reply.type}`);
    return reply.result;
  }

  async stop(): Promise<void> {
    if (this.#exit === null) {
      try {
        await Promise.race([this.#send({ type: 'close' }), new Promise((r) => setTimeout(r, 2000))]);
      } catch {
        // it is going away anyway
      }
    }
    await stopChild(this.#child, 2000);
  }
}
