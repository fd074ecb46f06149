// Server-Sent Events (DESIGN.md 9): the herald.v1 `message` object as one `data:` line per
// event, and an `id:` that is a resume token for every topic of the stream. The token is opaque
// to clients; it is parsed here, defensively (it comes back as a client-sent header).
//
// Token: one entry per topic, joined by ".". An entry is 6 characters naming the topic (36 bits
// of two FNV-1a hashes, base64url), 8 naming its epoch (our epochs are 6 random bytes in
// base64url, kept as they are), then the offset in base 36. A topic at offset 1234 of its
// epoch is 17 characters: 100 topics make a ~1.8 KB header. Entries concatenate, so the hub
// builds one event's token from the other topics' entries (shared by every subscriber whose
// positions are the same) plus the message's own.
import type { StreamPosition } from '../core/message.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const EPOCH = /^[A-Za-z0-9_-]{8}$/;
const ENTRY = /^([A-Za-z0-9_-]{6})([A-Za-z0-9_-]{8})([0-9a-z]{1,11})$/;
/** A token of more entries is not read (a stream has at most HERALD_MAX_TOPICS topics). */
export const MAX_TOKEN_ENTRIES = 1000;
/** A Last-Event-ID longer than this is ignored (`?last_event_id=` longer: 400); 16 KB is also Node's header limit. */
export const MAX_TOKEN_LENGTH = 10_000;

function fnv1a(text: string, basis: number): number {
  let h = basis;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function chars(n: number, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += B64[(n >>> (6 * i)) & 63];
  return out;
}

/** 36 bits of two independent hashes, as 6 base64url characters. */
function digest(text: string, length: 6 | 8): string {
  const a = fnv1a(text, 0x811c9dc5);
  const b = fnv1a(text, 0x050c5d1f);
  return length === 6 ? chars(a, 3) + chars(b, 3) : chars(a, 4) + chars(b, 4);
}

// Topic keys are asked for on every flush of a multi-topic stream: cached, within a bound.
const keys = new Map<string, string>();
const MAX_CACHED_KEYS = 10_000;

/** The 6 characters that name a topic in a token. */
export function topicKey(topic: string): string {
  let k = keys.get(topic);
  if (k === undefined) {
    if (keys.size >= MAX_CACHED_KEYS) keys.clear();
    k = digest(topic, 6);
    keys.set(topic, k);
  }
  return k;
}

/**
 * One topic's entry. An epoch of another shape (or none: a topic never published) is kept as
 * a digest: read back, it names no real epoch, so a resume from it is reported incomplete
 * unless the offset is 0 ("from the start"), which needs no epoch.
 */
export function tokenEntry(key: string, position: StreamPosition): string {
  const epoch = EPOCH.test(position.epoch) ? position.epoch : digest(position.epoch, 8);
  return key + epoch + position.offset.toString(36);
}

/** Positions by topic key, from a token; undefined when it is not one of ours (it is then ignored). */
export function parseToken(token: string): Map<string, StreamPosition> | undefined {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.', MAX_TOKEN_ENTRIES + 1);
  if (parts.length > MAX_TOKEN_ENTRIES) return undefined;
  const out = new Map<string, StreamPosition>();
  for (const part of parts) {
    const m = ENTRY.exec(part);
    if (!m) return undefined;
    const offset = parseInt(m[3]!, 36);
    if (!Number.isSafeInteger(offset)) return undefined;
    out.set(m[1]!, { offset, epoch: m[2]! });
  }
  return out;
}

/**
 * The positions a token names for a stream's topics. A key two of the topics share (a hash
 * collision) names neither: those topics resume as if the token did not mention them.
 */
export function positionsFor(token: Map<string, StreamPosition>, topics: readonly string[]): Record<string, StreamPosition> {
  const byKey = new Map<string, string | null>();
  for (const t of topics) {
    const k = topicKey(t);
    byKey.set(k, byKey.has(k) ? null : t);
  }
  const out = Object.create(null) as Record<string, StreamPosition>;
  for (const [k, pos] of token) {
    const t = byKey.get(k);
    if (t) out[t] = pos;
  }
  return out;
}

/** The first bytes of a stream: how long browsers wait before reconnecting (ms). */
export function retryLine(ms: number): string {
  return `retry: ${ms}\n\n`;
}

/** A comment line: keeps proxies and the browser from timing out an idle stream. */
export const HEARTBEAT = Buffer.from(':\n');

/**
 * One event. `data` must be one line (our JSON always is: JSON.stringify escapes line
 * breaks); no `event` name means `onmessage` gets it; no `id` leaves the browser's
 * Last-Event-ID as it was.
 */
export function sseEvent(data: string, id?: string, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}${id === undefined ? '' : `id: ${id}\n`}data: ${data}\n\n`;
}

/**
 * The last event before the server ends a stream: why (a close code of DESIGN.md 2). EventSource
 * reconnects after any end; a page that gets 4000 (replaced) or 4001 (unregistered) should
 * call close(), or it would take the stream back from its successor.
 */
export function closeEvent(code: number, reason: string): Buffer {
  return Buffer.from(sseEvent(JSON.stringify({ type: 'close', code, reason }), undefined, 'close'));
}
