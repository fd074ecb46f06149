// herald.v1: JSON objects with a `type`. Decoding never throws: every bad input becomes an
// error reply that says what was wrong. Encoders build the JSON text by hand where the
// payload is already JSON, so a message is serialized once for every subscriber.
import type { Message, StreamPosition, UserId } from '../core/message.js';
import { DEFAULT_MAX_JSON_DEPTH, describeValue, nestedDeeperThan } from './json-safety.js';

export const V1 = 'herald.v1';

export type RequestId = string | number;

export type V1Request =
  | { type: 'subscribe'; id?: RequestId; topics: unknown; since?: Record<string, StreamPosition> }
  | { type: 'unsubscribe'; id?: RequestId; topics: unknown }
  | { type: 'topics'; id?: RequestId; topics: unknown }
  | { type: 'ping'; id?: RequestId }
  | { type: 'publish'; id?: RequestId; topic: string; data: unknown }
  | { type: 'refresh'; id?: RequestId; token: string }
  | { type: 'presence'; id?: RequestId; topic: string };

export interface V1DecodeError {
  id?: RequestId;
  code: 'invalid_json' | 'bad_request' | 'unknown_type' | 'too_deep';
  message: string;
}

export type V1Decoded = { ok: true; request: V1Request } | { ok: false; error: V1DecodeError };

const fail = (code: V1DecodeError['code'], message: string, id?: RequestId): V1Decoded => ({ ok: false, error: id === undefined ? { code, message } : { id, code, message } });

function isRequestId(v: unknown): v is RequestId {
  return (typeof v === 'string' && v.length <= 128) || (typeof v === 'number' && Number.isFinite(v));
}

/** Checks a `since` map {topic: {offset, epoch}}; returns it (without a prototype) or what is wrong. */
export function checkSince(v: unknown): Record<string, StreamPosition> | string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return '`since` must be an object {topic: {offset, epoch}}';
  // No prototype: a topic named "__proto__" stays an own key, and "constructor" etc. have no position.
  const out: Record<string, StreamPosition> = Object.create(null) as Record<string, StreamPosition>;
  for (const [topic, pos] of Object.entries(v as Record<string, unknown>)) {
    if (pos === null || typeof pos !== 'object') return `since[${describeValue(topic)}] must be {offset, epoch}`;
    const { offset, epoch } = pos as { offset?: unknown; epoch?: unknown };
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return `since[${describeValue(topic)}].offset must be a non-negative integer`;
    if (typeof epoch !== 'string') return `since[${describeValue(topic)}].epoch must be a string`;
    out[topic] = { offset, epoch };
  }
  return out;
}

