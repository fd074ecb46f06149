import type { Socket } from 'node:net';
import { CloseCode } from '../protocol/close-codes.js';
import { closeEvent, HEARTBEAT } from '../protocol/sse.js';
import type { Session } from './session.js';
import type { Transport } from './transport.js';

/**
 * A Server-Sent Events stream on the raw socket of an HTTP response. The response head is
 * written by the route (http/sse.ts) without a length or chunked encoding, so the body runs
 * until the connection closes and the hub's events go to the socket as they are, as frames
 * go to a WebSocket's.
 */
export class SseTransport implements Transport {
  readonly #socket: Socket;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  get open(): boolean {
    return this.#socket.writable && !this.#socket.destroyed;
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  write(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  /** Says why in a last `event: close` (not to a slow reader: it would queue behind the rest), then ends the stream. */
  close(code: number, reason: string, graceMs: number): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (code !== CloseCode.slowConsumer && socket.writable) socket.write(closeEvent(code, reason));
    socket.end();
    // A reader that stopped reading never takes the rest: don't hold its buffers.
    const timer = setTimeout(() => socket.destroy(), graceMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  terminate(): void {
    this.#socket.destroy();
  }

  /** A comment line: an SSE client cannot answer, so a dead peer is found by TCP keep-alive or its growing buffer. */
  heartbeat(): boolean {
    if (this.open) this.#socket.write(HEARTBEAT);
    return false;
  }

  attach(session: Session): void {
    const socket = this.#socket;
    socket.once('close', () => session.onClosed?.(session));
    // A client that closes its half is gone: EventSource and curl never send on a stream.
    socket.once('end', () => socket.destroy());
  }
}
