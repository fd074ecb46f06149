// The load generator's frame parser must count exactly what the server sent, however the bytes
// are split into reads: a miscount would show up as "lost" messages that were not lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameParser, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING, OPCODE_TEXT, type FrameSink } from '../../bench/frame-parser.js';

/** A server frame (unmasked), with the shortest length encoding unless told otherwise. */
function frame(opcode: number, payload: Buffer, fin = true, forceLength?: 16 | 64): Buffer {
  const n = payload.length;
  const b0 = (fin ? 0x80 : 0) | opcode;
  if (forceLength === undefined && n < 126) return Buffer.concat([Buffer.from([b0, n]), payload]);
  if (forceLength !== 64 && n < 65_536) {
    const head = Buffer.from([b0, 126, 0, 0]);
    head.writeUInt16BE(n, 2);
    return Buffer.concat([head, payload]);
  }
  const head = Buffer.alloc(10);
  head[0] = b0;
  head[1] = 127;
  head.writeUInt32BE(0, 2);
  head.writeUInt32BE(n, 6);
  return Buffer.concat([head, payload]);
}

function collect(capture: boolean): { sink: FrameSink; messages: Array<{ opcode: number; text: string | null; length: number }>; controls: number[]; errors: string[] } {
  const messages: Array<{ opcode: number; text: string | null; length: number }> = [];
  const controls: number[] = [];
  const errors: string[] = [];
  const sink: FrameSink = {
    onMessage: (opcode, payload, length) => messages.push({ opcode, text: payload === null ? null : payload.toString(), length }),
    onControl: (opcode) => controls.push(opcode),
    onProtocolError: (reason) => errors.push(reason),
  };
  return { sink, messages, controls, errors };
}

const texts = ['a', 'hello', 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(70_000), ''];
const stream = Buffer.concat([
  ...texts.map((t) => frame(OPCODE_TEXT, Buffer.from(t))),
  frame(OPCODE_PING, Buffer.from('p')),
  frame(OPCODE_TEXT, Buffer.from('part1-'), false),
  frame(OPCODE_PING, Buffer.from('between fragments')),
  frame(0, Buffer.from('part2'), true),
  frame(OPCODE_BINARY, Buffer.from('bin'), true, 64),
  frame(OPCODE_TEXT, Buffer.from('sixteen'), true, 16),
  frame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8])),
]);
const expected = [...texts, 'part1-part2', 'bin', 'sixteen'];

for (const chunkSize of [1, 2, 3, 7, 64, 1000, stream.length]) {
  test(`parses every frame when reads are ${chunkSize} bytes`, () => {
    const c = collect(true);
    const parser = new FrameParser(c.sink, true);
    for (let i = 0; i < stream.length; i += chunkSize) {
      // A reused read buffer: the parser must not keep references into it.
      const scratch = Buffer.from(stream.subarray(i, i + chunkSize));
      parser.feed(scratch);
      scratch.fill(0);
    }
    assert.deepEqual(c.errors, []);
    assert.deepEqual(c.messages.map((m) => m.text), expected);
    assert.deepEqual(c.messages.map((m) => m.length), expected.map((t) => Buffer.byteLength(t)));
    assert.equal(c.messages.at(-2)?.opcode, OPCODE_BINARY);
    assert.deepEqual(c.controls, [OPCODE_PING, OPCODE_PING, OPCODE_CLOSE]);
  });
}

test('counts without capturing payloads', () => {
  const c = collect(false);
  const parser = new FrameParser(c.sink, false);
  for (let i = 0; i < stream.length; i += 5) parser.feed(stream.subarray(i, i + 5));
  assert.equal(c.messages.length, expected.length);
  assert.ok(c.messages.every((m) => m.text === null));
  assert.deepEqual(c.messages.map((m) => m.length), expected.map((t) => Buffer.byteLength(t)));
});

test('a masked server frame is a protocol error', () => {
  const c = collect(false);
  new FrameParser(c.sink).feed(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61]));
  assert.equal(c.errors.length, 1);
  assert.equal(c.messages.length, 0);
});
