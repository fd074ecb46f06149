// A webhook receiver for tests: a real HTTP server on 127.0.0.1 that checks Herald-Signature
// (as docs/webhooks.md tells a backend to) and records every POST and the events it accepted.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait.js';

export interface ReceivedEvent {
  id: string;
  type: string;
  time: number;
  topic: string;
  user?: string;
}

export interface Post {
  raw: string;
  signed: boolean;
  events: ReceivedEvent[];
  status: number;
}

/**
 * Answers each POST with `answer(n)` (n = 0, 1, ...): a status; 'hang' (never answers); 'huge'
 * (200 announcing a 1 GB body, of which it sends 64 KB and then nothing).
 */
export type Answer = (n: number) => number | 'hang' | 'huge';

export class WebhookReceiver {
  readonly posts: Post[] = [];
  answer: Answer = () => 200;
  readonly #server: Server;
  readonly #secret: string;
  readonly #hanging = new Set<ServerResponse>();

  private constructor(secret: string) {
    this.#secret = secret;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(secret: string): Promise<WebhookReceiver> {
    const r = new WebhookReceiver(secret);
    await new Promise<void>((resolve) => r.#server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }

  /** Events of the POSTs answered 2xx, in arrival order (duplicates kept). */
  get delivered(): ReceivedEvent[] {
    return this.posts.filter((p) => p.status >= 200 && p.status < 300).flatMap((p) => p.events);
  }

  /** Delivered events of one topic, as "type[ user]". */
  of(topic: string): string[] {
    return this.delivered.filter((e) => e.topic === topic).map((e) => (e.user === undefined ? e.type : `${e.type} ${e.user}`));
  }

  async waitFor(what: string, check: (r: WebhookReceiver) => boolean, timeoutMs = 5_000): Promise<void> {
    await waitFor(`${what} (delivered: ${JSON.stringify(this.delivered.map((e) => `${e.type} ${e.topic} ${e.user ?? ''}`))})`, () => check(this), timeoutMs);
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const raw = body.toString('utf8');
    // The check a backend makes: HMAC of the raw bytes, compared in constant time.
    const expected = Buffer.from(`sha256=${createHmac('sha256', this.#secret).update(body).digest('hex')}`);
    const got = Buffer.from(String(req.headers['herald-signature'] ?? ''));
    const signed = got.length === expected.length && timingSafeEqual(got, expected);
    const a = this.answer(this.posts.length);
    const post: Post = { raw, signed, events: signed ? (JSON.parse(raw) as ReceivedEvent[]) : [], status: a === 'hang' ? 0 : a === 'huge' ? 200 : signed ? a : 401 };
    this.posts.push(post);
    if (a === 'hang' || a === 'huge') {
      this.#hanging.add(res);
      if (a === 'huge') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1024 ** 3) });
        res.write(Buffer.alloc(64 * 1024));
      }
      return;
    }
    res.writeHead(post.status, { 'content-type': 'text/plain' }).end(post.status < 300 ? 'ok' : 'no');
  }
}
