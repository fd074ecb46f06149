import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Session } from './session.js';
import { socketDrain, type Transport } from './transport.js';

/** The session of each open WebSocket, for listeners shared by all sockets (no closures per socket). */
const byWebSocket = new WeakMap<WebSocket, Session>();

/** Shared by every socket (ws calls it with the socket as `this`). */
function onWebSocketClose(this: WebSocket): void {
  const s = byWebSocket.get(this);
  if (s) s.onClosed?.(s);
}

/**
 * A listener table of fixed shape for the events Herald listens to on every socket. EventEmitter
 * starts an emitter's table as `{ __proto__: null }`, which V8 keeps as a hash table (~280 bytes
 * per socket); an object whose keys are declared up front stays a fast object (~60 bytes).
 * Node's streams declare theirs the same way (Duplex: `this._events ??= { close: undefined, ... }`).
 * Its prototype chain ends in null, as EventEmitter's does: an event named like an Object
 * method finds no listener.
 */
function ListenerTable(this: Record<string | symbol, unknown>, from: Record<string | symbol, unknown>): void {
  this.message = undefined;
  this.pong = undefined;
  this.close = undefined;
  this.error = undefined;
  for (const key of Reflect.ownKeys(from)) this[key] = from[key];
}
ListenerTable.prototype = Object.create(null) as object;

/** Gives a socket a fixed-shape listener table, with the listeners it has already. */
function compactListeners(ws: WebSocket): void {
  const emitter = ws as unknown as { _events: Record<string | symbol, unknown> | undefined };
  const events = emitter._events;
  if (events === undefined || Object.getPrototypeOf(events) !== null) return;
  emitter._events = new (ListenerTable as unknown as new (from: Record<string | symbol, unknown>) => Record<string | symbol, unknown>)(events);
}

/**
 * A WebSocket from `ws`. Frames are written to the raw net.Socket under it (the hub framed
 * them), which skips a copy per subscriber; backpressure is that socket's writableLength.
 */
export class WebSocketTransport implements Transport {
  readonly ws: WebSocket;
  readonly #socket: Socket;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.#socket = (ws as unknown as { _socket: Socket })._socket;
    compactListeners(ws);
  }

  /** The session of a WebSocket (listeners get the socket as `this`). */
  static sessionOf(ws: WebSocket): Session | undefined {
    return byWebSocket.get(ws);
  }

  get open(): boolean {
    return this.ws.readyState === 1;
  }

  get bufferedBytes(): number {
    return this.#socket.writableLength;
  }

  drain(): Promise<void> {
    return socketDrain(this.#socket);
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

  close(code: number, reason: string, graceMs: number): void {
    const ws = this.ws;
    try {
      ws.close(code, reason);
    } catch {
      ws.terminate();
      return;
    }
    // A peer that stopped reading never answers the close frame: don't hold its buffers.
    const timer = setTimeout(() => ws.terminate(), graceMs);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  }

  terminate(): void {
    this.ws.terminate();
  }

  heartbeat(): boolean {
    this.ws.ping();
    return true;
  }

  attach(session: Session): void {
    byWebSocket.set(this.ws, session);
    this.ws.on('close', onWebSocketClose);
  }
}
