// HERALD_ALLOWED_ORIGINS: WebSocket upgrades from other origins get 403 before the upgrade;
// CORS answers follow the same list.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { register, request } from '../helpers/http.js';
import { startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

/** Tries an upgrade; resolves with 101 or the HTTP status and JSON body of the refusal. */
function tryUpgrade(url: string, origin?: string): Promise<{ status: number; body?: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    const timer = setTimeout(() => reject(new Error('no answer to the upgrade within 3 s')), 3000);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.close();
      resolve({ status: 101 });
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
      });
    });
    ws.once('error', () => {});
  });
}

describe('allowed origins', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ allowedOrigins: ['https://app.example', 'http://localhost:3000/'] });
  });
  after(() => srv.close());

  it('upgrades a listed origin (case and trailing slash do not matter)', async () => {
    const reg = await register(srv.base, 1, ['o']);
    assert.equal((await tryUpgrade(reg.url, 'https://app.example')).status, 101);
    assert.equal((await tryUpgrade(reg.url, 'https://APP.example')).status, 101);
    assert.equal((await tryUpgrade(reg.url, 'http://localhost:3000')).status, 101);
  });

  it('refuses any other origin with 403 origin_not_allowed, before the upgrade', async () => {
    const reg = await register(srv.base, 2, ['o']);
    for (const origin of ['https://evil.example', 'https://app.example.evil.com', 'http://app.example', 'null']) {
      const r = await tryUpgrade(reg.url, origin);
      assert.equal(r.status, 403, origin);
      assert.equal((r.body as { error: string }).error, 'origin_not_allowed', origin);
    }
    assert.equal(srv.herald.relay.hub.size, 0, 'no socket was handed to the relay');
  });

  it('a refused origin is refused even for an unknown id (no probing of ids)', async () => {
    const r = await tryUpgrade(`${srv.base.replace('http', 'ws')}/ws/unknown`, 'https://evil.example');
    assert.equal(r.status, 403);
  });

  it('lets non-browser clients (no Origin) and the server\'s own origin (the dashboard) through', async () => {
    const reg = await register(srv.base, 3, ['o']);
    assert.equal((await tryUpgrade(reg.url)).status, 101);
    assert.equal((await tryUpgrade(reg.url, srv.base)).status, 101);
  });

  it('the allowed socket works: it receives what is published', async () => {
    const reg = await register(srv.base, 4, ['live']);
    const ws = await TestSocket.open(reg.url, undefined, { origin: 'https://app.example' });
    await topicsLive(srv, reg.id, ['live']);
    await request(srv.base, 'POST', '/publish', { topic: 'live', message: 'hello' });
    assert.equal((await ws.next()).data, 'hello');
    await ws.closeAndWait();
  });

  it('CORS allows only the listed origins', async () => {
    const ok = await fetch(`${srv.base}/health`, { headers: { origin: 'https://app.example' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
    const no = await fetch(`${srv.base}/health`, { headers: { origin: 'https://evil.example' } });
    assert.equal(no.headers.get('access-control-allow-origin'), null);
  });
});

describe('any origin (the default)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  it('upgrades from any origin', async () => {
    const reg = await register(srv.base, 1, ['o']);
    assert.equal((await tryUpgrade(reg.url, 'https://anything.example')).status, 101);
  });
});
