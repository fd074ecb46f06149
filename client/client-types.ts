// The public types of HeraldClient: its options, states and events.
import type { BackoffOptions } from './backoff.js';
import type { HeraldError } from './herald-error.js';
import type { HeraldMessage, Recovery } from './message.js';
import type { SocketFactory } from './socket.js';
import type { SseFactory } from './sse-stream.js';

/** How a client receives: a WebSocket (everything), or Server-Sent Events (receive only). */
export type Transport = 'websocket' | 'sse';

/** Where the connection stands. `closed` is final: the client never reconnects from it. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

/**
 * A state change; `code`/`reason` say why a connection ended, `retryInMs` when the next try is,
 * and `status` the HTTP status that refused a connection attempt (503 when the server is
 * overloaded), where the platform shows it: Node, and SSE over fetch; not browsers' WebSocket.
 */
export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  code?: number;
  reason?: string;
  retryInMs?: number;
  status?: number;
}

/** What the server said when the connection opened: this registration's id, user and topics. */
export interface Welcome {
  client: string;
  user: string | number;
  topics: string[];
  heartbeatMs: number;
}

/** Why the client closed for good. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * Connecting with a connection token instead of a registration URL: `url` is the server's
 * token endpoint (`ws://HOST/ws`), and `getToken()` is asked for a fresh token (a JWT your
 * backend signs) before every connection and ahead of every expiry.
 */
export interface HeraldClientConfig extends HeraldClientOptions {
  url: string;
  getToken?: () => string | Promise<string>;
}

/** Options of {@link HeraldClient}; every one has a default. */
export interface HeraldClientOptions {
  /** Reconnect delays. Default: 500 ms, doubling, up to 30 s, with full jitter. */
  backoff?: BackoffOptions;
  /** How long a request (publish, subscribe, ping) waits for its reply. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** How long a connection attempt may take until the server's welcome. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Makes the WebSocket; default: the global WebSocket, else the `ws` package. */
  socketFactory?: SocketFactory;
  /**
   * How to connect, in order of preference. Default `['websocket']`. With `['websocket', 'sse']`,
   * a WebSocket refused before it opened (a proxy that breaks them) makes the client receive over
   * Server-Sent Events instead: messages and recovery work, `publish()` and `ping()` reject with
   * `websocket_required`. `['sse']` receives over SSE from the start.
   */
  transports?: Transport[];
  /** Opens an SSE stream; default: the global EventSource, else a fetch-based reader. */
  sseFactory?: SseFactory;
}

/** Events of a {@link HeraldClient}. */
export interface HeraldClientEvents {
  state: [change: StateChange];
  welcome: [welcome: Welcome];
  /** Every new message of every topic this connection receives, subscribed here or at registration. */
  message: [message: HeraldMessage];
  recovered: [recovery: Recovery];
  /** The backend added a topic to this client's registration: its messages arrive from now on. */
  subscribed: [topic: string];
  /** The server left a topic for this client (`forbidden`: the backend took the right away); a subscription to it ends with that error. */
  unsubscribed: [topic: string, reason: string];
  /** A user's first client joined a presence topic this connection holds (HERALD_PRESENCE_TOPICS). */
  join: [event: PresenceChange];
  /** A user's last client left a presence topic this connection holds. */
  leave: [event: PresenceChange];
  /** A server error that answers no request, or a frame the client could not read. */
  error: [error: HeraldError];
}

/** A join or leave on a presence topic: one per user, not per client. */
export interface PresenceChange {
  topic: string;
  user: string | number;
}

/** Who holds a presence topic, on every node ({@link HeraldClient.presence}). */
export interface PresenceInfo {
  topic: string;
  /** Sockets holding it. */
  clients: number;
  /** Distinct users among them. */
  users: number;
  members: Array<{ user: string | number; clients: number }>;
}
