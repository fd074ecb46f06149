// The SSE resume token (src/protocol/sse.ts): round trips, hostile input, size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_TOKEN_LENGTH, parseToken, positionsFor, tokenEntry, topicKey } from '../../../src/protocol/sse.js';

const epochArb = fc.stringMatching(/^[A-Za-z0-9_-]{8}$/);

describe('SSE resume token', () => {
  it('round-trips every topic position (our epochs kept as they are)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 100 }), fc.array(fc.tuple(fc.nat(), epochArb), { minLength: 100, maxLength: 100 }), (topics, positions) => {
        const token = topics.map((t, i) => tokenEntry(topicKey(t), { offset: positions[i]![0], epoch: positions[i]![1] })).join('.');
        const parsed = parseToken(token);
        assert.ok(parsed);
        const got = positionsFor(parsed, topics);
        for (const [i, t] of topics.entries()) assert.deepEqual(got[t], { offset: positions[i]![0], epoch: positions[i]![1] });
      }),
    );
  });

  it('an epoch of another shape reads back as no real epoch (so a resume from it is incomplete); offset 0 needs none', () => {
    const [entry] = [tokenEntry(topicKey('t'), { offset: 5, epoch: 'not-eight-chars' })];
    const back = positionsFor(parseToken(entry)!, ['t'])['t']!;
    assert.equal(back.offset, 5);
    assert.notEqual(back.epoch, 'not-eight-chars');
    assert.equal(positionsFor(parseToken(tokenEntry(topicKey('t'), { offset: 0, epoch: '' }))!, ['t'])['t']!.offset, 0);
  });

  it('ignores what is not a token: garbage, oversize, overflowing offsets, too many entries', () => {
    const one = tokenEntry(topicKey('a'), { offset: 1, epoch: 'AAAAAAAA' });
    for (const bad of ['', 'x', `${one}.`, `.${one}`, `${one}..${one}`, one.slice(0, 14), `${one.slice(0, 14)}ZZ`, `${one.slice(0, 14)}zzzzzzzzzzz`, `${one.slice(0, 14)}${'1'.repeat(12)}`, one + '\n', 'A'.repeat(MAX_TOKEN_LENGTH + 1)]) {
      assert.equal(parseToken(bad), undefined, JSON.stringify(bad.slice(0, 40)));
    }
    assert.equal(parseToken(Array.from({ length: 1001 }, () => one).join('.').slice(0, MAX_TOKEN_LENGTH)), undefined);
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
      const r = parseToken(s);
      if (r) for (const p of r.values()) assert.ok(Number.isSafeInteger(p.offset) && p.offset >= 0);
    }));
  });

  it('names only the stream\'s own topics; an entry for another topic is dropped', () => {
    const token = parseToken([tokenEntry(topicKey('mine'), { offset: 3, epoch: 'AAAAAAAA' }), tokenEntry(topicKey('other'), { offset: 9, epoch: 'BBBBBBBB' })].join('.'))!;
    assert.deepEqual({ ...positionsFor(token, ['mine', 'third']) }, { mine: { offset: 3, epoch: 'AAAAAAAA' } });
  });

  it('stays short: 100 topics', () => {
    const topics = Array.from({ length: 100 }, (_, i) => `tenant.42.board.${i}`);
    const at = (offset: number): number => topics.map((t) => tokenEntry(topicKey(t), { offset, epoch: 'xScZlH1a' })).join('.').length;
    console.log(`# resume token, 100 topics: ${at(100)} bytes at offset 100, ${at(1_000_000)} at 1,000,000, ${at(Number.MAX_SAFE_INTEGER)} at 2^53-1`);
    assert.equal(at(100), 100 * 16 + 99);
    assert.ok(at(Number.MAX_SAFE_INTEGER) < MAX_TOKEN_LENGTH);
  });
});
