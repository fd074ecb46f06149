// HERALD_API_KEY: every protected route refuses a missing and a wrong key with the catalog's 401,
// and works with the right one; /health, /ws/:id and the dashboard's assets stay open.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { keyMatches } from '../../src/http/auth.js';
import { register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

const KEY = 'k3y-with-some-length-0123456789';
const good = { authorization: `Bearer ${KEY}` };
const wrong = { authorization: `Bearer ${KEY}x` };

interface Route {
  name: string;
  /** Makes the request with the given headers; may prepare state with the right key first. */
  call: (base: string, headers: Record<string, string>) => Promise<{ status: number; body: unknown }>;
  ok: number;
}

const routes: Route[] = [
  { name: 'POST /register', ok: 200, call: (b, h) => request(b, 'POST', '/register', { user_id: 1 }, h) },
  {
    name: 'DELETE /register/:id',
    ok: 200,
    call: async (b, h) => {
      const reg = await register(b, 2, ['t'], good);
      return request(b, 'DELETE', `/register/${reg.id}`, undefined, h);
    },
  },
  { name: 'POST /publish', ok: 200, call: (b, h) => request(b, 'POST', '/publish', { topic: 't', message: 'hi' }, h) },
  { name: 'POST /publish/batch', ok: 200, call: (b, h) => request(b, 'POST', '/publish/batch', { messages: [{ topic: 't', message: 'hi' }] }, h) },
  { name: 'GET /metrics', ok: 200, call: (b, h) => request(b, 'GET', '/metrics', undefined, h) },
  { name: 'GET /stats', ok: 200, call: (b, h) => request(b, 'GET', '/stats', undefined, h) },
  { name: 'GET / (dashboard, Bearer)', ok: 200, call: (b, h) => request(b, 'GET', '/', undefined, h) },
  {
    name: 'GET /?key= (dashboard, query)',
    ok: 200,
    call: (b, h) => {
      const key = h.authorization?.replace(/^Bearer /, '');
      return request(b, 'GET', key === undefined ? '/' : `/?key=${encodeURIComponent(key)}`);
    },
  },
];

describe('API key', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ apiKey: KEY });
  });
  after(() => srv.close());

  for (const route of routes) {
    it(`${route.name}: 401 without a key, 401 with a wrong key, ${route.ok} with the right one`, async () => {
      for (const [label, headers] of [['no key', {}], ['wrong key', wrong]] as const) {
        const r = await route.call(srv.base, headers);
        assert.equal(r.status, 401, `${label}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(r.body, { error: 'unauthorized', message: 'Missing or wrong API key: send `Authorization: Bearer <HERALD_API_KEY>`.' }, label);
      }
      const r = await route.call(srv.base, good);
      assert.equal(r.status, route.ok, JSON.stringify(r.body));
    });
  }

  it('401 answers carry WWW-Authenticate: Bearer', async () => {
    const r = await request(srv.base, 'POST', '/publish', { topic: 't', message: 'x' });
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="herald"');
  });

  it('accepts the scheme in any case, refuses other schemes and a key split across spaces', async () => {
    assert.equal((await request(srv.base, 'GET', '/stats', undefined, { authorization: `bearer ${KEY}` })).status, 200);
    assert.equal((await request(srv.base, 'GET', '/stats', undefined, { authorization: `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}` })).status, 401);
    assert.equal((await request(srv.base, 'GET', '/stats', undefined, { authorization: KEY })).status, 401);
    assert.equal((await request(srv.base, 'GET', '/stats', undefined, { authorization: `Bearer ${KEY.slice(0, 5)} ${KEY.slice(5)}` })).status, 401);
  });

  it('?key= counts only for the dashboard page, not for the API', async () => {
    const r = await request(srv.base, 'GET', `/stats?key=${KEY}`);
    assert.equal(r.status, 401);
  });

  it('a browser without the key gets the login page (401, HTML)', async () => {
    const r = await fetch(`${srv.base}/`, { headers: { accept: 'text/html' } });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await r.text(), /name="key"/);
  });

  it('/health, the dashboard assets and /ws/:id stay open', async () => {
    assert.equal((await request(srv.base, 'GET', '/health')).status, 200);
    const js = await fetch(`${srv.base}/dashboard/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const reg = await register(srv.base, 7, ['open'], good);
    const ws = await TestSocket.open(reg.url.replace('ws://localhost', 'ws://127.0.0.1'));
    await ws.closeAndWait();
  });

  it('unknown paths need the key too (closed by default), then 404', async () => {
    assert.equal((await request(srv.base, 'GET', '/nope')).status, 401);
    assert.equal((await request(srv.base, 'GET', '/nope', undefined, good)).status, 404);
  });

  it('CORS preflights pass without the key', async () => {
    const r = await fetch(`${srv.base}/publish`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://app.example');
  });
});

describe('without an API key', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  it('every route is open', async () => {
    for (const route of routes.filter((r) => !r.name.includes('?key='))) {
      const r = await route.call(srv.base, {});
      assert.equal(r.status, route.ok, `${route.name}: ${JSON.stringify(r.body)}`);
    }
  });
});

describe('keyMatches', () => {
  it('matches only the exact key, whatever the lengths', () => {
    assert.equal(keyMatches('secret', 'secret'), true);
    assert.equal(keyMatches('secret', 'secreT'), false);
    assert.equal(keyMatches('secret', 'secret2'), false);
    assert.equal(keyMatches('secret', ''), false);
    assert.equal(keyMatches('secret', undefined), false);
    assert.equal(keyMatches('x'.repeat(10_000), 'x'.repeat(10_000)), true);
  });
});
