// The slice of the WebSocket API the client uses: the browser's global WebSocket and the
// `ws` package's WebSocket both fit it, so one client runs in either place.
import { parseRetryAfter } from './retry-after.js';

export interface SocketCloseEvent {
  code: number;
  reason: string;
}

export interface SocketMessageEvent {
  data: unknown;
}

export interface SocketErrorEvent {
  message?: string;
  error?: unknown;
}

/**
 * The HTTP answer of a refused upgrade (503 overloaded, 404 unknown registration, ...), where
 * the platform shows it: Node's `ws` does, browsers hide it (the client then just backs off).
 */
export interface Refusal {
  status: number;
  /** The server's `Retry-After`, in ms, when it sent a readable one. */
  retryAfterMs?: number;
}

/** A WebSocket as the client needs it. */
export interface SocketLike {
  readonly protocol: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: SocketMessageEvent) => void) | null;
  onclose: ((event: SocketCloseEvent) => void) | null;
  onerror: ((event: SocketErrorEvent) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drops the TCP connection without a closing handshake. */
  terminate?(): void;
  /** Set before `onclose` when the server answered the upgrade with an HTTP status instead (Node only). */
  refusal?: Refusal;
}

/** Makes a socket; inject one to use a custom WebSocket implementation. */
export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

/**
 * The global WebSocket when the platform has one (browsers, Deno, Node 22+), else the `ws`
 * package, loaded lazily so browser bundles never pull it in.
 */
export async function defaultSocketFactory(): Promise<SocketFactory> {
  const Global = (globalThis as { WebSocket?: new (url: string, protocols: string[]) => SocketLike }).WebSocket;
  if (Global) return (url, protocols) => new Global(url, protocols);
  return wsSocketFactory();
}

/** The `ws` package's options a Node client may want to set (a subset of its ClientOptions). */
export interface WsOptions {
  /** The local address to connect from (e.g. one of several loopback addresses). */
  localAddress?: string;
  /** Extra headers of the upgrade request. */
  headers?: Record<string, string>;
  /** Upgrade handshake timeout (ms). */
  handshakeTimeout?: number;
}

/**
 * Node: a factory of `ws` sockets with these options. A refused upgrade keeps its HTTP status and
 * `Retry-After` on the socket ({@link Refusal}), so the client can honour a 503's `Retry-After`.
 *
 * @example
 * const socketFactory = await wsSocketFactory({ localAddress: '127.0.0.2' });
 * const client = new HeraldClient(url, { socketFactory });
 */
export async function wsSocketFactory(options: WsOptions = {}): Promise<SocketFactory> {
  const { WebSocket: Ws } = await import('ws');
  return (url, protocols) => {
    const ws = new Ws(url, protocols, options);
    const socket = ws as unknown as SocketLike;
    // With a listener here, ws leaves the refused request to us: note the answer, then fail the
    // request with the error (and message) ws itself would have given, so onerror/onclose follow.
    ws.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      socket.refusal = retryAfterMs === undefined ? { status } : { status, retryAfterMs };
      res.resume();
      req.destroy(new Error(`Unexpected server response: ${status}`));
    });
    return socket;
  };
}
