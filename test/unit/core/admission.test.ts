// Admission under overload: refuses while the event loop has been busy past the delay, or
// while too many setups wait; lets work in again as soon as the loop comes round.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission } from '../../../src/core/admission.js';

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // hold the event loop, as a turn full of handshakes does
  }
}

/** Resolves after the loop has come round to timers at least twice. */
const turns = (): Promise<void> => new Promise((r) => setTimeout(() => setTimeout(r, 60), 60));

describe('Admission', () => {
  it('admits while the loop keeps up, refuses with 1-5 s once one turn has run past the delay, and admits again after', async () => {
    const a = new Admission({ overloadDelayMs: 100, maxPendingConnects: 10 });
    try {
      await turns();
      assert.equal(a.refusal(), undefined);
      busy(250);
      const wait = a.refusal();
      assert.ok(wait !== undefined && Number.isInteger(wait) && wait >= 1 && wait <= 5, `Retry-After ${wait}`);
      assert.ok(a.lagMs() >= 100, `lag ${a.lagMs()}`);
      await turns();
      assert.equal(a.refusal(), undefined);
    } finally {
      a.close();
    }
  });

  it('refuses while maxPendingConnects setups are in flight, and admits once one ends', () => {
    const a = new Admission({ overloadDelayMs: 0, maxPendingConnects: 2 });
    a.begin();
    assert.equal(a.refusal(), undefined);
    a.begin();
    assert.notEqual(a.refusal(), undefined);
    a.done();
    assert.equal(a.refusal(), undefined);
    assert.equal(a.pending, 1);
    a.close();
  });

  it('with HERALD_OVERLOAD_DELAY=0 a blocked loop never refuses', () => {
    const a = new Admission({ overloadDelayMs: 0, maxPendingConnects: 10 });
    busy(150);
    assert.equal(a.refusal(), undefined);
    assert.equal(a.lagMs(), 0);
    a.close();
  });
});
