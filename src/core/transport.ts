import type { Session } from './session.js';

/**
 * How a session's bytes reach its client: a WebSocket (websocket-transport.ts) or a Server-Sent
 * Events stream (sse-transport.ts). Bytes are already framed in the session's wire format by
 * the hub, so a transport only moves them; the hub never learns which one it writes to.
 */
export interface Transport {
  /** False once the peer began closing: bytes written now would never be read. */
  readonly open: boolean;
  /** Bytes written but not yet taken by the kernel (the slow-consumer measure). */
  readonly bufferedBytes: number;
  write(bytes: Buffer): void;
  cork(): void;
  uncork(): void;
  /** Ends the connection (with `code` where the wire has one); destroys it if that takes longer than `graceMs`. */
  close(code: number, reason: string, graceMs: number): void;
  /** Drops the connection at once. */
  terminate(): void;
  /** One heartbeat round: true when the peer must answer it (a WebSocket ping), false for a keep-alive that needs none. */
  heartbeat(): boolean;
  /** Hooks the session up: its `onClosed` runs once when the connection is gone. */
  attach(session: Session): void;
}
