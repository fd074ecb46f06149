import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { publish, register } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

type J = Record<string, unknown>;

/** Plain: publishes markers on `topic` until the socket gets one, then drains them; the topic is live. */
async function settlePlain(srv: TestServer, s: TestSocket, topic: string): Promise<void> {
  const marker = `settle-${Math.random()}`;
  for (let i = 0; i < 50; i++) {
    await publish(srv.base, { topic, message: marker });
    if (await s.take(1, 100).then(() => true, () => false)) {
      await publish(srv.base, { topic, message: `${marker}-end` });
      while ((await s.next()).data !== `${marker}-end`);
      return;
    }
  }
  throw new Error(`topic ${topic} never became live`);
}

/** v1: waits for welcome, then for every registration topic to be joined (a request queued behind the joins). */
async function v1Ready(s: TestSocket): Promise<J> {
  const [w] = await s.takeJson(1);
  assert.equal(w!.type, 'welcome');
  s.send({ type: 'subscribe', id: '__sync', topics: [] });
  await s.waitJson((o) => o.type === 'ok' && o.id === '__sync');
  return w!;
}

/** Plain: the next `n` frames that are not settle markers. */
async function takeData(s: TestSocket, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const f = await s.next();
    if (!f.data.startsWith('settle-')) out.push(f.data);
  }
  return out;
}

async function publishMany(srv: TestServer, topic: string, n: number, prefix: string, extra: J = {}): Promise<number[]> {
  const offsets: number[] = [];
  for (let i = 1; i <= n; i++) offsets.push((await publish(srv.base, { topic, message: `${prefix}${i}`, ...extra })).offset);
  return offsets;
}

/** Takes JSON objects up to and including the one matching `end`. */
async function untilJson(s: TestSocket, end: (o: J) => boolean, timeoutMs = 5000): Promise<J[]> {
  const out: J[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [o] = await s.takeJson(1, Math.max(1, deadline - Date.now()));
    out.push(o!);
    if (end(o!)) return out;
  }
}

