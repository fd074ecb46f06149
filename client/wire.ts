// The herald.v1 frames as the client sees them, typed for the SDK's users (the server's
// encoders in src/protocol/v1.ts write them; close codes are shared from src/protocol).

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The subprotocol this SDK speaks. */
export const SUBPROTOCOL = 'herald.v1';

/** Where a client is in a topic's stream: the last offset it saw, in which epoch. */
export interface Position {
  offset: number;
  epoch: string;
}

export type RequestId = string | number;

export interface WelcomeFrame {
  type: 'welcome';
  client: string;
  user: string | number;
  topics: string[];
  heartbeat_ms: number;
}

export interface MessageFrame {
  type: 'message';
  topic: string;
  data?: JsonValue;
  binary?: string;
  offset: number;
  epoch: string;
  ts: number;
  /** Present when a client published it (not a backend): the publishing client's user. */
  from?: { user: string | number };
}

export interface OkFrame {
  type: 'ok';
  id?: RequestId;
  offset?: number;
}

export interface PongFrame {
  type: 'pong';
  id?: RequestId;
}

export interface ErrorFrame {
  type: 'error';
  id?: RequestId;
  code: string;
  message: string;
}

export interface RecoveredFrame {
  type: 'recovered';
  topic: string;
  epoch: string;
  offset: number;
  complete: boolean;
}

/** The backend added a topic to this client's registration (it is received from now on). */
export interface SubscribedFrame {
  type: 'subscribed';
  topic: string;
}

/** The server left a topic for this client: `forbidden`, the backend took the right away. */
export interface UnsubscribedFrame {
  type: 'unsubscribed';
  topic: string;
  reason: string;
}


/** One user holding a presence topic, with how many of their clients hold it. */
export interface PresenceMember {
  user: string | number;
  clients: number;
}

export interface PresenceFrame {
  type: 'presence';
  id?: RequestId;
  topic: string;
  clients: number;
  users: number;
  members?: PresenceMember[];
}

/** A user's first client joined (`join`) or last client left (`leave`) a presence topic. */
export interface JoinLeaveFrame {
  type: 'join' | 'leave';
  topic: string;
  user: string | number;
}

export type ServerFrame = WelcomeFrame | MessageFrame | OkFrame | PongFrame | ErrorFrame | RecoveredFrame | SubscribedFrame | UnsubscribedFrame | PresenceFrame | JoinLeaveFrame;

export type ClientRequest =
  | { type: 'subscribe'; topics: string[]; since?: Record<string, Position>; id?: RequestId }
  | { type: 'unsubscribe'; topics: string[]; id?: RequestId }
  | { type: 'topics'; topics: string[]; id?: RequestId }
  | { type: 'ping'; id?: RequestId }
  | { type: 'publish'; topic: string; data: unknown; id?: RequestId }
  | { type: 'refresh'; token: string; id?: RequestId }
  | { type: 'presence'; topic: string; id?: RequestId };

const KNOWN = new Set(['welcome', 'message', 'ok', 'pong', 'error', 'recovered', 'subscribed', 'unsubscribed', 'presence', 'join', 'leave']);

/**
 * Splits one text frame into the server frames it holds: the server may batch several
 * JSON objects per WebSocket frame, one per line. Lines that are not a known frame are
 * returned in `invalid` rather than thrown, so one bad line does not hide the others.
 */
export function parseFrames(text: string): { frames: ServerFrame[]; invalid: string[] } {
  const frames: ServerFrame[] = [];
  const invalid: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      invalid.push(line);
      continue;
    }
    if (isFrame(value)) frames.push(value);
    else invalid.push(line);
  }
  return { frames, invalid };
}

function isFrame(value: unknown): value is ServerFrame {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !KNOWN.has(type)) return false;
  if (type === 'message') {
    const m = value as Partial<MessageFrame>;
    return typeof m.topic === 'string' && typeof m.offset === 'number' && typeof m.epoch === 'string';
  }
  if (type === 'join' || type === 'leave') {
    const j = value as Partial<JoinLeaveFrame>;
    return typeof j.topic === 'string' && (typeof j.user === 'string' || typeof j.user === 'number');
  }
  if (type === 'presence') {
    const p = value as Partial<PresenceFrame>;
    return typeof p.topic === 'string' && typeof p.clients === 'number' && typeof p.users === 'number';
  }
  if (type === 'recovered') {
    const r = value as Partial<RecoveredFrame>;
    return typeof r.topic === 'string' && typeof r.offset === 'number' && typeof r.epoch === 'string';
  }
  if (type === 'subscribed' || type === 'unsubscribed') return typeof (value as { topic?: unknown }).topic === 'string';
  return true;
}

/** Decodes base64 without Node's Buffer, so the same code runs in browsers. */
export function decodeBase64(text: string): Uint8Array {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}
