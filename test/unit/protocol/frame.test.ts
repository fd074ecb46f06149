import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as wsModule from 'ws';
import { encodeFrame, Opcode, textFrame } from '../../../src/protocol/frame.js';

interface WsReceiver {
  on(event: 'message', fn: (data: Buffer, binary: boolean) => void): void;
  write(chunk: Buffer): void;
}
// ws ships its frame parser but @types/ws does not describe it.
const { Receiver } = wsModule as unknown as { Receiver: new (options: { isServer: boolean }) => WsReceiver };

/** Parses frames with ws's own receiver (as a client would), returning the messages. */
function parse(frames: Buffer): Array<{ data: Buffer; binary: boolean }> {
  const out: Array<{ data: Buffer; binary: boolean }> = [];
  const r = new Receiver({ isServer: false });
  r.on('message', (data: Buffer, binary: boolean) => out.push({ data, binary }));
  r.write(frames);
  return out;
}

describe('frame encoding', () => {
  for (const size of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    test(`a ${size}-byte payload is a valid unmasked frame`, () => {
      const payload = Buffer.alloc(size, 0x61);
      const [m] = parse(encodeFrame(Opcode.binary, payload));
      assert.equal(m!.binary, true);
      assert.equal(m!.data.length, size);
      assert.ok(m!.data.equals(payload));
    });
  }

  test('text frames carry UTF-8 and concatenated frames parse one by one', () => {
    const frames = Buffer.concat([textFrame('héllo'), textFrame('wörld'), encodeFrame(Opcode.binary, Buffer.from([1, 2]))]);
    const msgs = parse(frames);
    assert.deepEqual(msgs.map((m) => (m.binary ? [...m.data] : m.data.toString())), ['héllo', 'wörld', [1, 2]]);
  });
});

describe('text frames', () => {
  // textFrame writes the UTF-8 straight into the frame: each length form, and multi-byte characters.
  for (const size of [0, 125, 126, 65535, 65536]) {
    test(`a ${size}-byte text is the same frame encodeFrame makes`, () => {
      const text = 'é'.repeat(Math.floor(size / 2)) + 'a'.repeat(size % 2);
      const frame = textFrame(text);
      assert.ok(frame.equals(encodeFrame(Opcode.text, Buffer.from(text, 'utf8'))));
      const [m] = parse(frame);
      assert.equal(m!.binary, false);
      assert.equal(m!.data.toString('utf8'), text);
    });
  }
});
