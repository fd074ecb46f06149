import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from '../../client/emitter.js';
import { Positions } from '../../client/positions.js';
import { decodeBase64, parseFrames } from '../../client/wire.js';

test('parseFrames: reads every line of a batched frame and reports bad lines', () => {
  const text = [
    '{"type":"message","topic":"a","data":1,"offset":1,"epoch":"e","ts":1}',
    '',
    '{"type":"ok","id":3}',
    'not json',
    '{"type":"nonsense"}',
    '{"type":"message","topic":"a"}',
  ].join('\n');
  const { frames, invalid } = parseFrames(text);
  assert.deepEqual(frames.map((f) => f.type), ['message', 'ok']);
  assert.deepEqual(invalid, ['not json', '{"type":"nonsense"}', '{"type":"message","topic":"a"}']);
});

test('decodeBase64 matches Buffer', () => {
  const bytes = Uint8Array.from([0, 1, 2, 250, 255, 128]);
  assert.deepEqual(decodeBase64(Buffer.from(bytes).toString('base64')), bytes);
});

test('positions: drops repeats within an epoch, accepts a new epoch, seams move forward only', () => {
  const p = new Positions();
  assert.equal(p.accept('a', 1, 'e1'), true);
  assert.equal(p.accept('a', 2, 'e1'), true);
  assert.equal(p.accept('a', 2, 'e1'), false);
  assert.equal(p.accept('a', 1, 'e1'), false);
  assert.equal(p.accept('a', 1, 'e2'), true);
  p.seam('a', 5, 'e2');
  assert.deepEqual(p.get('a'), { offset: 5, epoch: 'e2' });
  p.seam('a', 3, 'e2');
  assert.deepEqual(p.get('a'), { offset: 5, epoch: 'e2' });
  assert.equal(p.accept('a', 5, 'e2'), false);
  assert.deepEqual(p.since(['a', 'b']), { a: { offset: 5, epoch: 'e2' } });
  assert.equal(p.since(['b']), undefined);
});

test('positions: offset 0 (published while the engine was down) is always new and moves nothing', () => {
  const p = new Positions();
  assert.equal(p.accept('a', 3, 'e1'), true);
  assert.equal(p.accept('a', 0, ''), true);
  assert.equal(p.accept('a', 0, ''), true);
  assert.deepEqual(p.get('a'), { offset: 3, epoch: 'e1' });
  assert.equal(p.accept('a', 4, 'e1'), true);
  assert.equal(p.accept('b', 0, ''), true);
  assert.equal(p.get('b'), undefined);
});

test('emitter: typed listeners, once, off, and a throwing listener does not stop the others', () => {
  const thrown: unknown[] = [];
  const events = new Emitter<{ n: [value: number] }>((err) => thrown.push(err));
  const seen: number[] = [];
  events.on('n', () => {
    throw new Error('boom');
  });
  const off = events.on('n', (v) => seen.push(v));
  events.once('n', (v) => seen.push(v * 10));
  events.emit('n', 1);
  events.emit('n', 2);
  off();
  events.emit('n', 3);
  assert.deepEqual(seen, [1, 10, 2]);
  assert.equal(thrown.length, 3);
});
