import { CloseCode } from '../protocol/close-codes.js';
import { textFrame } from '../protocol/frame.js';
import type { Rights } from './access.js';
import type { StreamPosition, UserId } from './message.js';
import { Links } from './links.js';
import type { Outgoing, ProtocolName } from './outgoing.js';
import type { Transport } from './transport.js';

/** This session's place in one topic: waiting for its recovery (pending) or receiving live. */
export interface Link {
  live: boolean;
  /** Messages that arrived while pending, to be sent after the replay. */
  queue: Outgoing[];
  /** Their payload size, bounded like a socket's unsent bytes. */
  queuedBytes: number;
  /** The last position written for this topic when the link went live (the seam). */
  written: StreamPosition | undefined;
  /** Hub flush sequence at which the link went live; later flushes moved its cursor. */
  liveSince: number;
  /** Where this connection started in the topic: what came after was written here. */
  start: StreamPosition | undefined;
}

export interface SessionLimits {
  maxBufferedBytes: number;
  clientRate: number;
}

export type CloseReason = 'client' | 'replaced' | 'unregistered' | 'expired' | 'slow' | 'heartbeat' | 'rate' | 'shutdown' | 'error';

/**
 * One connection of a client (a WebSocket or an SSE stream: see Transport). Frames arrive
 * already framed by the hub in this session's wire format; backpressure is the transport's
 * unsent bytes.
 */
export class Session {
  readonly id: string;
  readonly userId: UserId;
  readonly userKey: string;
  readonly protocol: ProtocolName;
  readonly transport: Transport;
  /** False for a client without a stored registration (no server cursor to save). */
  readonly registered: boolean;
  /** When this socket connected (ms since epoch): a replacement's kick names a time. */
  readonly connectedAt = Date.now();
  readonly links = new Links();
  /** What this client may hold; replaced when the backend changes its rights (PATCH, refresh). */
  rights: Rights;
  /** Token connections: when the token expires (ms since epoch); undefined for a stored registration. */
  expiresAt: number | undefined = undefined;
  /** Token connections: the token's `iat` (seconds); a revocation closes those issued up to its second. */
  issuedAt: number | undefined = undefined;
  /** Closes a token connection at expiry (4003), unless a refresh moves it. */
  expiryTimer: NodeJS.Timeout | undefined = undefined;
  /** Serializes this session's topic changes and requests; undefined while none is running. */
  work: Promise<void> | undefined;
  closed = false;
  closeReason: CloseReason | undefined;
  /**
   * The cursors at the moment this session stopped being writable: later flushes move the
   * topic's position but wrote nothing here, so they must not move this session's cursor.
   */
  stoppedCursors: Record<string, StreamPosition> | undefined;
  /** Called once, when the session stops accepting frames (set by the relay; one function for all sessions). */
  onStop: ((s: Session) => void) | undefined;
  /** Called once, when the connection is gone (set by the relay; one function for all sessions). */
  onClosed: ((s: Session) => void) | undefined;
  /**
   * The registration's cursors of topics this connection does not hold, kept in what it saves:
   * an SSE stream of a few of them must not wipe the others' (its WebSocket's next recovery).
   */
  keptCursors: Record<string, StreamPosition> | undefined;
  /** The cursors last saved to the engine (JSON), so unchanged ones are not written again. */
  savedCursors = '';
  /** The hub's flush that last wrote here (the hub corks a socket written twice in one flush). */
  flushMark = 0;
  /** Heartbeat rounds without a pong. */
  missed = 0;
  readonly #limits: SessionLimits;
  #corked = false;
  #rateWindow = 0;
  #rateCount = 0;

  constructor(transport: Transport, id: string, userId: UserId, protocol: ProtocolName, limits: SessionLimits, rights: Rights, registered = true) {
    this.transport = transport;
    this.registered = registered;
    this.rights = rights;
    this.id = id;
    this.userId = userId;
    const key = String(userId);
    // The rights name the same user: one string for both (a numeric id's String() is a new one each time).
    this.userKey = key === rights.user ? rights.user : key;
    this.protocol = protocol;
    this.#limits = limits;
    transport.attach(this);
  }

  /** Writes ready frames; a socket whose unsent bytes would pass the limit is closed (4008). */
  write(frames: Buffer): boolean {
    if (this.closed) return false;
    const t = this.transport;
    // The peer started the close handshake: frames written now would never be read.
    if (!t.open) {
      this.#stop();
      return false;
    }
    const pending = t.bufferedBytes;
    if (pending > 0 && pending + frames.length > this.#limits.maxBufferedBytes) {
      this.close(CloseCode.slowConsumer, 'slow consumer: unsent data passed HERALD_MAX_BUFFERED_BYTES', 'slow');
      return false;
    }
    t.write(frames);
    return true;
  }

  /** Corks the socket for a flush that writes to it more than once; true if newly corked. */
  cork(): boolean {
    if (this.#corked) return false;
    this.#corked = true;
    this.transport.cork();
    return true;
  }

  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.transport.uncork();
  }

  /** Sends one herald.v1 reply object (already JSON text). */
  reply(json: string): void {
    this.write(textFrame(json));
  }

  /** Counts a client message; false when the client went over its rate. */
  admit(now: number): boolean {
    const window = Math.floor(now / 1000);
    if (window !== this.#rateWindow) {
      this.#rateWindow = window;
      this.#rateCount = 0;
    }
    return ++this.#rateCount <= this.#limits.clientRate;
  }

  /**
   * Resolves once at most `bytes` are unsent (true), or once the socket is closing (false):
   * a long replay is written in steps, as the client reads, never all at once.
   */
  async drained(bytes: number): Promise<boolean> {
    const t = this.transport;
    while (!this.closed && t.open && t.bufferedBytes > bytes) await t.drain();
    return !this.closed && t.open;
  }

  get maxBufferedBytes(): number {
    return this.#limits.maxBufferedBytes;
  }

  get bufferedBytes(): number {
    return this.transport.bufferedBytes;
  }

  /** Closes with a code; the connection is destroyed if closing does not finish soon. */
  close(code: number, reason: string, why: CloseReason): void {
    if (this.closed) return;
    this.#stop();
    this.closed = true;
    this.closeReason = why;
    this.transport.close(code, reason, why === 'slow' ? 1000 : 5000);
  }

  /** Drops the connection at once (dead peer). */
  terminate(why: CloseReason): void {
    this.#stop();
    this.closed = true;
    this.closeReason ??= why;
    this.transport.terminate();
  }

  #stop(): void {
    if (this.stoppedCursors || this.closed) return;
    this.onStop?.(this);
  }
}
