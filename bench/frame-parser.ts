// An incremental parser of server->client WebSocket frames (RFC 6455 §5.2), cheap enough that a
// single core can count millions of messages: no copies unless the payload is asked for.
// It handles many frames per TCP chunk and frames split across chunks (Herald coalesces writes).

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

export interface FrameSink {
  /** A complete data message. `payload` is null unless the parser was asked to capture payloads. */
  onMessage(opcode: number, payload: Buffer | null, length: number): void;
  /** A control frame (close, ping, pong) with its payload (at most 125 bytes). */
  onControl(opcode: number, payload: Buffer): void;
  /** A protocol violation by the server (masked frame, oversize control frame). */
  onProtocolError(reason: string): void;
}

const MAX_HEADER = 10;

export class FrameParser {
  readonly #sink: FrameSink;
  #capture: boolean;
  #head: Buffer | null = null;
  #inFrame = false;
  #opcode = 0;
  #fin = false;
  #remaining = 0;
  #frameLength = 0;
  #parts: Buffer[] = [];
  // Control frames may arrive between the fragments of a data message: keep them apart.
  #controlParts: Buffer[] = [];
  // A data message may span several frames (FIN=0 then continuations).
  #messageOpcode = 0;
  #messageLength = 0;
  #failed = false;

  constructor(sink: FrameSink, capture = false) {
    this.#sink = sink;
    this.#capture = capture;
  }

  /** Whether data payloads are handed to the sink (needed to read timestamps). */
  set capture(value: boolean) {
    this.#capture = value;
  }

  /** Parses a chunk; the parser keeps no reference to it after returning, so its memory may be reused. */
  feed(chunk: Buffer): void {
    if (this.#failed) return;
    let buf = chunk;
    if (this.#head !== null) {
      buf = Buffer.concat([this.#head, chunk]);
      this.#head = null;
    }
    const end = buf.length;
    let pos = 0;
    while (pos < end) {
      if (!this.#inFrame) {
        const headerEnd = this.#readHeader(buf, pos, end);
        if (headerEnd < 0) {
          // An incomplete header (< 10 bytes) waits for the next chunk.
          this.#head = Buffer.from(buf.subarray(pos, end));
          return;
        }
        if (this.#failed) return;
        pos = headerEnd;
        if (this.#remaining === 0) {
          this.#complete(this.#kept());
          continue;
        }
      }
      const take = Math.min(this.#remaining, end - pos);
      const kept = this.#kept();
      if (kept !== null) kept.push(buf.subarray(pos, pos + take));
      pos += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#complete(kept);
    }
    // The caller may reuse the chunk's memory (net's `onread` buffer): keep copies of what outlives this call.
    if (this.#parts.length > 0) this.#parts = [Buffer.concat(this.#parts)];
    if (this.#controlParts.length > 0) this.#controlParts = [Buffer.concat(this.#controlParts)];
  }

  // Where the current frame's payload goes, or null when it is only counted.
  #kept(): Buffer[] | null {
    if (this.#opcode >= OPCODE_CLOSE) return this.#controlParts;
    return this.#capture ? this.#parts : null;
  }

  // Returns the offset after the header, or -1 when the header is not complete yet.
  #readHeader(buf: Buffer, pos: number, end: number): number {
    if (end - pos < 2) return -1;
    const b0 = buf[pos] as number;
    const b1 = buf[pos + 1] as number;
    if ((b1 & 0x80) !== 0) return this.#fail('server frames must not be masked');
    let length = b1 & 0x7f;
    let size = 2;
    if (length === 126) {
      if (end - pos < 4) return -1;
      length = buf.readUInt16BE(pos + 2);
      size = 4;
    } else if (length === 127) {
      if (end - pos < MAX_HEADER) return -1;
      length = buf.readUInt32BE(pos + 2) * 2 ** 32 + buf.readUInt32BE(pos + 6);
      size = MAX_HEADER;
    }
    const opcode = b0 & 0x0f;
    if (opcode >= OPCODE_CLOSE && length > 125) return this.#fail('control frame longer than 125 bytes');
    this.#opcode = opcode;
    this.#fin = (b0 & 0x80) !== 0;
    this.#remaining = length;
    this.#frameLength = length;
    this.#inFrame = true;
    return pos + size;
  }

  #fail(reason: string): number {
    this.#failed = true;
    this.#sink.onProtocolError(reason);
    return 0;
  }

  #complete(parts: Buffer[] | null): void {
    this.#inFrame = false;
    const opcode = this.#opcode;
    if (opcode >= OPCODE_CLOSE) {
      const payload = parts === null || parts.length === 0 ? Buffer.alloc(0) : joinParts(parts);
      this.#controlParts = [];
      this.#sink.onControl(opcode, payload);
      return;
    }
    if (opcode !== OPCODE_CONTINUATION) {
      this.#messageOpcode = opcode;
      this.#messageLength = 0;
    }
    this.#messageLength += this.#frameLength;
    if (!this.#fin) return; // keep collecting parts of a fragmented message
    const payload = parts === null ? null : joinParts(parts);
    this.#parts = [];
    this.#sink.onMessage(this.#messageOpcode, payload, this.#messageLength);
  }
}

function joinParts(parts: Buffer[]): Buffer {
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}
