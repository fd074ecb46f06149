import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request, register, publish } from '../helpers/http.js';
import { spawnHerald, startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { TestSocket } from '../helpers/ws-client.js';

async function live(srv: TestServer, s: TestSocket, topic: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await publish(srv.base, { topic, message: 'probe' });
    if ((await s.take(1, 100).catch(() => [])).length > 0) {
      s.frames.length = 0;
      return;
    }
  }
  throw new Error(`${topic} never became live`);
}

describe('limits and bad input on sockets', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ maxFrameBytes: 1024, maxTopics: 3, maxTopicLength: 16, clientRate: 20, heartbeatMs: 100 });
  });
  after(() => srv.close());

  test('a frame over HERALD_MAX_FRAME_BYTES closes the socket with 1009', async () => {
    const s = await TestSocket.open((await register(srv.base, 1)).url);
    const before = srv.herald.stats.drops.too_large;
    s.send('x'.repeat(2000));
    assert.equal((await s.closed).code, 1009);
    assert.equal(srv.herald.stats.drops.too_large, before + 1);
  });

  test('invalid UTF-8 in a text frame closes the socket with 1007', async () => {
    const s = await TestSocket.open((await register(srv.base, 1)).url);
    // Send a text frame whose payload is not UTF-8, bypassing the client's own checks.
    const payload = Buffer.from([0xc3, 0x28]);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    const raw = (s.ws as unknown as { _socket: Socket })._socket;
    raw.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
    assert.equal((await s.closed).code, 1007);
  });

  test('a topics update over the limits is ignored (plain) and the old topics stay', async () => {
    const s = await TestSocket.open((await register(srv.base, 2, ['kept'])).url);
    await live(srv, s, 'kept');
    s.send({ topics: ['a', 'b', 'c', 'd'] });
    s.send({ topics: ['a-topic-name-that-is-too-long'] });
    s.send('ping');
    await publish(srv.base, { topic: 'kept', message: 'still here' });
    assert.equal((await s.next()).data, 'still here');
    assert.equal(s.ws.readyState, s.ws.OPEN);
    await s.closeAndWait();
  });

  test('naming topics creates no history: only publishes do', async () => {
    const reg = await register(srv.base, 6, ['a0']);
    const s = await TestSocket.open(reg.url);
    const before = (await srv.herald.engine.history.stats()).topics;
    for (let round = 1; round <= 5; round++) s.send({ topics: [`r${round}-x`, `r${round}-y`, `r${round}-z`] });
    await topicsLive(srv, reg.id, ['r5-x', 'r5-y', 'r5-z']);
    assert.equal((await srv.herald.engine.history.stats()).topics, before);
    await s.closeAndWait();
  });

  test('more client messages per second than HERALD_CLIENT_RATE closes with 1008', async () => {
    const s = await TestSocket.open((await register(srv.base, 3)).url);
    for (let i = 0; i < 60; i++) s.send('ping');
    assert.equal((await s.closed).code, 1008);
  });

  test('a socket that stops answering pings is dropped after two rounds', async () => {
    const reg = await register(srv.base, 4);
    const s = await TestSocket.open(reg.url, undefined, { autoPong: false });
    const start = Date.now();
    const closed = await s.closed;
    assert.equal(closed.code, 1006);
    assert.ok(Date.now() - start < 2000);
  });

  test('a socket that answers pings stays', async () => {
    const s = await TestSocket.open((await register(srv.base, 5)).url);
    let pings = 0;
    s.ws.on('ping', () => pings++);
    await new Promise<void>((resolve) => {
      const check = (): void => (pings >= 5 ? resolve() : void 0);
      s.ws.on('ping', check);
    });
    assert.equal(s.ws.readyState, s.ws.OPEN);
    await s.closeAndWait();
  });
});

