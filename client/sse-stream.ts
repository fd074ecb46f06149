// Server-Sent Events for the SDK's receive-only fallback: the browser's EventSource where
// there is one, else (Node) a fetch-based reader. The client runs its own reconnects (with
// backoff and `?last_event_id=`), so a stream here ends at its first error.
import { parseRetryAfter } from './retry-after.js';

/** What a stream reports to its client. */
export interface SseHandlers {
  onOpen(): void;
  /** One event: its name (`message` when unnamed), data and id (undefined when it had none). */
  onEvent(type: string, data: string, id: string | undefined): void;
  /**
   * The stream ended or failed; `status` is the HTTP status of a refused request, where known,
   * and `retryAfterMs` its `Retry-After` (fetch only: EventSource hides both).
   */
  onEnd(reason: string, status?: number, retryAfterMs?: number): void;
}

export interface SseStream {
  close(): void;
}

/** Opens a stream; inject one to use another EventSource implementation. */
export type SseFactory = (url: string, handlers: SseHandlers) => SseStream;

/** The named events Herald sends besides messages. */
export const SSE_EVENTS = ['welcome', 'recovered', 'close'] as const;

interface EventSourceLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: string; lastEventId: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  addEventListener(type: string, listener: (event: { data: string; lastEventId: string }) => void): void;
  close(): void;
}

/** The global EventSource (browsers) when there is one, else a fetch-based reader (Node 20+). */
export function defaultSseFactory(): SseFactory {
  const Global = (globalThis as { EventSource?: new (url: string) => EventSourceLike }).EventSource;
  if (Global) return (url, handlers) => eventSourceStream(new Global(url), handlers);
  return fetchStream;
}

function eventSourceStream(es: EventSourceLike, h: SseHandlers): SseStream {
  let ended = false;
  // EventSource keeps no id per event, only the stream's last one: an event without `id:` keeps it.
  let lastId = '';
  const idOf = (e: { lastEventId: string }): string | undefined => {
    const fresh = e.lastEventId !== lastId ? e.lastEventId : undefined;
    lastId = e.lastEventId;
    return fresh;
  };
  es.onopen = () => h.onOpen();
  es.onmessage = (e) => h.onEvent('message', e.data, idOf(e));
  for (const name of SSE_EVENTS) es.addEventListener(name, (e) => h.onEvent(name, e.data, idOf(e)));
  es.onerror = () => {
    if (ended) return;
    ended = true;
    es.close();
    h.onEnd('the event stream failed or ended (EventSource hides why)');
  };
  return {
    close: () => {
      ended = true;
      es.close();
    },
  };
}

function fetchStream(url: string, h: SseHandlers): SseStream {
  const abort = new AbortController();
  let ended = false;
  const end = (reason: string, status?: number, retryAfterMs?: number): void => {
    if (ended) return;
    ended = true;
    abort.abort();
    h.onEnd(reason, status, retryAfterMs);
  };
  void (async () => {
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    } catch (err) {
      end(`cannot reach ${new URL(url).host}: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (response.status !== 200 || !response.body) {
      const body = await response.text().catch(() => '');
      end(`the server answered ${response.status}: ${body.slice(0, 200)}`, response.status, parseRetryAfter(response.headers.get('retry-after')));
      return;
    }
    h.onOpen();
    const parser = new SseParser(h);
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (ended) return;
        if (!parser.feed(decoder.decode(chunk, { stream: true }))) return end('a line of the event stream passed 16 MB');
      }
      end('the server ended the stream');
    } catch (err) {
      end(`the stream broke: ${err instanceof Error ? err.message : String(err)}`);
    }
  })();
  return { close: () => end('closed') };
}

const MAX_SSE_BYTES = 16 * 1024 * 1024;

/** The HTML spec's event stream parsing: fields per line, an event per blank line. */
export class SseParser {
  readonly #h: Pick<SseHandlers, 'onEvent'>;
  #pending = '';
  #event = '';
  #data: string[] = [];
  /** Characters in #data: an event that never ends is refused like a line that never ends. */
  #dataSize = 0;
  #id: string | undefined;

  constructor(handlers: Pick<SseHandlers, 'onEvent'>) {
    this.#h = handlers;
  }

  /** Parses a chunk; false when a line or an event grew past 16 MB without ending (not an event stream). */
  feed(text: string): boolean {
    let all = this.#pending + text;
    // A chunk may end between CR and LF: keep the CR until the next chunk says which it was.
    const heldCr = all.endsWith('\r');
    if (heldCr) all = all.slice(0, -1);
    const lines = all.split(/\r\n|\r|\n/);
    this.#pending = (lines.pop() ?? '') + (heldCr ? '\r' : '');
    for (const line of lines) this.#line(line);
    return this.#pending.length <= MAX_SSE_BYTES && this.#dataSize <= MAX_SSE_BYTES;
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) this.#h.onEvent(this.#event || 'message', this.#data.join('\n'), this.#id);
      this.#event = '';
      this.#data = [];
      this.#dataSize = 0;
      this.#id = undefined;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') {
      this.#data.push(value);
      this.#dataSize += value.length + 1;
    }
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }
}
