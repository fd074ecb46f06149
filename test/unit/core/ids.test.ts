import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomHex } from '../../../src/core/ids.js';

describe('randomHex', () => {
  it('gives hex of the asked length, never the same id twice across many pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = randomHex(16);
      assert.match(id, /^[0-9a-f]{32}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 5000);
    assert.match(randomHex(12), /^[0-9a-f]{24}$/);
  });

  it('draws bits evenly: every hex digit appears about equally often', () => {
    const counts = new Map<string, number>();
    const n = 4000;
    for (let i = 0; i < n; i++) for (const c of randomHex(16)) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 16);
    const expected = (n * 32) / 16;
    // 8000 per digit; 6 standard deviations (~520) of slack: a broken pool (zeros, repeats) is far outside.
    for (const [c, k] of counts) assert.ok(Math.abs(k - expected) < 520, `digit ${c}: ${k}`);
  });
});
