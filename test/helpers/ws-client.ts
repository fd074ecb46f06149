// A WebSocket test client: every frame is queued so a test can await the next ones with a timeout.
import { WebSocket, type ClientOptions } from 'ws';

export interface Frame {
  data: string;
  binary: boolean;
  raw: Buffer;
}

export class TestSocket {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<() => void> = [];

  constructor(url: string, protocols?: string | string[], options: ClientOptions = {}) {
    this.ws = new WebSocket(url, protocols, options);
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      this.frames.push({ data: data.toString(), binary, raw: data });
      this.#wake();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      this.#wake();
    }));
    this.ws.on('error', () => {});
  }

  static async open(url: string, protocols?: string | string[], options?: ClientOptions): Promise<TestSocket> {
    const s = new TestSocket(url, protocols, options);
    await s.opened;
    return s;
  }

  send(data: string | Buffer | object): void {
    this.ws.send(typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data));
  }

  /** Resolves with the first `n` frames not yet taken; rejects after `timeoutMs`. */
  async take(n = 1, timeoutMs = 3000): Promise<Frame[]> {
    await this.#until(() => this.frames.length >= n, timeoutMs, () => `expected ${n} frame(s), got ${this.frames.length}: ${this.frames.map((f) => f.data.slice(0, 60)).join(' | ')}`);
    return this.frames.splice(0, n);
  }

  async next(timeoutMs = 3000): Promise<Frame> {
    return (await this.take(1, timeoutMs))[0]!;
  }

  /** herald.v1: JSON objects, one per line of each frame, the next `n` of them. */
  async takeJson<T = Record<string, unknown>>(n = 1, timeoutMs = 3000): Promise<T[]> {
    const out: T[] = [];
    const pending = (): number => this.frames.reduce((a, f) => a + f.data.split('\n').filter(Boolean).length, 0);
    await this.#until(() => pending() >= n, timeoutMs, () => `expected ${n} JSON object(s), got ${pending()}: ${this.frames.map((f) => f.data.slice(0, 80)).join(' | ')}`);
    while (out.length < n) {
      const f = this.frames[0]!;
      const lines = f.data.split('\n').filter(Boolean);
      const need = n - out.length;
      out.push(...lines.slice(0, need).map((l) => JSON.parse(l) as T));
      if (lines.length <= need) this.frames.shift();
      else f.data = lines.slice(need).join('\n');
    }
    return out;
  }

  /** Waits for a JSON object matching `pred`, skipping others; returns it. */
  async waitJson<T = Record<string, unknown>>(pred: (o: T) => boolean, timeoutMs = 3000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const [o] = await this.takeJson<T>(1, Math.max(1, until - Date.now()));
      if (pred(o!)) return o!;
    }
  }

  /** Asserts nothing more arrives within `ms` (used only to check absence). */
  async expectSilence(ms = 150): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.frames.length > 0) throw new Error(`expected no frame, got: ${this.frames.map((f) => f.data.slice(0, 80)).join(' | ')}`);
  }

  async closeAndWait(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }

  async #until(cond: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (cond()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error(describe()));
      }, timeoutMs);
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve();
      };
      this.#waiters.push(check);
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** Opens test sockets and closes every one of them at the end of a test (for afterEach). */
export class SocketPool {
  #open: TestSocket[] = [];

  async open(url: string, protocols?: string | string[], options?: ClientOptions): Promise<TestSocket> {
    const s = await TestSocket.open(url, protocols, options);
    this.#open.push(s);
    return s;
  }

  async closeAll(): Promise<void> {
    const all = this.#open;
    this.#open = [];
    await Promise.all(all.map((s) => s.closeAndWait()));
  }
}
