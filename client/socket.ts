// The slice of the WebSocket API the client uses: the browser's global WebSocket and the
// `ws` package's WebSocket both fit it, so one client runs in either place.

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
  const { WebSocket: Ws } = await import('ws');
  return (url, protocols) => new Ws(url, protocols) as unknown as SocketLike;
}