describe('recovery: plain clients (server cursor)', () => {
  test('disconnect, 100 published, reconnect with the same URL: exactly those 100 in order, then live', async () => {
    const srv = await startHerald();
    try {
      const reg = await register(srv.base, 1, ['rp']);
      const s1 = await TestSocket.open(reg.url);
      await settlePlain(srv, s1, 'rp');
      await s1.closeAndWait();
      const offsets = await publishMany(srv, 'rp', 100, 'm');
      assert.deepEqual(offsets, offsets.map((_, i) => offsets[0]! + i), 'consecutive offsets');
      const s2 = await TestSocket.open(reg.url);
      try {
        const frames = await s2.take(100);
        assert.deepEqual(frames.map((f) => f.data), Array.from({ length: 100 }, (_, i) => `m${i + 1}`));
        await publish(srv.base, { topic: 'rp', message: 'live' });
        const next = await s2.next();
        assert.equal(next.data, 'live', 'nothing between the missed messages and the live one');
        await s2.expectSilence(100);
      } finally {
        await s2.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('two topics recover independently, each in order; other topics are not replayed', async () => {
    const srv = await startHerald();
    try {
      const reg = await register(srv.base, 1, ['rp.a', 'rp.b']);
      const s1 = await TestSocket.open(reg.url);
      await settlePlain(srv, s1, 'rp.a');
      await settlePlain(srv, s1, 'rp.b');
      await s1.closeAndWait();
      for (let i = 1; i <= 20; i++) {
        await publish(srv.base, { topic: 'rp.a', message: `a${i}` });
        await publish(srv.base, { topic: 'rp.b', message: `b${i}` });
        await publish(srv.base, { topic: 'rp.other', message: `x${i}` });
      }
      const s2 = await TestSocket.open(reg.url);
      try {
        const got = (await s2.take(40)).map((f) => f.data);
        assert.deepEqual(got.filter((d) => d.startsWith('a')), Array.from({ length: 20 }, (_, i) => `a${i + 1}`));
        assert.deepEqual(got.filter((d) => d.startsWith('b')), Array.from({ length: 20 }, (_, i) => `b${i + 1}`));
        await s2.expectSilence(100);
      } finally {
        await s2.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('a gap larger than the history: the kept messages, in order, then live', async () => {
    const srv = await startHerald({ historySize: 10 });
    try {
      const reg = await register(srv.base, 1, ['rp.gap']);
      const s1 = await TestSocket.open(reg.url);
      await settlePlain(srv, s1, 'rp.gap');
      await s1.closeAndWait();
      await publishMany(srv, 'rp.gap', 30, 'g');
      const s2 = await TestSocket.open(reg.url);
      try {
        assert.deepEqual((await s2.take(10)).map((f) => f.data), Array.from({ length: 10 }, (_, i) => `g${21 + i}`));
        await publish(srv.base, { topic: 'rp.gap', message: 'live' });
        assert.equal((await s2.next()).data, 'live');
      } finally {
        await s2.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('a topic named "__proto__" recovers like any other', async () => {
    const srv = await startHerald();
    try {
      const reg = await register(srv.base, 1, ['__proto__']);
      const s1 = await TestSocket.open(reg.url);
      await settlePlain(srv, s1, '__proto__');
      await s1.closeAndWait();
      await publishMany(srv, '__proto__', 3, 'p');
      const s2 = await TestSocket.open(reg.url);
      try {
        const got = await s2.take(3, 1500).then((f) => f.map((x) => x.data), (e: Error) => e.message);
        assert.deepEqual(got, ['p1', 'p2', 'p3'], 'messages published while away on topic "__proto__" are lost');
      } finally {
        await s2.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('user-addressed messages are recovered only by that user\'s clients (all of them)', async () => {
    const srv = await startHerald();
    try {
      const a1 = await register(srv.base, 'ann', ['ru']);
      const a2 = await register(srv.base, 'ann', ['ru']);
      const b = await register(srv.base, 'bob', ['ru']);
      for (const r of [a1, a2, b]) {
        const s = await TestSocket.open(r.url);
        await settlePlain(srv, s, 'ru');
        await s.closeAndWait();
      }
      await publish(srv.base, { topic: 'ru', user_id: 'ann', message: 'ann-1' });
      await publish(srv.base, { topic: 'ru', message: 'all-1' });
      await publish(srv.base, { topic: 'ru', user_id: 'bob', message: 'bob-1' });
      await publish(srv.base, { topic: 'ru', user_id: 'ann', message: 'ann-2' });
      await publish(srv.base, { topic: 'ru', user_id: 'carl', message: 'carl-1' });
      const sa1 = await TestSocket.open(a1.url);
      const sa2 = await TestSocket.open(a2.url);
      const sb = await TestSocket.open(b.url);
      try {
        assert.deepEqual(await takeData(sa1, 3), ['ann-1', 'all-1', 'ann-2']);
        assert.deepEqual(await takeData(sa2, 3), ['ann-1', 'all-1', 'ann-2']);
        assert.deepEqual(await takeData(sb, 2), ['all-1', 'bob-1']);
        await publish(srv.base, { topic: 'ru', message: 'live' });
        for (const s of [sa1, sa2, sb]) assert.deepEqual(await takeData(s, 1), ['live']);
      } finally {
        await Promise.all([sa1, sa2, sb].map((s) => s.closeAndWait()));
      }
    } finally {
      await srv.close();
    }
  });
});

describe('recovery: herald.v1 clients', () => {
  test('disconnect, 100 published, reconnect with the same URL and subscribe with since: exactly those 100, in order, then live', async () => {
    const srv = await startHerald();
    try {
      const reg = await register(srv.base, 1, []);
      const s1 = await TestSocket.open(reg.url, 'herald.v1');
      await v1Ready(s1);
      s1.send({ type: 'subscribe', id: 1, topics: ['rv'] });
      await s1.waitJson((o) => o.type === 'ok' && o.id === 1);
      const p0 = await publish(srv.base, { topic: 'rv', message: 'm0' });
      const [m0] = await s1.takeJson(1);
      assert.equal(m0!.offset, p0.offset);
      const since = { offset: m0!.offset as number, epoch: m0!.epoch as string };
      await s1.closeAndWait();
      await publishMany(srv, 'rv', 100, 'm');
      const s2 = await TestSocket.open(reg.url, 'herald.v1');
      try {
        const [w] = await s2.takeJson(1);
        assert.equal(w!.type, 'welcome');
        assert.deepEqual(w!.topics, ['rv'], 'the subscription is part of the registration');
        s2.send({ type: 'subscribe', id: 2, topics: ['rv'], since: { rv: since } });
        const got = await untilJson(s2, (o) => o.type === 'ok' && o.id === 2);
        const messages = got.filter((o) => o.type === 'message');
        assert.deepEqual(messages.map((o) => o.offset), Array.from({ length: 100 }, (_, i) => since.offset + 1 + i));
        assert.deepEqual(messages.map((o) => o.data), Array.from({ length: 100 }, (_, i) => `m${i + 1}`));
        // One from the reconnect's join (the server cursor), one answering the subscribe's since.
        const rec = got.filter((o) => o.type === 'recovered');
        assert.equal(rec.length, 2);
        for (const r of rec) assert.deepEqual(r, { type: 'recovered', topic: 'rv', epoch: since.epoch, offset: since.offset + 100, complete: true });
        assert.deepEqual(got.filter((o) => o.type !== 'message' && o.type !== 'recovered'), [{ type: 'ok', id: 2 }]);
        const live = await publish(srv.base, { topic: 'rv', message: 'live' });
        const [l] = await s2.takeJson(1);
        assert.deepEqual([l!.type, l!.offset, l!.data], ['message', live.offset, 'live']);
      } finally {
        await s2.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('a new connection (another device of the user) subscribing with since gets the 100, recovered {complete: true}, ok, then live', async () => {
    const srv = await startHerald();
    try {
      const p0 = await publish(srv.base, { topic: 'rv2', message: 'm0' });
      await publishMany(srv, 'rv2', 100, 'm');
      const reg = await register(srv.base, 1, []);
      const s = await TestSocket.open(reg.url, 'herald.v1');
      try {
        await v1Ready(s);
        // offset 0 means from the start (any epoch): learn the epoch, then leave and come back with since
        s.send({ type: 'subscribe', id: 'r', topics: ['rv2'], since: { rv2: { offset: 0, epoch: '' } } });
        const all = await untilJson(s, (o) => o.type === 'ok');
        const e = all[0]!.epoch as string;
        s.send({ type: 'unsubscribe', id: 'u', topics: ['rv2'] });
        await s.waitJson((o) => o.type === 'ok' && o.id === 'u');
        s.send({ type: 'subscribe', id: 'r2', topics: ['rv2'], since: { rv2: { offset: p0.offset, epoch: e } } });
        const got = await untilJson(s, (o) => o.type === 'ok' && o.id === 'r2');
        assert.equal(got.length, 102);
        assert.deepEqual(got.slice(0, 100).map((o) => [o.type, o.offset, o.data]), Array.from({ length: 100 }, (_, i) => ['message', p0.offset + 1 + i, `m${i + 1}`]));
        assert.deepEqual(got[100], { type: 'recovered', topic: 'rv2', epoch: e, offset: p0.offset + 100, complete: true });
        const live = await publish(srv.base, { topic: 'rv2', message: 'live' });
        const [l] = await s.takeJson(1);
        assert.deepEqual([l!.offset, l!.data], [live.offset, 'live']);
      } finally {
        await s.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('a gap larger than the history gives recovered {complete: false} and the kept messages', async () => {
    const srv = await startHerald({ historySize: 10 });
    try {
      const p = await publishMany(srv, 'rg', 30, 'g');
      const reg = await register(srv.base, 1, []);
      const s = await TestSocket.open(reg.url, 'herald.v1');
      try {
        await v1Ready(s);
        // find the epoch: a since naming another epoch still answers with the kept messages
        s.send({ type: 'subscribe', id: 'e', topics: ['rg'], since: { rg: { offset: 1, epoch: 'x' } } });
        const first = await untilJson(s, (o) => o.type === 'ok');
        const rec0 = first.find((o) => o.type === 'recovered')!;
        assert.equal(rec0.complete, false, 'another epoch: incomplete');
        const epoch = rec0.epoch as string;
        s.send({ type: 'unsubscribe', id: 'u', topics: ['rg'] });
        await s.waitJson((o) => o.type === 'ok' && o.id === 'u');
        s.send({ type: 'subscribe', id: 'g', topics: ['rg'], since: { rg: { offset: p[4]!, epoch } } });
        const got = await untilJson(s, (o) => o.type === 'ok' && o.id === 'g');
        assert.deepEqual(got.filter((o) => o.type === 'message').map((o) => o.data), Array.from({ length: 10 }, (_, i) => `g${21 + i}`));
        assert.deepEqual(got.at(-2), { type: 'recovered', topic: 'rg', epoch, offset: p[29], complete: false });
        // exactly at the edge of history: complete
        s.send({ type: 'unsubscribe', id: 'u2', topics: ['rg'] });
        await s.waitJson((o) => o.type === 'ok' && o.id === 'u2');
        s.send({ type: 'subscribe', id: 'h', topics: ['rg'], since: { rg: { offset: p[19]!, epoch } } });
        const edge = await untilJson(s, (o) => o.type === 'ok' && o.id === 'h');
        assert.equal(edge.filter((o) => o.type === 'message').length, 10);
        assert.equal(edge.at(-2)!.complete, true);
      } finally {
        await s.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('a v1 client that reconnects after a gap larger than the history is told complete: false', async () => {
    const srv = await startHerald({ historySize: 10 });
    try {
      const reg = await register(srv.base, 1, ['rgr']);
      const s1 = await TestSocket.open(reg.url, 'herald.v1');
      await v1Ready(s1);
      await publish(srv.base, { topic: 'rgr', message: 'g0' });
      const [m0] = await s1.takeJson(1);
      await s1.closeAndWait();
      await publishMany(srv, 'rgr', 30, 'g');
      const s2 = await TestSocket.open(reg.url, 'herald.v1');
      try {
        await s2.takeJson(1);
        s2.send({ type: 'subscribe', id: 'again', topics: ['rgr'], since: { rgr: { offset: m0!.offset, epoch: m0!.epoch } } });
        const got = await untilJson(s2, (o) => o.type === 'ok' && o.id === 'again');
        assert.deepEqual(got.filter((o) => o.type === 'message').map((o) => o.data), Array.from({ length: 10 }, (_, i) => `g${21 + i}`));
        const rec = got.filter((o) => o.type === 'recovered');
        // Told at the reconnect's join (the server cursor), and again in answer to its since.
        const gone = { type: 'recovered', topic: 'rgr', epoch: m0!.epoch, offset: (m0!.offset as number) + 30, complete: false };
        assert.deepEqual(rec, [gone, gone], 'the client is never told that 20 messages are gone');
      } finally {
        await s2.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('history lost to the TTL: a new epoch, and since with the old epoch gives complete: false', async () => {
    const srv = await startHerald({ historyTtlMs: 200 });
    try {
      const reg = await register(srv.base, 1, ['rt']);
      const s = await TestSocket.open(reg.url, 'herald.v1');
      try {
        await v1Ready(s);
        await publish(srv.base, { topic: 'rt', message: 'old' });
        const [old] = await s.takeJson(1);
        // wait (bounded) until the topic's history has expired: a new publish starts at offset 1 again
        let fresh: { offset: number } | undefined;
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          const reg2 = await register(srv.base, 2, []);
          const probe = await TestSocket.open(reg2.url, 'herald.v1');
          await v1Ready(probe);
          probe.send({ type: 'subscribe', id: 'p', topics: ['rt'], since: { rt: { offset: old!.offset, epoch: old!.epoch } } });
          const r = await untilJson(probe, (o) => o.type === 'ok');
          await probe.closeAndWait();
          const rec = r.find((o) => o.type === 'recovered')!;
          if (rec.epoch !== old!.epoch) {
            assert.equal(rec.complete, false);
            fresh = { offset: rec.offset as number };
            break;
          }
          assert.equal(rec.complete, true);
        }
        assert.ok(fresh, 'history never expired');
        const p = await publish(srv.base, { topic: 'rt', message: 'new' });
        assert.equal(p.offset, 1, 'offsets restart under the new epoch');
        const [n] = await s.takeJson(1);
        assert.equal(n!.data, 'new');
        assert.notEqual(n!.epoch, old!.epoch);
      } finally {
        await s.closeAndWait();
      }
    } finally {
      await srv.close();
    }
  });

  test('user-addressed messages: a since subscription of another user replays only broadcasts and its own; recovered.offset is the topic\'s latest', async () => {
    const srv = await startHerald();
    try {
      await publish(srv.base, { topic: 'rvu', message: 'all-1' });
      await publish(srv.base, { topic: 'rvu', user_id: 5, message: 'five-1' });
      await publish(srv.base, { topic: 'rvu', user_id: 6, message: 'six-1' });
      await publish(srv.base, { topic: 'rvu', message: 'all-2' });
      const last = await publish(srv.base, { topic: 'rvu', user_id: 5, message: 'five-2' });
      const want: Record<number, string[]> = { 5: ['all-1', 'five-1', 'all-2', 'five-2'], 6: ['all-1', 'six-1', 'all-2'], 7: ['all-1', 'all-2'] };
      for (const user of [5, 6, 7]) {
        const reg = await register(srv.base, user, []);
        const s = await TestSocket.open(reg.url, 'herald.v1');
        try {
          await v1Ready(s);
          s.send({ type: 'subscribe', id: 1, topics: ['rvu'], since: { rvu: { offset: 0, epoch: '' } } });
          const got = await untilJson(s, (o) => o.type === 'ok');
          assert.deepEqual(got.filter((o) => o.type === 'message').map((o) => o.data), want[user], `user ${user}`);
          const rec = got.find((o) => o.type === 'recovered')!;
          assert.equal(rec.offset, last.offset);
          assert.equal(rec.complete, true);
        } finally {
          await s.closeAndWait();
        }
      }
    } finally {
      await srv.close();
    }
  });
});

/**
 * Publishes `n` messages on `topic` from `concurrency` loops (many in flight at once), while
 * `churn` keeps disconnecting and reconnecting the client. Returns the offsets published.
 */
async function publishRacing(srv: TestServer, topic: string, n: number, concurrency: number): Promise<Map<string, number>> {
  const offsets = new Map<string, number>();
  let next = 1;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next <= n) {
        const i = next++;
        const r = await publish(srv.base, { topic, message: `r${i}` });
        offsets.set(`r${i}`, r.offset);
      }
    }),
  );
  return offsets;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function assertExactlyOnce(received: number[], published: number[]): void {
  const sorted = [...published].sort((a, b) => a - b);
  const dups = received.filter((o, i) => received.indexOf(o) !== i);
  const got = new Set(received);
  const missing = sorted.filter((o) => !got.has(o));
  const outOfOrder = received.filter((o, i) => i > 0 && o <= received[i - 1]!).length;
  if (process.env.RACE_DEBUG) {
    const ranges: string[] = [];
    for (let i = 0; i < missing.length; i++) {
      let j = i;
      while (j + 1 < missing.length && missing[j + 1] === missing[j]! + 1) j++;
      ranges.push(`${missing[i]}-${missing[j]}`);
      i = j;
    }
    console.log('missing ranges', ranges.join(' '), 'received', received.length);
  }
  assert.deepEqual(
    { duplicates: dups.slice(0, 20), duplicateCount: dups.length, missing: missing.slice(0, 20), missingCount: missing.length, outOfOrder },
    { duplicates: [], duplicateCount: 0, missing: [], missingCount: 0, outOfOrder: 0 },
  );
  assert.equal(received.length, published.length);
}

describe('recovery: a publish racing with a reconnect is delivered exactly once', () => {
  for (const mode of ['close', 'replace'] as const) {
    test(`plain client, ${mode === 'close' ? 'closing and reconnecting' : 'replaced by a new connection (4000)'} 12 times while 3000 messages are published 32 at a time`, async () => {
      const srv = await startHerald({ historySize: 100_000 });
      const sockets: TestSocket[] = [];
      try {
        const reg = await register(srv.base, 1, ['race.p']);
        sockets.push(await TestSocket.open(reg.url));
        await settlePlain(srv, sockets[0]!, 'race.p');
        let done = false;
        const publishing = publishRacing(srv, 'race.p', 3000, 32).finally(() => (done = true));
        for (let k = 0; k < 12 && !done; k++) {
          await pause(10 + ((k * 7) % 30));
          const cur = sockets.at(-1)!;
          if (mode === 'close') {
            await cur.closeAndWait();
            if (k % 3 === 0) await pause(5);
            sockets.push(await TestSocket.open(reg.url));
          } else {
            sockets.push(await TestSocket.open(reg.url));
            assert.equal((await cur.closed).code, 4000);
          }
        }
        const offsets = await publishing;
        const last = sockets.at(-1)!;
        await publish(srv.base, { topic: 'race.p', message: 'end' });
        const deadline = Date.now() + 10_000;
        while (!last.frames.some((f) => f.data === 'end')) {
          if (Date.now() > deadline) break;
          await pause(20);
        }
        const received = sockets.flatMap((s) => s.frames.map((f) => f.data)).filter((d) => d.startsWith('r'));
        for (const d of received) assert.ok(offsets.has(d), `unknown frame ${d}`);
        assertExactlyOnce(received.map((d) => offsets.get(d)!), [...offsets.values()]);
      } finally {
        await Promise.all(sockets.map((s) => s.closeAndWait()));
        await srv.close();
      }
    });
  }

  for (const mode of ['close', 'replace'] as const) {
    test(`herald.v1 client resubscribing with since, ${mode === 'close' ? 'closing and reconnecting' : 'replaced by a new connection'} 12 times while 3000 messages are published 32 at a time`, async () => {
      const srv = await startHerald({ historySize: 100_000 });
      const sockets: TestSocket[] = [];
      const messages = (s: TestSocket): J[] =>
        s.frames.flatMap((f) => f.data.split('\n').filter(Boolean).map((l) => JSON.parse(l) as J)).filter((o) => o.type === 'message' && o.topic === 'race.v');
      try {
        const reg = await register(srv.base, 1, ['race.v']);
        sockets.push(await TestSocket.open(reg.url, 'herald.v1'));
        await v1Ready(sockets[0]!);
        let done = false;
        const publishing = publishRacing(srv, 'race.v', 3000, 32).finally(() => (done = true));
        for (let k = 0; k < 12 && !done; k++) {
          await pause(10 + ((k * 7) % 30));
          const cur = sockets.at(-1)!;
          let next: TestSocket;
          if (mode === 'close') {
            await cur.closeAndWait();
            next = await TestSocket.open(reg.url, 'herald.v1');
          } else {
            next = await TestSocket.open(reg.url, 'herald.v1');
            await cur.closed;
          }
          const seen = sockets.flatMap(messages);
          const lastSeen = seen.at(-1);
          sockets.push(next);
          if (lastSeen) next.send({ type: 'subscribe', id: `re${k}`, topics: ['race.v'], since: { 'race.v': { offset: lastSeen.offset, epoch: lastSeen.epoch } } });
        }
        const offsets = await publishing;
        const last = sockets.at(-1)!;
        const end = await publish(srv.base, { topic: 'race.v', message: 'end' });
        const deadline = Date.now() + 10_000;
        while (!messages(last).some((o) => o.offset === end.offset) && Date.now() < deadline) await pause(20);
        const received = sockets.flatMap(messages).map((o) => o.offset as number).filter((o) => o !== end.offset);
        if (process.env.RACE_DEBUG) for (const s of sockets) { const m = messages(s).map((o) => o.offset as number); console.log('socket', m.slice(0, 5).join(','), '...', m.slice(-3).join(','), 'n', m.length, 'other', s.frames.flatMap((f) => f.data.split('\n')).filter((l) => !l.includes('"message"')).join(' ')); }
        assertExactlyOnce(received, [...offsets.values()]);
      } finally {
        await Promise.all(sockets.map((s) => s.closeAndWait()));
        await srv.close();
      }
    });
  }
});
