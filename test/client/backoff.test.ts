import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../client/backoff.js';

test('backoff: the ceiling doubles up to maxMs and delays stay within [minMs, ceiling]', () => {
  const top = new Backoff({ minMs: 100, maxMs: 1000, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => top.next()), [100, 200, 400, 800, 1000, 1000]);
  const bottom = new Backoff({ minMs: 100, maxMs: 1000, random: () => 0 });
  assert.deepEqual([1, 2, 3].map(() => bottom.next()), [100, 100, 100]);
});

test('backoff: jitter spreads the delays, reset starts over', () => {
  const backoff = new Backoff({ minMs: 10, maxMs: 10_000 });
  for (let i = 0; i < 8; i++) backoff.next();
  const seen = new Set(Array.from({ length: 50 }, () => backoff.next()));
  assert.ok(seen.size > 10, `expected spread delays, got ${[...seen].join(',')}`);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.next(), 10);
});

test('backoff: bad options throw at construction', () => {
  assert.throws(() => new Backoff({ minMs: -1 }), RangeError);
  assert.throws(() => new Backoff({ minMs: 10, maxMs: 5 }), /maxMs/);
  assert.throws(() => new Backoff({ factor: 0.5 }), /factor/);
});

test('backoff: a floor (a server\'s Retry-After) is waited first, the jittered delay on top', () => {
  const backoff = new Backoff({ minMs: 100, maxMs: 1000, random: () => 0.5 });
  assert.equal(backoff.next(2000), 2100);
  assert.equal(backoff.next(2000), 2150);
  assert.equal(backoff.next(0), 250);
  assert.equal(backoff.next(Number.NaN), 450);
});
