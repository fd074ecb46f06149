// Issue 11 (medium): a recovery replay obeys HERALD_MAX_BUFFERED_BYTES. It was built as one
// buffer and written at once, so clients that did not read held the whole replay each in the
// server's memory, with no 4008. Now it is written in steps as the client reads, and one
// recovery is capped at HERALD_MAX_RECOVERY_BYTES (beyond: the oldest part is left out and
// `recovered` says complete:false).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';

const sinceUrl = (url: string, topic: string): string => `${url}?since=${encodeURIComponent(JSON.stringify({ [topic]: { offset: 0, epoch: '' } }))}`;

async function fill(srv: TestServer, topic: string, count: number, size: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    const messages = Array.from({ length: Math.min(50, count - i) }, (_, j) => ({ topic, message: `${String(i + j + 1).padStart(6, '0')}:${'x'.repeat(size - 7)}` }));
    const r = await request(srv.base, 'POST', '/publish/batch', { messages });
    assert.equal(r.status, 200);
  }
}

describe('recovery replays', () => {
  let srv: TestServer;
  const maxBuffered = 64 * 1024;
  before(async () => {
    srv = await startHerald({ maxBufferedBytes: maxBuffered, historySize: 1000, maxRecoveryBytes: 1024 ** 3, historyMaxBytes: 1024 ** 3 });
    await fill(srv, 'big', 1000, 16 * 1024); // 16 MB of history
  });
  after(() => srv.close());

  it('a 16 MB replay to a client that stops reading never buffers more than HERALD_MAX_BUFFERED_BYTES, and arrives whole once it reads', async () => {
    const reg = await register(srv.base, 'slow-reader', ['big']);
    const ws = new TestSocket(sinceUrl(reg.url, 'big'), 'herald.v1');
    ws.ws.once('open', () => ws.ws.pause());
    await ws.opened;
    let max = 0;
    const sample = setInterval(() => {
      max = Math.max(max, srv.herald.relay.hub.get(reg.id)?.bufferedBytes ?? 0);
    }, 2);
    try {
      // The kernel's buffers are full once the server has bytes it cannot send.
      await waitFor('the server to hold unsent bytes', () => (srv.herald.relay.hub.get(reg.id)?.bufferedBytes ?? 0) > 0, 10_000);
      const full = srv.herald.relay.hub.get(reg.id)!.bufferedBytes;
      await new Promise((r) => setTimeout(r, 300)); // the window in which an unbounded replay would show
      assert.ok(max <= maxBuffered, `the server buffered ${max} bytes for one socket (first seen ${full}), limit ${maxBuffered}`);
    } finally {
      clearInterval(sample);
    }
    ws.ws.resume();
    const got: number[] = [];
    for (;;) {
      const o = await ws.takeJson(1, 10_000).then((x) => x[0]!);
      if (o['type'] === 'welcome') continue;
      if (o['type'] === 'recovered') {
        assert.equal(o['complete'], true);
        assert.equal(o['offset'], 1000);
        break;
      }
      assert.equal(o['type'], 'message');
      got.push(o['offset'] as number);
    }
    assert.deepEqual(got, Array.from({ length: 1000 }, (_, i) => i + 1), 'every message once, in order');
    assert.ok(max <= maxBuffered, `buffered at most ${max}`);
    await ws.closeAndWait();
  });

  it('a plain client that closes mid-replay keeps the cursor of what was written, so its next connection resumes there, with no gap', async () => {
    const reg = await register(srv.base, 'closes-mid-replay', ['big']);
    const ws = new TestSocket(sinceUrl(reg.url, 'big'));
    ws.ws.once('open', () => ws.ws.pause());
    await ws.opened;
    await waitFor('the server to hold unsent bytes', () => (srv.herald.relay.hub.get(reg.id)?.bufferedBytes ?? 0) > 0, 10_000);
    // Close while the replay waits for room; the server sees the close before it can write more.
    ws.ws.close();
    ws.ws.resume();
    await ws.closed;
    await waitFor('the session to be gone', () => srv.herald.relay.hub.get(reg.id) === undefined);
    const saved = (await srv.herald.engine.registry.get(reg.id))!.cursors['big'];
    assert.ok(saved && saved.offset > 0 && saved.offset < 1000, `the cursor is where the replay stopped, not the seam: ${JSON.stringify(saved)}`);
    const again = await TestSocket.open(reg.url);
    const first = await again.next(10_000);
    assert.equal(Number(first.data.slice(0, 6)), saved.offset + 1, 'the next connection resumes right after the saved cursor');
    let last = first;
    for (let n = saved.offset + 1; n < 1000; n++) last = await again.next(10_000);
    assert.equal(Number(last.data.slice(0, 6)), 1000);
    await again.closeAndWait();
  });

  it('a recovery larger than HERALD_MAX_RECOVERY_BYTES replays its newest part and says complete:false', async () => {
    const small = await startHerald({ maxRecoveryBytes: 256 * 1024, historySize: 1000 });
    try {
      await fill(small, 'capped', 100, 10 * 1024); // 1 MB
      const reg = await register(small.base, 'capped-reader', ['capped']);
      const ws = await TestSocket.open(sinceUrl(reg.url, 'capped'), 'herald.v1');
      const got: number[] = [];
      for (;;) {
        const o = await ws.takeJson(1, 10_000).then((x) => x[0]!);
        if (o['type'] === 'welcome') continue;
        if (o['type'] === 'recovered') {
          assert.equal(o['complete'], false);
          assert.equal(o['offset'], 100);
          break;
        }
        got.push(o['offset'] as number);
      }
      assert.equal(got.length, 25, `256 KB holds 25 messages of 10 KB, got ${got.length}`);
      assert.deepEqual(got, Array.from({ length: 25 }, (_, i) => 76 + i), 'the newest, contiguous up to the seam');
      await ws.closeAndWait();
    } finally {
      await small.close();
    }
  });
});
