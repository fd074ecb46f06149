import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MESSAGE_OVERHEAD_BYTES, MemoryHistory } from '../../../src/engines/memory/history-memory.js';

const text = (topic: string, body: string, userId?: number | string) => ({ topic, kind: 'text' as const, body, userId });

function withHistory<T>(size: number, ttlMs: number, fn: (h: MemoryHistory) => Promise<T> | T): Promise<T> {
  const h = new MemoryHistory(size, ttlMs);
  return Promise.resolve(fn(h)).finally(() => h.close());
}

describe('MemoryHistory: offsets and ring', () => {
  test('offsets are 1, 2, 3... per topic, one epoch per topic stream', () =>
    withHistory(10, 60_000, async (h) => {
      const a1 = h.append(text('a', 'x'));
      const a2 = h.append(text('a', 'y'));
      const b1 = h.append(text('b', 'z'));
      const a3 = h.append(text('a', 'w'));
      assert.deepEqual([a1.offset, a2.offset, a3.offset, b1.offset], [1, 2, 3, 1]);
      assert.equal(a1.epoch, a3.epoch);
      assert.notEqual(a1.id, a2.id);
      assert.deepEqual(await h.position('a'), { offset: 3, epoch: a1.epoch });
      assert.deepEqual(await h.position('b'), { offset: 1, epoch: b1.epoch });
    }));

  test('a topic never published is at offset 0 of epoch "", and reading it creates nothing', () =>
    withHistory(10, 60_000, async (h) => {
      const p = await h.position('nothing');
      assert.deepEqual(p, { offset: 0, epoch: '' });
      await h.since('nothing', p);
      assert.equal((await h.stats()).topics, 0);
      const m = h.append(text('nothing', 'first'));
      assert.equal(m.offset, 1);
      assert.ok(m.epoch.length > 0);
      const r = await h.since('nothing', p);
      assert.deepEqual([r.messages.map((x) => x.offset), r.complete], [[1], true], 'a reader from offset 0 gets the new epoch whole');
    }));

  test('since returns missed messages in order, complete when all are kept', () =>
    withHistory(100, 60_000, async (h) => {
      const ms = Array.from({ length: 50 }, (_, i) => h.append(text('t', `m${i + 1}`)));
      const epoch = ms[0]!.epoch;
      const r = await h.since('t', { offset: 20, epoch });
      assert.deepEqual(r.messages.map((m) => m.offset), Array.from({ length: 30 }, (_, i) => 21 + i));
      assert.deepEqual(r.messages.map((m) => m.body), Array.from({ length: 30 }, (_, i) => `m${21 + i}`));
      assert.deepEqual(r.position, { offset: 50, epoch });
      assert.equal(r.complete, true);
      const none = await h.since('t', { offset: 50, epoch });
      assert.deepEqual(none, { messages: [], position: { offset: 50, epoch }, complete: true });
      const all = await h.since('t', { offset: 0, epoch });
      assert.equal(all.messages.length, 50);
      assert.equal(all.complete, true);
    }));

  test('the ring keeps the last N; a gap older than that is incomplete', () =>
    withHistory(10, 60_000, async (h) => {
      let epoch = '';
      for (let i = 1; i <= 25; i++) epoch = h.append(text('t', `m${i}`)).epoch;
      const st = await h.stats();
      assert.equal(st.messages, 10);
      assert.equal(st.topics, 1);
      assert.equal(st.bytes, 10 * (3 + 1 + MESSAGE_OVERHEAD_BYTES), 'payload, topic and per-message overhead');
      // oldest kept is 16: since 15 misses 16..25 -> all kept, complete
      const ok = await h.since('t', { offset: 15, epoch });
      assert.deepEqual(ok.messages.map((m) => m.offset), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
      assert.equal(ok.complete, true);
      // since 14 misses 15..25, 15 is gone
      const gap = await h.since('t', { offset: 14, epoch });
      assert.deepEqual(gap.messages.map((m) => m.offset), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
      assert.equal(gap.complete, false);
      const zero = await h.since('t', { offset: 0, epoch: 'whatever' });
      assert.equal(zero.messages.length, 10);
      assert.equal(zero.complete, false, 'offset 0 asks for everything, 1..15 are gone');
    }));

  test('since with another epoch: everything kept, complete false', () =>
    withHistory(10, 60_000, async (h) => {
      h.append(text('t', 'a'));
      h.append(text('t', 'b'));
      const r = await h.since('t', { offset: 1, epoch: 'not-the-epoch' });
      assert.deepEqual(r.messages.map((m) => m.body), ['a', 'b']);
      assert.equal(r.complete, false);
    }));

  test('since with another epoch and an offset past the end is still incomplete', () =>
    withHistory(10, 60_000, async (h) => {
      h.append(text('t', 'a'));
      const r = await h.since('t', { offset: 99, epoch: 'old' });
      assert.equal(r.complete, false);
      assert.deepEqual(r.messages.map((m) => m.body), ['a']);
    }));

  test('historySize 0 keeps nothing but still counts offsets', () =>
    withHistory(0, 60_000, async (h) => {
      const m1 = h.append(text('t', 'a'));
      const m2 = h.append(text('t', 'b'));
      assert.deepEqual([m1.offset, m2.offset], [1, 2]);
      assert.equal((await h.stats()).messages, 0);
      const r = await h.since('t', { offset: 1, epoch: m1.epoch });
      assert.deepEqual(r.messages, []);
      assert.equal(r.complete, false);
      assert.equal((await h.since('t', { offset: 2, epoch: m1.epoch })).complete, true);
    }));

  test('messages keep user ids, kinds and bodies', () =>
    withHistory(10, 60_000, async (h) => {
      h.append(text('t', 'for 7', 7));
      h.append({ topic: 't', kind: 'json', body: '{"a":1}' });
      h.append({ topic: 't', kind: 'binary', body: 'AAE=' });
      const r = await h.since('t', { offset: 0, epoch: '' });
      assert.deepEqual(r.messages.map((m) => [m.userId, m.kind, m.body]), [[7, 'text', 'for 7'], [undefined, 'json', '{"a":1}'], [undefined, 'binary', 'AAE=']]);
      for (const m of r.messages) assert.equal(typeof m.ts, 'number');
    }));

  test('model check: since(k) is exactly the kept suffix after k, complete iff nothing in (k, oldest) was dropped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 70 }), async (size, n, k) => {
        const h = new MemoryHistory(size, 60_000);
        try {
          let epoch = (await h.position('t')).epoch;
          for (let i = 1; i <= n; i++) epoch = h.append(text('t', `m${i}`)).epoch;
          const r = await h.since('t', { offset: k, epoch });
          const oldest = Math.max(1, n - size + 1);
          const expected: number[] = [];
          // A topic never published (n = 0) has no epoch: a non-zero `since` names a lost one.
          if (n > 0) for (let o = Math.max(k + 1, oldest); o <= n; o++) if (n - o < size) expected.push(o);
          assert.deepEqual(r.messages.map((m) => m.offset), expected);
          assert.deepEqual(r.messages.map((m) => m.body), expected.map((o) => `m${o}`));
          assert.deepEqual(r.position, { offset: n, epoch });
          if (n === 0) {
            assert.equal(r.complete, k === 0);
            return;
          }
          const missed = Math.max(0, n - k);
          assert.equal(r.complete, missed === expected.length, `size ${size} n ${n} k ${k}`);
          assert.equal((await h.stats()).messages, Math.min(size, n));
        } finally {
          h.close();
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('MemoryHistory: TTL', () => {
  test('a topic idle past the TTL loses its history: new epoch, offsets restart', () =>
    withHistory(10, 1000, async (h) => {
      const m1 = h.append(text('t', 'a'));
      h.append(text('t', 'b'));
      h.sweep(Date.now() + 500);
      assert.deepEqual(await h.position('t'), { offset: 2, epoch: m1.epoch }, 'not yet expired');
      h.sweep(Date.now() + 1001);
      const p = await h.position('t');
      assert.deepEqual(p, { offset: 0, epoch: '' });
      const r = await h.since('t', { offset: 2, epoch: m1.epoch });
      assert.equal(r.complete, false, 'a client of the old epoch learns that history was lost');
      const n1 = h.append(text('t', 'c'));
      assert.equal(n1.offset, 1);
      assert.notEqual(n1.epoch, m1.epoch);
    }));

  test('publishing keeps a topic alive (the TTL counts from the last publish)', () =>
    withHistory(10, 300, async (h) => {
      const m1 = h.append(text('t', 'a'));
      const firstExpiry = Date.now() + 300;
      await new Promise((r) => setTimeout(r, 150));
      h.append(text('t', 'b'));
      // past the first publish's TTL, within the second's
      h.sweep(Math.max(firstExpiry + 10, Date.now()));
      const r = await h.since('t', { offset: 0, epoch: m1.epoch });
      assert.equal(r.position.epoch, m1.epoch);
      assert.equal(r.messages.length, 2);
    }));

  test('expiry happens on its own (the sweep timer), not only when swept by hand', () =>
    withHistory(10, 200, async (h) => {
      const m = h.append(text('t', 'a'));
      const deadline = Date.now() + 3000;
      while ((await h.position('t')).epoch === m.epoch) {
        if (Date.now() > deadline) assert.fail('history never expired');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await h.stats()).messages, 0);
    }));

  test('stats: bytes and messages drop as the ring turns and as topics expire', () =>
    withHistory(2, 1000, async (h) => {
      h.append(text('a', 'xxxx'));
      h.append(text('a', 'yy'));
      h.append(text('a', 'z'));
      h.append(text('b', '12345'));
      assert.deepEqual(await h.stats(), { topics: 2, messages: 3, bytes: 2 + 1 + 5 + 3 * (1 + MESSAGE_OVERHEAD_BYTES) });
      h.sweep(Date.now() + 2000);
      assert.deepEqual(await h.stats(), { topics: 0, messages: 0, bytes: 0 });
    }));
});

describe('MemoryHistory: HERALD_HISTORY_MAX_BYTES', () => {
  const cost = (body: string, topic: string) => body.length + topic.length + MESSAGE_OVERHEAD_BYTES;

  test('the bound holds: the least recently published topic goes first, oldest message first, and a topic left empty gets a new epoch', async () => {
    const body = 'x'.repeat(1000);
    const one = cost(body, 'a');
    const h = new MemoryHistory(100, 60_000, 10 * one);
    try {
      const a1 = h.append(text('a', body));
      for (let i = 0; i < 3; i++) h.append(text('a', body));
      for (let i = 0; i < 6; i++) h.append(text('b', body));
      assert.deepEqual(await h.stats(), { topics: 2, messages: 10, bytes: 10 * one });
      // One more on b: a (published least recently) loses its oldest message.
      h.append(text('b', body));
      let r = await h.since('a', { offset: 0, epoch: a1.epoch });
      assert.deepEqual([r.messages.map((m) => m.offset), r.complete], [[2, 3, 4], false]);
      assert.equal((await h.since('a', { offset: 1, epoch: a1.epoch })).complete, true, 'a client that had 1 misses nothing');
      // Three more: a is emptied and dropped whole.
      for (let i = 0; i < 3; i++) h.append(text('b', body));
      assert.deepEqual(await h.position('a'), { offset: 0, epoch: '' });
      r = await h.since('a', { offset: 4, epoch: a1.epoch });
      assert.equal(r.complete, false);
      const a5 = h.append(text('a', body));
      assert.notEqual(a5.epoch, a1.epoch, 'its next publish starts a new epoch');
      assert.equal((await h.since('a', { offset: 4, epoch: a1.epoch })).complete, false);
      assert.ok((await h.stats()).bytes <= 10 * one);
    } finally {
      h.close();
    }
  });

  test('publishing moves a topic to the back of the line', async () => {
    const one = cost('x', 'a');
    const h = new MemoryHistory(100, 60_000, 3 * one);
    try {
      const a = h.append(text('a', 'x'));
      const b = h.append(text('b', 'x'));
      h.append(text('a', 'x'));
      h.append(text('c', 'x')); // over: b (least recent) goes, not a
      assert.deepEqual(await h.position('b'), { offset: 0, epoch: '' });
      assert.equal((await h.position('a')).epoch, a.epoch);
      assert.notEqual(b.epoch, '');
    } finally {
      h.close();
    }
  });

  test('a message larger than the bound is kept alone', async () => {
    const h = new MemoryHistory(100, 60_000, 1024);
    try {
      h.append(text('a', 'small'));
      const big = h.append(text('b', 'y'.repeat(5000)));
      const r = await h.since('b', { offset: 0, epoch: big.epoch });
      assert.deepEqual(r.messages.map((m) => m.offset), [1]);
      assert.deepEqual(await h.position('a'), { offset: 0, epoch: '' });
      h.append(text('b', 'z'));
      const r2 = await h.since('b', { offset: 0, epoch: big.epoch });
      assert.deepEqual([r2.messages.map((m) => m.offset), r2.complete], [[2], false]);
    } finally {
      h.close();
    }
  });

  test('model check: the ring with evictions keeps a contiguous suffix, in order, within the bound', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 300 })), { maxLength: 80 }), fc.integer({ min: 200, max: 3000 }), async (size, ops, max) => {
        const h = new MemoryHistory(size, 60_000, max);
        try {
          for (const [topic, len] of ops) h.append(text(topic, 'x'.repeat(len)));
          const st = await h.stats();
          let bytes = 0;
          let messages = 0;
          for (const topic of ['a', 'b', 'c']) {
            const p = await h.position(topic);
            const r = await h.since(topic, { offset: 0, epoch: p.epoch });
            const offs = r.messages.map((m) => m.offset);
            assert.ok(offs.length <= size);
            offs.forEach((o, i) => assert.equal(o, p.offset - offs.length + 1 + i, 'a contiguous suffix up to the position'));
            bytes += r.messages.reduce((n, m) => n + cost(m.body, topic), 0);
            messages += offs.length;
          }
          assert.equal(st.bytes, bytes);
          assert.equal(st.messages, messages);
          assert.ok(st.bytes <= max || st.messages === 1, `${st.bytes} > ${max}`);
        } finally {
          h.close();
        }
      }),
      { numRuns: 500 },
    );
  });
});
