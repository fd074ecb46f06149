import { encodeFrame, Opcode, textFrame } from '../protocol/frame.js';
import { encodeMessage } from '../protocol/v1.js';
import type { Message } from './message.js';

export type ProtocolName = 'plain' | 'herald.v1' | 'sse';

/**
 * A message on its way out of this process, with its frames encoded at most once per
 * protocol: every subscriber of that protocol gets the same bytes.
 */
export class Outgoing {
  readonly message: Message;
  readonly userKey: string | undefined;
  /**
   * A join/leave event instead of a message: its herald.v1 lines (one JSON object each). It has
   * no offset and moves no cursor; plain clients never get it (its plain frame is empty).
   */
  readonly presence: string | undefined;
  #plain: Buffer | undefined;
  #v1: Buffer | undefined;
  #json: string | undefined;

  constructor(message: Message, presence?: string) {
    this.message = message;
    this.userKey = message.userId === undefined ? undefined : String(message.userId);
    this.presence = presence;
  }

  /** Join/leave lines for a topic's herald.v1 holders, queued among its messages. */
  static presence(topic: string, lines: string): Outgoing {
    return new Outgoing({ id: '', topic, kind: 'text', body: lines, offset: 0, epoch: '', ts: Date.now() }, lines);
  }

  /** The herald.v1 `message` object, one line of JSON (herald.v1 frames and SSE `data:` both carry it). */
  get json(): string {
    return (this.#json ??= encodeMessage(this.message));
  }

  /** The message framed for `protocol` (SSE events carry each stream's resume token: the hub frames them, see Hub.framer). */
  frame(protocol: ProtocolName): Buffer {
    // Join/leave events go to herald.v1 clients only.
    if (this.presence !== undefined) return protocol === 'herald.v1' ? (this.#v1 ??= textFrame(this.presence)) : EMPTY;
    if (protocol === 'plain') return (this.#plain ??= plainFrame(this.message));
    if (protocol === 'herald.v1') return (this.#v1 ??= textFrame(this.json));
    throw new Error('SSE events are framed by the hub (Hub.framer): each carries its stream\'s resume token');
  }
}

const EMPTY = Buffer.alloc(0);

/** Join/leave lines merged into one text frame up to this size (herald.v1 allows several objects per frame). */
const MERGE_MAX = 64 * 1024;

/**
 * The frames of a run of outgoing items for one protocol, as one Buffer. Consecutive join/leave
 * events share a text frame, one object per line, so a burst of joins costs a watcher a few
 * frames, not one per user; plain clients get the messages only.
 */
export function joinFrames(q: readonly Outgoing[], protocol: ProtocolName): Buffer {
  if (q.length === 1) return q[0]!.frame(protocol);
  const parts: Buffer[] = [];
  let lines = '';
  for (const o of q) {
    if (o.presence !== undefined) {
      if (protocol === 'plain') continue;
      if (lines.length > 0 && lines.length + o.presence.length > MERGE_MAX) {
        parts.push(textFrame(lines));
        lines = '';
      }
      lines = lines.length === 0 ? o.presence : `${lines}\n${o.presence}`;
      continue;
    }
    if (lines.length > 0) {
      parts.push(textFrame(lines));
      lines = '';
    }
    parts.push(o.frame(protocol));
  }
  if (lines.length > 0) parts.push(textFrame(lines));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function plainFrame(m: Message): Buffer {
  if (m.kind === 'binary') return encodeFrame(Opcode.binary, Buffer.from(m.body, 'base64'));
  return textFrame(m.body);
}
