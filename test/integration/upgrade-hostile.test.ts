// Hostile WebSocket upgrade requests on raw sockets, against a real `herald serve` process (so a
// crash is a dead child): upgrades are served on the HTTP server's 'upgrade' event (src/http/ws.ts).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { register, request } from '../helpers/http.js';
import { spawnHerald, type HeraldProcess } from '../helpers/server.js';

const upgrade = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
const health = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';

/** Writes `bytes` in one write; resolves with everything the server sent once it closes the connection. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(text));
  });
}

/** Status lines in the order they were answered. */
const statuses = (text: string): string[] => text.match(/HTTP\/1\.1 \d{3} [^\r]*/g) ?? [];

async function alive(srv: HeraldProcess): Promise<void> {
  assert.equal(srv.child.exitCode, null, `herald exited:\n${srv.output().slice(-2000)}`);
  assert.equal((await request(srv.base, 'GET', '/health')).status, 200);
}

describe('hostile upgrade requests', () => {
  let srv: HeraldProcess;
  before(async () => {
    srv = await spawnHerald();
  });
  after(async () => {
    await srv.stop();
  });

  // A keep-alive request and an upgrade in one write: the upgrade is parsed while the first answer
  // still owns the socket. Handing the socket to a second ServerResponse then threw
  // ERR_HTTP_SOCKET_ASSIGNED inside the server's 'upgrade' listener and killed the process.
  it('an upgrade of another path pipelined behind a request: both answered in order, the process stays up', { timeout: 10_000 }, async () => {
    const text = await exchange(srv.port, health + upgrade('/health'));
    assert.deepEqual(statuses(text), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK'], text);
    await alive(srv);
  });

  it('an upgrade of /ws/:id pipelined behind a request: answered after it, never inside it', { timeout: 10_000 }, async () => {
    const reg = await register(srv.base, 'pipelined', ['room']);
    const unknown = await exchange(srv.port, health + upgrade('/ws/not-a-registration'));
    assert.deepEqual(statuses(unknown), ['HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found'], unknown);
    const text = await new Promise<string>((resolve) => {
      const socket = connect(srv.port, '127.0.0.1', () => socket.write(health + upgrade(new URL(reg.url).pathname)));
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        const switched = got.indexOf('HTTP/1.1 101');
        if (switched >= 0 && got.includes('\r\n\r\n', switched)) socket.end();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(got));
    });
    assert.deepEqual(statuses(text), ['HTTP/1.1 200 OK', 'HTTP/1.1 101 Switching Protocols'], text);
    await alive(srv);
  });
});
