// GET /sse/:id read as raw bytes: framing, resume by Last-Event-ID, gaps, filtering, slow readers.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { publish, register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { SseReader, sseUrl } from '../helpers/sse-client.js';
import { waitFor } from '../helpers/wait.js';
import { TestSocket } from '../helpers/ws-client.js';

/** Resolves once the registration's stream on `srv` receives every one of `topics` live. */
async function live(srv: TestServer, id: string, topics: string[]): Promise<void> {
  await waitFor(`${topics.join(',')} live`, () => topics.every((t) => srv.herald.relay.hub.get(id)?.links.get(t)?.live === true), 5000);
}

async function openLive(srv: TestServer, reg: { url: string; id: string }, topics: string[], query = '', headers: Record<string, string> = {}): Promise<SseReader> {
  const r = await SseReader.open(sseUrl(reg.url, query), headers);
  assert.equal(r.status, 200, r.raw);
  await live(srv, reg.id, topics);
  return r;
}

describe('SSE: the stream', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ heartbeatMs: 200 });
  });
  after(() => srv.close());

  it('is text/event-stream: retry first, a welcome, then one event per message with an id', async () => {
    const reg = await register(srv.base, 1, ['a', 'b']);
    const r = await openLive(srv, reg, ['a', 'b']);
    try {
      assert.match(String(r.headers['content-type']), /^text\/event-stream/);
      assert.equal(r.headers['cache-control'], 'no-cache, no-transform');
      assert.equal(r.headers['x-accel-buffering'], 'no');
      assert.match(r.raw, /^retry: \d+\n\n/, 'the retry line comes first');
      const m1 = await publish(srv.base, { topic: 'a', message: 'line one\nline two\r\nthree' });
      await publish(srv.base, { topic: 'b', binary: Buffer.from([0, 1, 254, 255]).toString('base64') });
      await publish(srv.base, { topic: 'a', data: { deep: { list: [1, 'x\ny'] } } });
      await r.waitMessages(3);
      const welcome = r.events.find((e) => e.event === 'welcome');
      assert.deepEqual(JSON.parse(welcome!.data), { type: 'welcome', client: reg.id, user: 1, topics: ['a', 'b'], heartbeat_ms: 200 });
      const [a1, b1, a2] = r.messages();
      assert.deepEqual(a1, { type: 'message', topic: 'a', data: 'line one\nline two\r\nthree', offset: m1.offset, epoch: a1!['epoch'], ts: a1!['ts'] });
      assert.equal(b1!['binary'], 'AAH+/w==');
      assert.deepEqual(a2!['data'], { deep: { list: [1, 'x\ny'] } });
      // Multi-line text is JSON on one line: each event is exactly one id line and one data line.
      // (Heartbeat comment lines may come between events: they are not part of one.)
      const blocks = r.raw.split('\n\n').map((b) => b.replace(/^(:[^\n]*\n)+/, '')).filter((b) => b.includes('"type":"message"'));
      assert.equal(blocks.length, 3);
      for (const block of blocks) assert.match(block, /^id: [A-Za-z0-9_.-]+\ndata: \{[^\n]*\}$/);
      const ids = r.events.filter((e) => e.event === 'message').map((e) => e.id);
      assert.equal(new Set(ids).size, 3, 'every message has its own id');
      // Comment lines every heartbeat.
      await r.waitFor('two heartbeat comments', () => (r.raw.match(/^:\n/gm) ?? []).length >= 2, 3000);
    } finally {
      r.close();
    }
  });

  it('resumes exactly after the Last-Event-ID, per topic, and by ?last_event_id=', async () => {
    const reg = await register(srv.base, 2, ['x', 'y']);
    const r1 = await openLive(srv, reg, ['x', 'y']);
    for (const [topic, n] of [['x', 1], ['y', 1], ['x', 2], ['y', 2]] as const) await publish(srv.base, { topic, message: `${topic}${n}` });
    await r1.waitMessages(4);
    // The client saw x1, y1, x2 and missed y2 (cut before it): resume from the third event.
    const third = r1.events.filter((e) => e.event === 'message')[2]!;
    r1.close();
    await waitFor('the first stream gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
    await publish(srv.base, { topic: 'x', message: 'x3' });
    await publish(srv.base, { topic: 'y', message: 'y3' });
    const r2 = await openLive(srv, reg, ['x', 'y'], '', { 'last-event-id': third.id! });
    await r2.waitMessages(3);
    assert.deepEqual(r2.messages().map((m) => m['data']).sort(), ['x3', 'y2', 'y3']);
    assert.deepEqual(r2.messages().filter((m) => m['topic'] === 'y').map((m) => m['data']), ['y2', 'y3'], 'in order per topic');
    await publish(srv.base, { topic: 'x', message: 'x4' });
    await r2.waitMessages(4);
    const last = r2.lastEventId!;
    r2.close();
    await waitFor('the second stream gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
    await publish(srv.base, { topic: 'y', message: 'y4' });
    const r3 = await openLive(srv, reg, ['x', 'y'], `?last_event_id=${encodeURIComponent(last)}`);
    try {
      await r3.waitMessages(1);
      await publish(srv.base, { topic: 'x', message: 'x5' });
      await r3.waitMessages(2);
      assert.deepEqual(r3.messages().map((m) => m['data']), ['y4', 'x5'], 'no duplicate, no gap');
      assert.equal(r3.events.filter((e) => e.event === 'recovered').length, 0, 'a complete recovery says nothing');
    } finally {
      r3.close();
    }
  });

  it('without Last-Event-ID resumes from the server cursor, as plain WebSocket clients do', async () => {
    const reg = await register(srv.base, 3, ['c']);
    const r1 = await openLive(srv, reg, ['c']);
    await publish(srv.base, { topic: 'c', message: 'c1' });
    await r1.waitMessages(1);
    r1.close();
    await waitFor('the stream gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
    await publish(srv.base, { topic: 'c', message: 'c2' });
    await publish(srv.base, { topic: 'c', message: 'c3' });
    const r2 = await openLive(srv, reg, ['c']);
    try {
      await r2.waitMessages(2);
      assert.deepEqual(r2.messages().map((m) => m['data']), ['c2', 'c3']);
    } finally {
      r2.close();
    }
  });

  it("a stream of some topics keeps the registration's cursors of the others (its WebSocket recovers them)", async () => {
    const reg = await register(srv.base, 'both', ['p', 'q']);
    const ws = await TestSocket.open(reg.url);
    await live(srv, reg.id, ['p', 'q']);
    await publish(srv.base, { topic: 'p', message: 'p1' });
    await publish(srv.base, { topic: 'q', message: 'q1' });
    assert.deepEqual((await ws.take(2)).map((f) => f.data), ['p1', 'q1']);
    await ws.closeAndWait();
    await waitFor('the socket gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
    const sse = await openLive(srv, reg, ['p'], '?topics=p');
    await publish(srv.base, { topic: 'p', message: 'p2' });
    await sse.waitMessages(1);
    assert.deepEqual(sse.messages().map((m) => m['data']), ['p2'], 'p resumed from the server cursor');
    sse.close();
    await waitFor('the stream gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
    await publish(srv.base, { topic: 'q', message: 'q2' });
    const back = await TestSocket.open(reg.url);
    try {
      assert.deepEqual((await back.take(1)).map((f) => f.data), ['q2'], 'q resumes from its cursor; p from where the stream left it');
    } finally {
      await back.closeAndWait();
    }
  });

  it('ignores a Last-Event-ID that is not a token (hostile input) and starts as a fresh stream would', async () => {
    const reg = await register(srv.base, 4, ['d']);
    for (const bad of ['garbage', 'AAAAAA'.repeat(2000), '../../etc', 'AAAAAAAAAAAAAA' + 'z'.repeat(20)]) {
      const r = await openLive(srv, reg, ['d'], '', { 'last-event-id': bad });
      await publish(srv.base, { topic: 'd', message: 'live' });
      await r.waitMessages(1);
      r.close();
      await waitFor('the stream gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
    }
    const tooLong = await SseReader.open(sseUrl(reg.url, `?last_event_id=${'A'.repeat(12_000)}`));
    assert.equal(tooLong.status, 400);
    tooLong.close();
  });

  it('picks topics with ?topics= among those the client may hold; a user-addressed message reaches only its user', async () => {
    const reg1 = await register(srv.base, 'u1', ['t']);
    const reg2 = await register(srv.base, 'u2', ['t']);
    const r1 = await openLive(srv, reg1, ['t', 'extra'], '?topics=t,extra');
    const r2 = await openLive(srv, reg2, ['t']);
    try {
      await publish(srv.base, { topic: 't', user_id: 'u2', message: 'for u2' });
      await publish(srv.base, { topic: 't', user_id: 'u1', message: 'for u1' });
      await publish(srv.base, { topic: 'extra', message: 'extra' });
      await publish(srv.base, { topic: 't', message: 'everyone' });
      await r1.waitMessages(3);
      await r2.waitMessages(2);
      // Order holds per topic (a flush may carry t's two messages together, before extra's).
      const of = (topic: string): unknown[] => r1.messages().filter((m) => m['topic'] === topic).map((m) => m['data']);
      assert.deepEqual(of('t'), ['for u1', 'everyone']);
      assert.deepEqual(of('extra'), ['extra']);
      assert.deepEqual(r2.messages().map((m) => m['data']), ['for u2', 'everyone']);
    } finally {
      r1.close();
      r2.close();
    }
  });

  it('counts streams as herald_connections{protocol="sse"}', async () => {
    const reg = await register(srv.base, 5, ['m']);
    const r = await openLive(srv, reg, ['m']);
    try {
      const text = await (await fetch(`${srv.base}/metrics`)).text();
      assert.match(text, /herald_connections\{protocol="sse",node="[^"]+"\} 1\n/);
    } finally {
      r.close();
    }
  });
});

describe('SSE: refusals before the stream starts', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ publicTopics: ['news.*'], apiKey: 'k' });
  });
  after(() => srv.close());
  const auth = { authorization: 'Bearer k' };

  it('403 for a topic the client may not hold, 404 for an unknown id, 400 for a bad topic list; no key needed', async () => {
    const reg = await register(srv.base, 9, ['own'], auth);
    const forbidden = await SseReader.open(sseUrl(reg.url, '?topics=own,secret'));
    assert.equal(forbidden.status, 403);
    assert.equal(JSON.parse(await forbidden.body())['error'], 'forbidden');
    const unknown = await SseReader.open(sseUrl(reg.url).replace(reg.id, 'f'.repeat(32)));
    assert.equal(unknown.status, 404);
    const empty = await SseReader.open(sseUrl(reg.url, '?topics='));
    assert.equal(empty.status, 400);
    const ok = await SseReader.open(sseUrl(reg.url, '?topics=own,news.today'));
    assert.equal(ok.status, 200, 'the key is not needed: the id is the credential');
    ok.close();
  });
});

