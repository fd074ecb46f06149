import { encodeFrame, Opcode } from '../protocol/frame.js';
import { encodeMessage } from '../protocol/v1.js';
import type { Message } from './message.js';

export type ProtocolName = 'plain' | 'herald.v1';

/**
 * A message on its way out of this process, with its frames encoded at most once per
 * protocol: every subscriber of that protocol gets the same bytes.
 */
export class Outgoing {
  readonly message: Message;
  readonly userKey: string | undefined;
  #plain: Buffer | undefined;
  #v1: Buffer | undefined;

  constructor(message: Message) {
    this.message = message;
    this.userKey = message.userId === undefined ? undefined : String(message.userId);
  }

  frame(protocol: ProtocolName): Buffer {
    return protocol === 'plain' ? (this.#plain ??= plainFrame(this.message)) : (this.#v1 ??= encodeFrame(Opcode.text, Buffer.from(encodeMessage(this.message))));
  }
}

function plainFrame(m: Message): Buffer {
  if (m.kind === 'binary') return encodeFrame(Opcode.binary, Buffer.from(m.body, 'base64'));
  return encodeFrame(Opcode.text, Buffer.from(m.body, 'utf8'));
}