export function decodeV1(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): V1Decoded {
  // Measured on the text: a deep value is never parsed, so nothing later can recurse into it.
  if (nestedDeeperThan(text, maxDepth)) return fail('too_deep', `the request nests JSON deeper than ${maxDepth} levels (HERALD_MAX_JSON_DEPTH)`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('invalid_json', 'the frame is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail('bad_request', 'a request must be a JSON object with a "type"');
  const o = value as Record<string, unknown>;
  let id: RequestId | undefined;
  if (o.id !== undefined) {
    if (!isRequestId(o.id)) return fail('bad_request', '"id" must be a string (up to 128 characters) or a number');
    id = o.id;
  }
  const withId = <T extends object>(r: T): T & { id?: RequestId } => (id === undefined ? r : { ...r, id });
  switch (o.type) {
    case 'subscribe': {
      if (!('topics' in o)) return fail('bad_request', 'subscribe needs "topics": [...]', id);
      if (o.since === undefined) return { ok: true, request: withId({ type: 'subscribe', topics: o.topics }) };
      const since = checkSince(o.since);
      if (typeof since === 'string') return fail('bad_request', since, id);
      return { ok: true, request: withId({ type: 'subscribe', topics: o.topics, since }) };
    }
    case 'unsubscribe':
    case 'topics':
      if (!('topics' in o)) return fail('bad_request', `${o.type} needs "topics": [...]`, id);
      return { ok: true, request: withId({ type: o.type, topics: o.topics }) };
    case 'ping':
      return { ok: true, request: withId({ type: 'ping' }) };
    case 'publish':
      if (typeof o.topic !== 'string') return fail('bad_request', 'publish needs "topic": string', id);
      if (!('data' in o)) return fail('bad_request', 'publish needs "data"', id);
      return { ok: true, request: withId({ type: 'publish', topic: o.topic, data: o.data }) };
    case 'refresh':
      if (typeof o.token !== 'string') return fail('bad_request', 'refresh needs "token": string (a new connection token)', id);
      return { ok: true, request: withId({ type: 'refresh', token: o.token }) };
    case 'presence':
      if (typeof o.topic !== 'string') return fail('bad_request', 'presence needs "topic": string', id);
      return { ok: true, request: withId({ type: 'presence', topic: o.topic }) };
    case undefined:
      return fail('bad_request', 'a request needs a "type"', id);
    default:
      return fail('unknown_type', `unknown type ${describeValue(o.type)}; expected subscribe, unsubscribe, topics, ping, publish, refresh or presence`, id);
  }
}

const idPart = (id: RequestId | undefined): string => (id === undefined ? '' : `,"id":${JSON.stringify(id)}`);

export function encodeMessage(m: Message): string {
  const payload = m.kind === 'json' ? `"data":${m.body}` : m.kind === 'text' ? `"data":${JSON.stringify(m.body)}` : `"binary":${JSON.stringify(m.body)}`;
  // A client's publish says who sent it, so receivers can tell it from a backend's.
  const from = m.fromUser === undefined ? '' : `,"from":{"user":${JSON.stringify(m.fromUser)}}`;
  return `{"type":"message","topic":${JSON.stringify(m.topic)},${payload},"offset":${m.offset},"epoch":${JSON.stringify(m.epoch)},"ts":${m.ts}${from}}`;
}

export function encodeWelcome(client: string, user: UserId, topics: string[], heartbeatMs: number): string {
  return JSON.stringify({ type: 'welcome', client, user, topics, heartbeat_ms: heartbeatMs });
}

export function encodeOk(id: RequestId | undefined, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(id === undefined ? { type: 'ok', ...extra } : { type: 'ok', id, ...extra });
}

export function encodePong(id: RequestId | undefined): string {
  return `{"type":"pong"${idPart(id)}}`;
}

export function encodeError(id: RequestId | undefined, code: string, message: string): string {
  return JSON.stringify(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
}

/** A topic the backend added (PATCH) is now held: messages published from now on are delivered. */
export function encodeSubscribed(topic: string): string {
  return `{"type":"subscribed","topic":${JSON.stringify(topic)}}`;
}

/** A topic left on the server's side; `forbidden`: the client may no longer read it. */
export function encodeUnsubscribed(topic: string, reason: 'forbidden'): string {
  return `{"type":"unsubscribed","topic":${JSON.stringify(topic)},"reason":"${reason}"}`;
}

export function encodeRecovered(topic: string, position: StreamPosition, complete: boolean): string {
  return JSON.stringify({ type: 'recovered', topic, epoch: position.epoch, offset: position.offset, complete });
}

/** The body of a presence answer (HTTP) and of the herald.v1 `presence` reply. */
export interface PresenceBody {
  topic: string;
  clients: number;
  users: number;
  members?: Array<{ user: UserId; clients: number }>;
}

export function encodePresence(id: RequestId | undefined, body: PresenceBody): string {
  return JSON.stringify(id === undefined ? { type: 'presence', ...body } : { type: 'presence', id, ...body });
}

/** Join/leave objects for one topic, one per line (several objects may share a text frame). */
export function encodePresenceLines(topic: string, joined: readonly UserId[], left: readonly UserId[]): string {
  const t = JSON.stringify(topic);
  const lines: string[] = [];
  for (const u of joined) lines.push(`{"type":"join","topic":${t},"user":${JSON.stringify(u)}}`);
  for (const u of left) lines.push(`{"type":"leave","topic":${t},"user":${JSON.stringify(u)}}`);
  return lines.join('\n');
}
