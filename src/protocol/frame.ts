// Server-to-client WebSocket frames (RFC 6455 section 5.2): FIN set, unmasked. Encoding them here
// lets the hub frame a message once and write the same bytes to every subscriber.

export const Opcode = { text: 0x1, binary: 0x2 } as const;

export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const frame = Buffer.allocUnsafe(headerLength(len) + len);
  payload.copy(frame, writeHeader(frame, opcode, len));
  return frame;
}

/** A text frame, its UTF-8 written straight into the frame: one buffer per frame, not two. */
export function textFrame(text: string): Buffer {
  const len = Buffer.byteLength(text, 'utf8');
  const frame = Buffer.allocUnsafe(headerLength(len) + len);
  frame.write(text, writeHeader(frame, Opcode.text, len), len, 'utf8');
  return frame;
}

function headerLength(len: number): number {
  return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

/** Writes the header of a final, unmasked frame; returns where the payload starts. */
function writeHeader(frame: Buffer, opcode: number, len: number): number {
  frame[0] = 0x80 | opcode;
  if (len < 126) {
    frame[1] = len;
    return 2;
  }
  if (len < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
    return 4;
  }
  frame[1] = 127;
  frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
  frame.writeUInt32BE(len >>> 0, 6);
  return 10;
}
