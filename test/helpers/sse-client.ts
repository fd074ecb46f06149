// A raw Server-Sent Events reader for tests: keeps the exact bytes received and parses events
// as the HTML spec says (fields per line, dispatch on a blank line).
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

export class SseReader {
  /** Every byte received, as text. */
  raw = '';
  readonly events: SseEvent[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  /** The last `id:` seen, as EventSource keeps it. */
  lastEventId: string | undefined;
  ended = false;
  /** Message events so far. */
  messageCount = 0;
  readonly #res: IncomingMessage;
  #pending = '';
  #current: { event: string; data: string[]; id: string | undefined } = { event: '', data: [], id: undefined };
  readonly #waiters = new Set<() => void>();

  private constructor(res: IncomingMessage) {
    this.#res = res;
    this.status = res.statusCode ?? 0;
    this.headers = res.headers;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.#feed(chunk));
    const end = (): void => {
      this.ended = true;
      this.#wake();
    };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  }

  /** GETs `url` with the given headers; resolves once the response head arrived. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => resolve(new SseReader(res)));
      req.on('error', reject);
      req.end();
    });
  }

  /** The body of a refused request (JSON error). */
  async body(): Promise<string> {
    await this.waitEnd();
    return this.raw;
  }

  /** Message events (no `event:` name), their data parsed. */
  messages(): Array<Record<string, unknown>> {
    return this.events.filter((e) => e.event === 'message').map((e) => JSON.parse(e.data) as Record<string, unknown>);
  }

  async waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received:\n${this.raw.slice(-2000)}`));
      }, timeoutMs);
      const wake = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
    });
  }

  /** Resolves once `n` message events arrived in all. */
  waitMessages(n: number, timeoutMs = 5000): Promise<void> {
    return this.waitFor(`${n} messages`, () => this.messageCount >= n, timeoutMs);
  }

  waitEnd(timeoutMs = 5000): Promise<void> {
    return this.waitFor('the end of the stream', () => this.ended, timeoutMs);
  }

  close(): void {
    this.#res.destroy();
  }

  #feed(chunk: string): void {
    if (this.raw.length < 1_000_000) this.raw += chunk;
    this.#pending += chunk;
    let nl: number;
    while ((nl = this.#pending.indexOf('\n')) >= 0) {
      const line = this.#pending.slice(0, nl).replace(/\r$/, '');
      this.#pending = this.#pending.slice(nl + 1);
      this.#line(line);
    }
    this.#wake();
  }

  #line(line: string): void {
    const cur = this.#current;
    if (line === '') {
      if (cur.data.length > 0) {
        this.events.push({ event: cur.event || 'message', data: cur.data.join('\n'), id: cur.id });
        if (cur.event === '' || cur.event === 'message') this.messageCount++;
      }
      this.#current = { event: '', data: [], id: undefined };
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') cur.event = value;
    else if (field === 'data') cur.data.push(value);
    else if (field === 'id' && !value.includes('\0')) {
      cur.id = value;
      this.lastEventId = value; // as EventSource: at once, dispatched or not
    }
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** http://HOST/sse/ID from a registration's ws:// URL. */
export function sseUrl(wsUrl: string, query = ''): string {
  const u = new URL(wsUrl);
  return `http://${u.host}/sse/${u.pathname.split('/').pop()!}${query}`;
}
