// Server-to-client WebSocket frames (RFC 6455 section 5.2): FIN set, unmasked. Encoding them here
// lets the hub frame a message once and write the same bytes to every subscriber.

export const Opcode = { text: 0x1, binary: 0x2 } as const;

export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const headerLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLen + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) {
    frame[1] = len;
  } else if (len < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  payload.copy(frame, headerLen);
  return frame;
}

export function textFrame(text: string): Buffer {
  return encodeFrame(Opcode.text, Buffer.from(text, 'utf8'));
}
