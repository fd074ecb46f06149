import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from '../../client/sse-stream.js';

test('a CRLF split between two chunks ends one line, not two (no early event)', () => {
  const events: Array<[string, string]> = [];
  const p = new SseParser({ onEvent: (type, data) => events.push([type, data]) });
  p.feed('data: a\r');
  p.feed('\ndata: b\r\n\r\n');
  assert.deepEqual(events, [['message', 'a\nb']]);
});

test('an event that never ends is refused past 16 MB, like a line that never ends', () => {
  const p = new SseParser({ onEvent: () => assert.fail('no event was complete') });
  const line = `data: ${'x'.repeat(1024 * 1024)}\n`;
  let ok = true;
  for (let i = 0; i < 20 && ok; i++) ok = p.feed(line);
  assert.equal(ok, false);
});
