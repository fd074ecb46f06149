// HERALD_ALLOWED_ORIGINS: WebSocket upgrades from other origins get 403 before the upgrade;
// CORS answers follow the same list.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { register, request } from '../helpers/http.js';
import { startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

/** Tries an upgrade; resolves with 101 or the HTTP status and JSON body of the refusal. */
function tryUpgrade(url: string, origin?: string, host?: string): Promise<{ status: number; body?: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...(origin === undefined ? {} : { origin }), ...(host === undefined ? {} : { headers: { host } }) });
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

  it('lets non-browser clients (no Origin) through', async () => {
    const reg = await register(srv.base, 3, ['o']);
    assert.equal((await tryUpgrade(reg.url)).status, 101);
  });

  it('compares scheme, host and port exactly, and never trusts the Host header (issue 11)', async () => {
    const reg = await register(srv.base, 5, ['o']);
    const port = new URL(srv.base).port;
    // The attacker picks the Host header: it used to vouch for an Origin with the same host.
    for (const [origin, host] of [
      [`http://evil.com:${port}`, `evil.com:${port}`],
      [`ftp://127.0.0.1:${port}`, undefined],
      [srv.base, undefined], // the server's own address is not an origin unless listed or HERALD_PUBLIC_URL
      ['https://app.example:8443', undefined],
      ['http://localhost:3001', undefined],
      ['https://app.example.', undefined],
    ] as const) {
      const r = await tryUpgrade(reg.url, origin, host);
      assert.equal(r.status, 403, `${origin} with Host ${host ?? '(real)'}`);
    }
    assert.equal((await tryUpgrade(reg.url, 'https://app.example:443')).status, 101, 'the default port is the same origin');
  });

  it('the allowed socket works: it receives what is published', async () => {
    const reg = await register(srv.base, 4, ['live']);
    const ws = await TestSocket.open(reg.url, undefined, { origin: 'https://app.example' });
    await topicsLive(srv, reg.id, ['live']);
    await request(srv.base, 'POST', '/publish', { topic: 'live', message: 'hello' });
    assert.equal((await ws.next()).data, 'hello');
    await ws.closeAndWait();
  });

  it('HERALD_PUBLIC_URL\'s origin (where the dashboard is served) is allowed, as ws or http', async () => {
    const pub = await startHerald({ allowedOrigins: ['https://app.example'], publicUrl: 'wss://relay.example' });
    try {
      const reg = await register(pub.base, 6, ['o']);
      const local = reg.url.replace('wss://relay.example', pub.base.replace('http', 'ws'));
      assert.equal((await tryUpgrade(local, 'https://relay.example')).status, 101);
      assert.equal((await tryUpgrade(local, 'http://relay.example')).status, 403, 'the scheme counts');
      assert.equal((await tryUpgrade(local, pub.base)).status, 403);
    } finally {
      await pub.close();
    }
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
