// Issue 11 (low): the registration id (a socket credential) was written whole to the info log on
// every /register. Now no log line carries an id or a query string: a real `herald serve`
// at debug level goes through register, connect (good and bad), unregister and the dashboard
// with ?key=, and its whole output is searched.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { clientTag, redactUrl } from '../../src/core/log-redact.js';
import { register, request } from '../helpers/http.js';
import { spawnHerald, type HeraldProcess } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';
import { waitFor } from '../helpers/wait.js';

const key = 'a-long-api-key-0123456789';
const auth = { authorization: `Bearer ${key}` };

describe('log redaction', () => {
  let srv: HeraldProcess;
  before(async () => {
    srv = await spawnHerald([], { HERALD_LOG_LEVEL: 'debug', HERALD_API_KEY: key });
  });
  after(async () => {
    await srv.stop();
  });

  it('no registration id and no query string value reaches the log; the id\'s short hash does', async () => {
    const reg = await register(srv.base, 'logged', ['t'], auth);
    const bad = await new Promise<number>((resolve) => {
      const ws = new TestSocket(`${reg.url}?since=${encodeURIComponent('{"t":{"offset":"x"}}')}`);
      ws.opened.catch(() => {});
      ws.ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.ws.once('open', () => resolve(101));
    });
    assert.equal(bad, 400);
    const ws = await TestSocket.open(reg.url);
    await ws.closeAndWait();
    await request(srv.base, 'GET', `/?key=${key}`, undefined, { accept: 'application/json' });
    await request(srv.base, 'GET', '/?key=wrong-key-in-the-url-9999', undefined, { accept: 'application/json' });
    assert.equal((await request(srv.base, 'DELETE', `/register/${reg.id}`, undefined, auth)).status, 200);
    await waitFor('the unregister log line', () => srv.output().includes('"msg":"unregistered"'));
    const out = srv.output();
    assert.ok(out.includes(clientTag(reg.id)), 'the short hash names the client');
    assert.ok(!out.includes(reg.id), `the id is in the log:\n${out.split('\n').filter((l) => l.includes(reg.id)).join('\n')}`);
    assert.ok(!out.includes(key), 'the API key is in the log');
    assert.ok(!out.includes('wrong-key-in-the-url'), 'a query string value is in the log');
  });

  // The router also matches /ws/:id (and kin) written in absolute form (RFC 9112 3.2.2) or
  // with a percent-encoded route name; their error lines logged the raw request target.
  it('no id reaches the log from a request target the router reads as /ws/:id', async () => {
    const reg = await register(srv.base, 'spelled', ['t'], auth);
    const answered = (head: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect(srv.port, '127.0.0.1', () => socket.write(`${head}Host: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('error', () => {});
        socket.on('close', () => resolve(text.split('\r\n')[0]!));
      });
    const upgrade = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    assert.equal(await answered(`GET http://x/ws/${reg.id} HTTP/1.1\r\n`), 'HTTP/1.1 400 Bad Request');
    assert.equal(await answered(`GET HTTP://x:1/ws/${reg.id} HTTP/1.1\r\n${upgrade}`), 'HTTP/1.1 400 Bad Request');
    assert.equal(await answered(`GET /%77s/${reg.id} HTTP/1.1\r\n${upgrade}`), 'HTTP/1.1 400 Bad Request');
    assert.equal((await request(srv.base, 'DELETE', `/register/${reg.id}`, undefined, auth)).status, 200);
    await waitFor('the unregister log line', () => srv.output().split('"msg":"unregistered"').length > 2);
    const out = srv.output();
    assert.ok(!out.includes(reg.id), `the id is in the log:\n${out.split('\n').filter((l) => l.includes(reg.id)).join('\n')}`);
  });

  it('redactUrl hashes the id segment and drops query values', () => {
    assert.equal(redactUrl('/ws/abc?since=%7B%7D&x=1'), `/ws/${clientTag('abc')}?since=…&x=…`);
    assert.equal(redactUrl('/register/abc'), `/register/${clientTag('abc')}`);
    assert.equal(redactUrl('/?key=secret'), '/?key=…');
    assert.equal(redactUrl('/health'), '/health');
    assert.equal(redactUrl('http://h:1/ws/abc?token=t'), `http://h:1/ws/${clientTag('abc')}?token=…`);
    assert.equal(redactUrl('/%73se/abc'), `/%73se/${clientTag('abc')}`);
    assert.equal(redactUrl('/topics/abc'), '/topics/abc');
  });
});
