import { encodeFrame, Opcode } from '../protocol/frame.js';
import { sseEvent } from '../protocol/sse.js';
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
  #plain: Buffer | undefined;
  #v1: Buffer | undefined;
  #json: string | undefined;

  constructor(message: Message) {
    this.message = message;
    this.userKey = message.userId === undefined ? undefined : String(message.userId);
  }

  /** The herald.v1 `message` object, one line of JSON (herald.v1 frames and SSE `data:` both carry it). */
  get json(): string {
    return (this.#json ??= encodeMessage(this.message));
  }

  /** The message framed for `protocol`. SSE: an event without `id:` (the hub adds each stream's resume token, see sse-frames.ts). */
  frame(protocol: ProtocolName): Buffer {
    if (protocol === 'plain') return (this.#plain ??= plainFrame(this.message));
    if (protocol === 'herald.v1') return (this.#v1 ??= encodeFrame(Opcode.text, Buffer.from(this.json)));
    return Buffer.from(sseEvent(this.json));
  }
}

function plainFrame(m: Message): Buffer {
  if (m.kind === 'binary') return encodeFrame(Opcode.binary, Buffer.from(m.body, 'base64'));
  return encodeFrame(Opcode.text, Buffer.from(m.body, 'utf8'));
}
