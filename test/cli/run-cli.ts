// Runs the real `herald` binary for CLI tests: to completion, or as a live process whose
// output lines a test awaits with a deadline.
import { spawn } from 'node:child_process';
import { heraldBin } from '../helpers/server.js';
import type { ChildProcess } from 'node:child_process';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// A clean environment: a developer's HERALD_SERVER or HERALD_API_KEY must not leak in.
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HERALD_')) out[k] = v;
  return { ...out, ...extra };
}

export function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [heraldBin, ...args], { env: env(options.env ?? {}), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herald ${args.join(' ')} did not finish within ${options.timeoutMs ?? 10_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

export class LiveCli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  #wake: Array<() => void> = [];

  constructor(args: string[], extraEnv: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [heraldBin, ...args], { env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.#notify();
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.#notify();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => this.#notify());
  }

  /** Waits until the output (stdout or stderr) matches. */
  async waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this[stream].match(pattern);
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) {
        throw new Error(`no ${pattern} on ${stream} within ${timeoutMs} ms (exit ${this.child.exitCode})\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Exit code, or an error when the process is still running after timeoutMs. */
  async exitCode(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms\nstdout: ${this.stdout}\nstderr: ${this.stderr}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  #notify(): void {
    for (const wake of this.#wake.splice(0)) wake();
  }
}
