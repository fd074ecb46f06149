import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_RETRY_AFTER_MS, parseRetryAfter } from '../../client/retry-after.js';

test('Retry-After: delay-seconds and HTTP-dates become ms; anything else is ignored', () => {
  const now = Date.parse('2026-11-21T10:00:00Z');
  assert.equal(parseRetryAfter('2', now), 2000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Sat, 21 Nov 2026 10:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Sat, 21 Nov 2026 09:00:00 GMT', now), 0, 'a date in the past: now');
  for (const bad of [undefined, null, '', '-1', '1.5', 'soon', '0x10', '1e3', '12345'.repeat(20)]) {
    assert.equal(parseRetryAfter(bad, now), undefined, `${String(bad)} is not a Retry-After`);
  }
});

test('Retry-After: a huge value is capped, so a server cannot park a client for days', () => {
  assert.equal(parseRetryAfter('999999999999'), MAX_RETRY_AFTER_MS);
  assert.equal(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT'), MAX_RETRY_AFTER_MS);
});