describe('heartbeat rounds spread over the interval', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ heartbeatMs: 1000 });
  });
  after(() => srv.close());

  test('each socket is pinged once a round, at different times across the round', async () => {
    const sockets: TestSocket[] = [];
    const firstPing: number[] = [];
    const pings: number[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await TestSocket.open((await register(srv.base, 100 + i)).url);
      pings.push(0);
      s.ws.on('ping', () => {
        if (pings[i] === 0) firstPing[i] = performance.now();
        pings[i]!++;
      });
      sockets.push(s);
    }
    await waitFor('every socket pinged once', () => pings.every((n) => n >= 1), 5_000);
    const earliest = Math.min(...firstPing);
    const latest = Math.max(...firstPing);
    // One round is 10 ticks of 100 ms, two sockets a tick: all at once would be ~0 ms apart.
    assert.ok(latest - earliest >= 300, `first pings ${Math.round(latest - earliest)} ms apart`);
    // No socket got a second ping before every socket had its first (one ping per round).
    assert.ok(pings.every((n) => n <= 2), `pings per socket: ${pings.join(',')}`);
    for (const s of sockets) await s.closeAndWait();
  });

  test('a socket that stops answering is still dropped after two rounds', async () => {
    const s = await TestSocket.open((await register(srv.base, 200)).url, undefined, { autoPong: false });
    const start = Date.now();
    const closed = await s.closed;
    assert.equal(closed.code, 1006);
    // Pinged in round 1 and 2, dropped when round 3 reaches it: at most ~3 intervals.
    assert.ok(Date.now() - start < 4_500, `dropped after ${Date.now() - start} ms`);
    assert.ok(Date.now() - start >= 1_000, `dropped after only ${Date.now() - start} ms`);
  });
});

describe('registration lifetime', () => {
  test('an unconnected registration expires after HERALD_REGISTRATION_TTL; a connected one does not', async () => {
    const srv = await startHerald({ registrationTtlMs: 300 });
    try {
      const idle = await register(srv.base, 1);
      const held = await register(srv.base, 2);
      const s = await TestSocket.open(held.url);
      // Look without touching: a DELETE here would remove it and pass whether or not it expired.
      await waitFor('the idle registration to expire', async () => (await srv.herald.engine.registry.get(idle.id)) === undefined, 5000);
      const gone = new TestSocket(idle.url);
      await assert.rejects(gone.opened, /unexpected response 404/);
      // The held one has been connected the whole time: still there.
      assert.equal(s.ws.readyState, s.ws.OPEN);
      await s.closeAndWait();
      const again = await TestSocket.open(held.url);
      await again.closeAndWait();
      assert.equal((await request(srv.base, 'DELETE', `/register/${held.id}`)).status, 200);
    } finally {
      await srv.close();
    }
  });

  test('per user: a new registration evicts the least recently connected one without a socket; 429 only when all are connected', async () => {
    const srv = await startHerald({ maxRegistrationsPerUser: 2 });
    try {
      const a = await register(srv.base, 9);
      const b = await register(srv.base, 9);
      const sa = await TestSocket.open(a.url);
      const c = await register(srv.base, 9); // b never connected: evicted
      await assert.rejects(new TestSocket(b.url).opened, /unexpected response 404/);
      const sc = await TestSocket.open(c.url);
      const r = await request(srv.base, 'POST', '/register', { user_id: 9 });
      assert.equal(r.status, 429);
      assert.equal(r.body.error, 'too_many_registrations');
      assert.equal(sa.ws.readyState, sa.ws.OPEN, 'a refused registration closes nothing');
      await sc.closeAndWait();
      await register(srv.base, '9'); // c has no socket now ("9" and 9 are one user)
      await assert.rejects(new TestSocket(c.url).opened, /unexpected response 404/);
      await sa.closeAndWait();
    } finally {
      await srv.close();
    }
  });

  test('a page that registers on every load is never locked out (150 loads, limit 100)', async () => {
    // 150 loads in well under a second from one address: the per-address register rate
    // (HERALD_REGISTER_RATE, test/integration/register-rate.test.ts) is not what this checks.
    const srv = await startHerald({ registerRate: 0 });
    try {
      for (let i = 0; i < 150; i++) {
        const reg = await register(srv.base, 'reloader');
        const s = await TestSocket.open(reg.url);
        await s.closeAndWait();
      }
      assert.equal(await srv.herald.engine.registry.count(), 100);
    } finally {
      await srv.close();
    }
  });

  test('past HERALD_MAX_REGISTRATIONS a registration is 503 registrations_full', async () => {
    const srv = await startHerald({ maxRegistrations: 3 });
    try {
      for (const u of [1, 2, 3]) await register(srv.base, u);
      const r = await request(srv.base, 'POST', '/register', { user_id: 4 });
      assert.equal(r.status, 503);
      assert.equal(r.body.error, 'registrations_full');
    } finally {
      await srv.close();
    }
  });
});

