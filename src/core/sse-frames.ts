// The hub's SSE framing. Each event's `id:` covers every topic of its stream, so it differs
// between streams whose positions differ; but every live stream of a topic stands at the same
// place in that topic, and streams of the same topics (the common case) stand at the same
// place in all of them. The hub keys a run's bytes by the "other topics" part of the token,
// so those streams share one Buffer: framed once, written many times.
import { sseEvent, tokenEntry, topicKey } from '../protocol/sse.js';
import { encodeRecovered } from '../protocol/v1.js';
import type { StreamPosition } from './message.js';
import type { Outgoing } from './outgoing.js';
import type { Session } from './session.js';

export type CursorOf = (s: Session, topic: string) => StreamPosition | undefined;

/** The token entries of a stream's topics other than `topic`: where it stands in each. */
export function otherEntries(s: Session, topic: string, cursor: CursorOf): string {
  if (s.links.size <= 1) return '';
  let out = '';
  for (const t of s.links.topics()) {
    if (t === topic) continue;
    const c = cursor(s, t);
    if (c === undefined) continue; // still joining from nowhere: the next connection starts it again
    out += out.length === 0 ? tokenEntry(topicKey(t), c) : `.${tokenEntry(topicKey(t), c)}`;
  }
  return out;
}

function token(others: string, key: string, position: StreamPosition): string {
  const own = tokenEntry(key, position);
  return others.length === 0 ? own : `${others}.${own}`;
}

/**
 * A run of one topic's messages as events. An unsequenced message (offset 0: the engine was
 * down) has no `id:`: it moves no position, so the browser keeps its last one.
 */
export function sseRun(others: string, topic: string, run: readonly Outgoing[]): Buffer {
  const key = topicKey(topic);
  let text = '';
  for (const o of run) {
    if (o.presence !== undefined) continue; // join/leave events are herald.v1's only
    const m = o.message;
    text += m.offset > 0 ? sseEvent(o.json, token(others, key, m)) : sseEvent(o.json);
  }
  return Buffer.from(text);
}

/** `event: recovered` for a gap older than history; its id moves the stream past the seam. */
export function sseRecovered(others: string, topic: string, seam: StreamPosition, complete: boolean): Buffer {
  return Buffer.from(sseEvent(encodeRecovered(topic, seam, complete), token(others, topicKey(topic), seam), 'recovered'));
}
