// Issue 11 (low): a slow authenticated body never timed out (Fastify's requestTimeout was 0).
// HERALD_REQUEST_TIMEOUT bounds the time to receive a whole request: 408 request_timeout in the
// catalog's JSON, connection closed. WebSockets, once upgraded, are not affected.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { publish, register } from '../helpers/http.js';
import { startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

/** Sends the head and part of a body, then nothing; resolves with what the server answered and when. */
function slowBody(port: number, timeoutMs: number): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const sock = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms (got ${JSON.stringify(text)})`));
    }, timeoutMs);
    sock.on('data', (d) => (text += d.toString()));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ text, ms: Date.now() - started });
    });
    sock.on('error', () => {});
    sock.write('POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"topic":"t",');
  });
}

describe('HERALD_REQUEST_TIMEOUT', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ requestTimeoutMs: 500 });
  });
  after(() => srv.close());

  it('a body that stops coming gets 408 request_timeout and the connection closes; an open WebSocket is not touched', async () => {
    const reg = await register(srv.base, 'ws-survives', ['t']);
    const ws = await TestSocket.open(reg.url);
    await topicsLive(srv, reg.id, ['t']);
    const r = await slowBody(srv.port, 5000);
    assert.match(r.text, /^HTTP\/1\.1 408 /);
    const body = JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)) as { error: string; message: string };
    assert.equal(body.error, 'request_timeout');
    assert.match(body.message, /HERALD_REQUEST_TIMEOUT/);
    assert.ok(r.ms >= 450, `answered after ${r.ms} ms`);
    // The socket was open through the whole timeout and still works.
    await publish(srv.base, { topic: 't', message: 'still open' });
    assert.equal((await ws.next()).data, 'still open');
    await ws.closeAndWait();
  });
});