describe('SSE: gaps, slow readers, shutdown', () => {
  it('a gap older than history sends event: recovered with complete:false, then what is kept', async () => {
    const srv = await startHerald({ historySize: 3 });
    try {
      const reg = await register(srv.base, 1, ['g']);
      const r1 = await openLive(srv, reg, ['g']);
      await publish(srv.base, { topic: 'g', message: 'g1' });
      await r1.waitMessages(1);
      const token = r1.lastEventId!;
      r1.close();
      await waitFor('the stream gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
      for (let i = 2; i <= 8; i++) await publish(srv.base, { topic: 'g', message: `g${i}` });
      const r2 = await openLive(srv, reg, ['g'], '', { 'last-event-id': token });
      try {
        await r2.waitMessages(3);
        const rec = r2.events.find((e) => e.event === 'recovered');
        assert.ok(rec, 'a recovered event');
        const body = JSON.parse(rec.data) as Record<string, unknown>;
        assert.equal(body['topic'], 'g');
        assert.equal(body['complete'], false);
        assert.deepEqual(r2.messages().map((m) => m['data']), ['g6', 'g7', 'g8']);
      } finally {
        r2.close();
      }
    } finally {
      await srv.close();
    }
  });

  it('a replay larger than a step (written in steps under the buffer limit) carries a resume id on every event', async () => {
    const srv = await startHerald({ maxBufferedBytes: 8192 });
    try {
      const reg = await register(srv.base, 1, ['big', 'other']);
      const r1 = await openLive(srv, reg, ['big', 'other']);
      await publish(srv.base, { topic: 'big', message: 'first' });
      await r1.waitMessages(1);
      const resumeAt = r1.lastEventId!;
      r1.close();
      await waitFor('the stream gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
      for (let i = 0; i < 40; i++) await publish(srv.base, { topic: 'big', message: `m${i}-${'x'.repeat(200)}` });
      const r2 = await openLive(srv, reg, ['big', 'other'], '', { 'last-event-id': resumeAt });
      try {
        await r2.waitMessages(40);
        const events = r2.events.filter((e) => e.event === 'message');
        assert.deepEqual(events.map((e) => (JSON.parse(e.data) as { data: string }).data.split('-')[0]), Array.from({ length: 40 }, (_, i) => `m${i}`));
        assert.deepEqual(events.filter((e) => e.id === undefined).length, 0, 'every replayed event can be resumed from');
        // The token names both topics, so resuming from the last event misses nothing in either.
        assert.equal(events.at(-1)!.id!.split('.').length, 2);
      } finally {
        r2.close();
      }
    } finally {
      await srv.close();
    }
  });

  it('ends the stream of a reader that stops reading past HERALD_MAX_BUFFERED_BYTES', async () => {
    const srv = await startHerald({ maxBufferedBytes: 1024 });
    try {
      const reg = await register(srv.base, 1, ['slow']);
      const socket = connect(srv.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      // A reader that never reads: the kernel's buffers fill, then Herald's.
      socket.pause();
      socket.write(`GET /sse/${reg.id} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
      await live(srv, reg.id, ['slow']);
      const big = 'x'.repeat(60_000);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => {});
      for (let i = 0; i < 200 && srv.herald.relay.hub.get(reg.id) !== undefined; i++) await publish(srv.base, { topic: 'slow', message: big });
      await waitFor('the slow stream cut', () => srv.herald.relay.hub.get(reg.id) === undefined, 10_000);
      assert.equal(srv.herald.stats.drops.slow_consumer, 1);
      socket.resume();
      await closed;
    } finally {
      await srv.close();
    }
  });

  it('shutdown ends every stream with a last event: close 1001, so browsers reconnect elsewhere', async () => {
    const srv = await startHerald();
    const reg = await register(srv.base, 1, ['s']);
    const r = await openLive(srv, reg, ['s']);
    await srv.close();
    await r.waitEnd();
    const close = r.events.find((e) => e.event === 'close');
    assert.deepEqual(JSON.parse(close!.data), { type: 'close', code: 1001, reason: 'server shutting down' });
  });

  it('the resume token stays short: 100 topics', async () => {
    const srv = await startHerald();
    try {
      const topics = Array.from({ length: 100 }, (_, i) => `tenant.42.board.${i}`);
      const reg = await register(srv.base, 1, topics);
      const r = await openLive(srv, reg, topics);
      try {
        // 100 messages in every topic: offsets 36..1295 take two base-36 digits (each digit more: +100 bytes).
        // One message per topic per round, read before the next (each event carries a ~1.8 KB id:
        // a burst of thousands would pass HERALD_MAX_BUFFERED_BYTES and end the stream).
        for (let round = 1; round <= 100; round++) {
          assert.equal((await request(srv.base, 'POST', '/publish/batch', { messages: topics.map((topic) => ({ topic, message: 'm' })) })).status, 200);
          await r.waitMessages(round * 100, 10_000);
        }
        const size = r.lastEventId!.length;
        console.log(`# resume token at 100 topics, offset 100 in each: ${size} bytes`);
        assert.ok(size < 2048, `token of ${size} bytes`);
        assert.equal(r.lastEventId!.split('.').length, 100);
      } finally {
        r.close();
      }
    } finally {
      await srv.close();
    }
  });
});
