// A node behind on its work answers new connections and registrations 503 overloaded with
// Retry-After, before doing the work, and takes them again once it has caught up
// (HERALD_OVERLOAD_DELAY, core/admission.ts). The server runs in this process, so the test
// holds its event loop the way a turn full of handshakes does.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { TestSocket } from '../helpers/ws-client.js';

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // the event loop is held
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A keep-alive connection that has already been accepted and served once. */
async function openConnection(port: number): Promise<{ socket: Socket; next: () => Promise<Answer> }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  const waiting: Array<(a: Answer) => void> = [];
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    for (;;) {
      const end = text.indexOf('\r\n\r\n');
      if (end < 0 || waiting.length === 0) return;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const length = Number(headers['content-length'] ?? 0);
      if (text.length < end + 4 + length) return;
      const body = text.slice(end + 4, end + 4 + length);
      text = text.slice(end + 4 + length);
      waiting.shift()!({ status: Number(statusLine!.split(' ')[1]), headers, body });
    }
  });
  const next = (): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      waiting.push((a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const health = next();
  socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await health).status, 200);
  return { socket, next };
}

const upgradeRequest = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

describe('overload admission (HERALD_OVERLOAD_DELAY)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ overloadDelayMs: 100 });
  });
  after(() => srv.close());

  it('answers upgrades and POST /register that waited through a held loop with 503 overloaded and Retry-After, then accepts again', async () => {
    const regs = await Promise.all([1, 2, 3].map((u) => register(srv.base, `storm-${u}`, ['room'])));
    const conns = await Promise.all([...regs, 'register'].map(() => openConnection(srv.port)));
    const refusedBefore = srv.herald.stats.refusals.overloaded;
    const answers = conns.map((c) => c.next());
    // Inside a timer: the requests reach the server's sockets, the loop is held past the delay,
    // and the server reads them in the same turn's poll phase, before its admission timer ticks.
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        regs.forEach((r, i) => conns[i]!.socket.write(upgradeRequest(new URL(r.url).pathname)));
        const body = JSON.stringify({ user_id: 'late', topics: ['room'] });
        conns[3]!.socket.write(`POST /register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        busy(300);
        resolve();
      }, 0),
    );
    for (const a of await Promise.all(answers)) {
      assert.equal(a.status, 503, a.body);
      assert.equal((JSON.parse(a.body) as { error: string }).error, 'overloaded');
      const wait = Number(a.headers['retry-after']);
      assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= 5, `Retry-After ${a.headers['retry-after']}`);
    }
    assert.equal(srv.herald.stats.refusals.overloaded, refusedBefore + 4);
    assert.equal(srv.herald.relay.hub.size, 0, 'no refused upgrade became a session');
    for (const c of conns) c.socket.destroy();

    // Caught up (within a tick or two of the admission timer): registering works again, and the
    // same registrations connect.
    await waitFor('registrations admitted again', async () => (await request(srv.base, 'POST', '/register', { user_id: 'late', topics: ['room'] })).status === 200, 3000);
    const sockets = await Promise.all(regs.map((r) => TestSocket.open(r.url)));
    assert.equal(srv.herald.relay.hub.size, 3);
    await Promise.all(sockets.map((s) => s.closeAndWait()));
  });
});

describe('shutting down (memory engine)', () => {
  it('writes what the hub holds, closes sockets with 1001, then refuses publishes with 503 shutting_down', async () => {
    const srv = await startHerald();
    try {
      const reg = await register(srv.base, 'leaving', ['news']);
      const ws = await TestSocket.open(reg.url);
      const closed = ws.closed;
      // Published and queued in the hub, not yet flushed (that waits for the next check phase).
      await srv.herald.relay.publish({ topic: 'news', kind: 'text', body: 'last words' });
      srv.herald.relay.shutdown();
      assert.equal((await ws.next()).data, 'last words');
      assert.equal((await closed).code, 1001);
      const r = await request(srv.base, 'POST', '/publish', { topic: 'news', message: 'into the void' });
      assert.equal(r.status, 503);
      assert.equal((r.body as { error: string }).error, 'shutting_down');
    } finally {
      await srv.close();
    }
  });
});