/** A WebSocket client over raw TCP that completes the handshake and then never reads. */
async function stalledClient(url: string): Promise<Socket> {
  const u = new URL(url);
  const sock = connect(Number(u.port), u.hostname);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    sock.once('data', (d: Buffer) => {
      if (!d.toString().startsWith('HTTP/1.1 101')) reject(new Error(`no upgrade: ${d.toString()}`));
      sock.pause();
      resolve();
    });
  });
  sock.on('error', () => {});
  return sock;
}

describe('slow consumers', () => {
  test('a client that stops reading while 50 MB are published is closed (4008) with at most the limit buffered; /health answers', async () => {
    const limit = 1024 * 1024;
    const srv = await startHerald({ maxBufferedBytes: limit, historySize: 4 });
    try {
      const reg = await register(srv.base, 1, ['flood']);
      const stalled = await stalledClient(reg.url);
      // No reading client in this process: under load it could fall behind and be dropped too.
      await topicsLive(srv, reg.id, ['flood']);
      const session = srv.herald.relay.hub.get(reg.id)!;
      const chunk = 'x'.repeat(512 * 1024);
      let peakBuffered = 0;
      let sent = 0;
      for (let i = 0; i < 100; i++) {
        await publish(srv.base, { topic: 'flood', message: chunk });
        sent += chunk.length;
        // Let the flush run, then look at what the server holds for the stalled socket.
        await new Promise((r) => setImmediate(r));
        peakBuffered = Math.max(peakBuffered, session.bufferedBytes);
      }
      assert.equal(sent, 50 * 1024 * 1024);
      assert.equal(session.closeReason, 'slow');
      assert.ok(peakBuffered <= limit + chunk.length + 16, `server buffered ${peakBuffered} bytes for the stalled socket`);
      const t0 = Date.now();
      assert.equal((await request(srv.base, 'GET', '/health')).status, 200);
      assert.ok(Date.now() - t0 < 1000, '/health was slow');
      // The stalled socket is gone within the close grace; the reader got everything.
      await waitFor('the stalled socket to be released', () => srv.herald.relay.hub.get(reg.id) === undefined, 5000);
      assert.equal(srv.herald.stats.drops.slow_consumer, 1);
      stalled.destroy();
    } finally {
      await srv.close();
    }
  });
});

describe('shutdown', () => {
  test('SIGTERM closes sockets with 1001 and the process exits 0', async () => {
    const proc = await spawnHerald();
    const s = await TestSocket.open((await register(proc.base, 1)).url);
    const code = proc.stop('SIGTERM');
    assert.equal((await s.closed).code, 1001);
    assert.equal(await code, 0);
    assert.match(proc.output(), /shutting down/);
  });
});

describe('start-up checks', () => {
  test('an open-file limit below HERALD_MAX_CONNECTIONS is logged with how to fix it', async () => {
    const proc = await spawnHerald(['--max-connections', '100000000']);
    try {
      // The log line and the /health answer travel separately: wait for the line.
      await waitFor('the listening line', () => /herald listening/.test(proc.output()), 5000);
      assert.match(proc.output(), /open-file limit \(\d+\) allows fewer sockets than HERALD_MAX_CONNECTIONS \(100000000\)/);
    } finally {
      await proc.stop();
    }
    const fine = await spawnHerald(['--max-connections', '10']);
    try {
      await waitFor('the listening line', () => /herald listening/.test(fine.output()), 5000);
      assert.doesNotMatch(fine.output(), /open-file limit/);
    } finally {
      await fine.stop();
    }
  });
});
