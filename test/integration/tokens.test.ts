// Connection tokens (DESIGN.md 7) over real sockets: HS256 and ES256 tokens signed here, every
// refusal before the upgrade, refresh, expiry at 4003, and DELETE /users/:user.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWTPayload } from 'jose';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { publish, register, request } from '../helpers/http.js';
import { refusal } from '../helpers/refusal.js';
import { SseReader } from '../helpers/sse-client.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { openV1 as v1, request as req, type J } from '../helpers/v1-client.js';
import { TestSocket } from '../helpers/ws-client.js';

const SECRET = 'test-secret-that-is-long-enough-0123456789';
const AUD = 'herald-tests';
const now = (): number => Math.floor(Date.now() / 1000);

interface SignOptions {
  ttl?: number;
  alg?: 'HS256' | 'ES256';
  key?: CryptoKey | Uint8Array;
  iat?: number | false;
  aud?: string | false;
}

let esKey: CryptoKey;
async function sign(claims: JWTPayload, o: SignOptions = {}): Promise<string> {
  const alg = o.alg ?? 'HS256';
  const jwt = new SignJWT(claims).setProtectedHeader({ alg });
  if (o.ttl !== undefined || !('exp' in claims)) jwt.setExpirationTime(now() + (o.ttl ?? 60));
  if (o.iat !== false) jwt.setIssuedAt(o.iat ?? now());
  if (o.aud !== false) jwt.setAudience(o.aud ?? AUD);
  return jwt.sign(o.key ?? (alg === 'HS256' ? new TextEncoder().encode(SECRET) : esKey));
}

const wsUrl = (srv: TestServer, token: string, extra = ''): string => `${srv.base.replace('http', 'ws')}/ws?token=${encodeURIComponent(token)}${extra}`;

describe('connection tokens', () => {
  let srv: TestServer;
  const sockets: TestSocket[] = [];
  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    esKey = pair.privateKey;
    const dir = mkdtempSync(join(tmpdir(), 'herald-keys-'));
    const pem = join(dir, 'es256.pem');
    writeFileSync(pem, await exportSPKI(pair.publicKey));
    srv = await startHerald({ tokenSecret: SECRET, tokenPublicKey: pem, tokenAudience: AUD, publicTopics: ['news.*'], historySize: 100 });
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.closeAndWait()));
    await srv.close();
  });

  test('an HS256 token connects herald.v1: a server-made id, the user, the token topics joined', async () => {
    const token = await sign({ sub: '42', topics: ['private.42'], grants: ['team.7.*'] });
    const { s, welcome } = await v1(wsUrl(srv, token));
    sockets.push(s);
    assert.match(String(welcome.client), /^t-[0-9a-f]{24}$/);
    assert.equal(welcome.user, '42');
    assert.deepEqual(welcome.topics, ['private.42']);
    assert.deepEqual(await req(s, { type: 'subscribe', id: 1, topics: ['team.7.x', 'news.a'] }), { type: 'ok', id: 1 });
    assert.equal((await req(s, { type: 'subscribe', id: 2, topics: ['team.8.x'] })).code, 'forbidden');
    await publish(srv.base, { topic: 'private.42', message: 'for 42' });
    await publish(srv.base, { topic: 'team.7.x', user_id: 42, message: 'to user 42' });
    assert.equal((await s.waitJson((o) => o.type === 'message')).data, 'for 42');
    assert.equal((await s.waitJson((o) => o.type === 'message')).data, 'to user 42', 'user 42 (a number) and sub "42" are one user');
  });

  test('an ES256 token connects a plain client (live messages only)', async () => {
    const token = await sign({ sub: 'es-user', topics: ['es.topic'] }, { alg: 'ES256' });
    const s = await TestSocket.open(wsUrl(srv, token));
    sockets.push(s);
    await waitLive(srv, 'es.topic');
    await publish(srv.base, { topic: 'es.topic', message: 'signed by a key pair' });
    assert.equal((await s.next()).data, 'signed by a key pair');
  });

  test('refusals before the upgrade, JSON like every other error', async () => {
    const cases: Array<[string, Promise<string>, string]> = [
      ['bad signature', sign({ sub: '1' }, { key: new TextEncoder().encode('another-secret-another-secret-1234') }), 'invalid_token'],
      ['alg none', Promise.resolve(new UnsecuredJWT({ sub: '1', aud: AUD }).setExpirationTime('1h').encode()), 'invalid_token'],
      ['no exp', new SignJWT({ sub: '1' }).setProtectedHeader({ alg: 'HS256' }).setAudience(AUD).sign(new TextEncoder().encode(SECRET)), 'invalid_token'],
      ['no sub', sign({}), 'invalid_token'],
      ['wrong audience', sign({ sub: '1' }, { aud: 'someone-else' }), 'invalid_token'],
      ['bad topics claim', sign({ sub: '1', topics: 'news' }), 'invalid_token'],
      ['expired', sign({ sub: '1', exp: now() - 120 }), 'token_expired'],
      ['iat in the future (would outlive a revocation)', sign({ sub: '1' }, { iat: now() + 3600 }), 'invalid_token'],
      ['longer than HERALD_REVOCATION_TTL (24 h)', sign({ sub: '1' }, { ttl: 2 * 86_400 }), 'invalid_token'],
      ['not a JWT', Promise.resolve('garbage'), 'invalid_token'],
    ];
    for (const [name, token, code] of cases) {
      const r = await refusal(wsUrl(srv, await token));
      assert.equal(r.status, 401, name);
      assert.equal(r.body.error, code, name);
    }
    const none = await refusal(`${srv.base.replace('http', 'ws')}/ws`);
    assert.deepEqual([none.status, none.body.error], [401, 'invalid_token']);
    const since = encodeURIComponent(JSON.stringify({ 'secret.x': { offset: 0, epoch: 'e' } }));
    const forbidden = await refusal(wsUrl(srv, await sign({ sub: '1' }), `&since=${since}`));
    assert.deepEqual([forbidden.status, forbidden.body.error], [403, 'forbidden']);
  });

  test('refresh: same user, later expiry; the socket outlives the first token; grants replaced', async () => {
    const { s } = await v1(wsUrl(srv, await sign({ sub: 'r1', grants: ['room.*'] }, { ttl: 2 })));
    sockets.push(s);
    assert.deepEqual(await req(s, { type: 'subscribe', id: 1, topics: ['room.a', 'room.b'] }), { type: 'ok', id: 1 });
    const other = await req(s, { type: 'refresh', id: 2, token: await sign({ sub: 'someone-else' }) });
    assert.equal(other.code, 'forbidden');
    const bad = await req(s, { type: 'refresh', id: 3, token: 'nope' });
    assert.equal(bad.code, 'invalid_token');
    s.send({ type: 'refresh', id: 4, token: await sign({ sub: 'r1', grants: ['room.a'] }, { ttl: 60 }) });
    assert.deepEqual(await s.takeJson(2), [
      { type: 'unsubscribed', topic: 'room.b', reason: 'forbidden' },
      { type: 'ok', id: 4 },
    ]);
    // Past the first token's expiry the socket still receives.
    await new Promise((r) => setTimeout(r, 2500));
    await publish(srv.base, { topic: 'room.a', message: 'still here' });
    assert.equal((await s.waitJson((o) => o.type === 'message')).data, 'still here');
  });

  test('without a refresh the socket closes at exp with 4003', async () => {
    const s = await TestSocket.open(wsUrl(srv, await sign({ sub: 'x1' }, { ttl: 2 })), 'herald.v1');
    const started = Date.now();
    const closed = await Promise.race([s.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not closed within 5 s')), 5000))]);
    assert.equal(closed.code, 4003);
    assert.ok(Date.now() - started >= 500, 'not before the token expired');
  });

  test('a refresh racing a publish stream: nothing lost, nothing twice, in order', async () => {
    const { s } = await v1(wsUrl(srv, await sign({ sub: 'race', topics: ['race.t'] })));
    sockets.push(s);
    await waitLive(srv, 'race.t');
    const N = 300;
    const publishing = (async () => {
      for (let i = 1; i <= N; i++) await publish(srv.base, { topic: 'race.t', data: i });
    })();
    for (let k = 0; k < 10; k++) s.send({ type: 'refresh', id: `r${k}`, token: await sign({ sub: 'race', topics: ['race.t'] }) });
    await publishing;
    const got: number[] = [];
    const oks = new Set<unknown>();
    while (got.length < N || oks.size < 10) {
      const [o] = await s.takeJson(1, 5000);
      if (o!.type === 'message') got.push(o!.data as number);
      else if (o!.type === 'ok') oks.add(o!.id);
      else assert.fail(`unexpected ${JSON.stringify(o)}`);
    }
    assert.deepEqual(got, Array.from({ length: N }, (_, i) => i + 1));
  });

  test('DELETE /users/:user closes registration and token sockets (4001), deletes registrations, refuses older tokens', async () => {
    const reg = await register(srv.base, 'banned', ['news.a']);
    const regSocket = await TestSocket.open(reg.url);
    const tokenSocket = await TestSocket.open(wsUrl(srv, await sign({ sub: 'banned' })), 'herald.v1');
    const older = await sign({ sub: 'banned' });
    const noIat = await sign({ sub: 'banned' }, { iat: false });
    const r = await request<J>(srv.base, 'DELETE', '/users/banned');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { user: 'banned', revoked: true, registrations: 1 });
    assert.equal((await regSocket.closed).code, 4001);
    assert.equal((await tokenSocket.closed).code, 4001);
    await assert.rejects(new TestSocket(reg.url).opened, /unexpected response 404/);
    for (const t of [older, noIat]) assert.deepEqual((await refusal(wsUrl(srv, t))).body.error, 'token_revoked');
    // A token issued after the revocation's second connects.
    const fresh = await TestSocket.open(wsUrl(srv, await sign({ sub: 'banned' }, { iat: now() + 1 })));
    await fresh.closeAndWait();
    const s = await TestSocket.open(wsUrl(srv, await sign({ sub: 'other' })), 'herald.v1');
    assert.equal((await req(s, { type: 'refresh', id: 1, token: older })).code, 'forbidden', 'another user: forbidden before revoked');
    await s.closeAndWait();
  });

  test('GET /sse?token=: a token stream, its topics, refusals as JSON, and its end at exp (4003)', async () => {
    const base = `${srv.base}/sse?token=`;
    const stream = await SseReader.open(base + (await sign({ sub: 'sse-user', topics: ['sse.tok'] }, { ttl: 2 })));
    assert.equal(stream.status, 200);
    await stream.waitFor('the welcome', () => stream.events.some((e) => e.event === 'welcome'));
    assert.deepEqual(JSON.parse(stream.events.find((e) => e.event === 'welcome')!.data).topics, ['sse.tok']);
    await waitLive(srv, 'sse.tok');
    await publish(srv.base, { topic: 'sse.tok', message: 'over sse' });
    await stream.waitMessages(1);
    assert.equal(stream.messages()[0]!.data, 'over sse');
    await stream.waitFor('the close event at expiry', () => stream.events.some((e) => e.event === 'close'), 5000);
    assert.equal(JSON.parse(stream.events.find((e) => e.event === 'close')!.data).code, 4003);
    const refused = await SseReader.open(base + (await sign({ sub: 'x', exp: now() - 100 })));
    assert.equal(refused.status, 401);
    assert.equal(JSON.parse(await refused.body()).error, 'token_expired');
    const forbidden = await SseReader.open(`${base}${await sign({ sub: 'x' })}&topics=secret.x`);
    assert.equal(forbidden.status, 403);
    forbidden.close();
  });

  test('DELETE /users/:user takes user ids of 128 characters, also percent-encoded', async () => {
    for (const user of ['u'.repeat(128), '語'.repeat(128)]) {
      const r = await request<J>(srv.base, 'DELETE', `/users/${encodeURIComponent(user)}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.user, user);
    }
  });
});

describe('connection tokens: configuration and logs', () => {
  test('a server without a token key answers tokens_disabled', async () => {
    const srv = await startHerald();
    try {
      const r = await refusal(`${srv.base.replace('http', 'ws')}/ws?token=x`);
      assert.deepEqual([r.status, r.body.error], [400, 'tokens_disabled']);
    } finally {
      await srv.close();
    }
  });

  test('tokens never reach a log line, accepted or refused', async () => {
    let lines = '';
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines += chunk.toString(); cb(); } });
    const config = loadConfig({}, {}, { port: 0, logLevel: 'trace', tokenSecret: SECRET, tokenAudience: AUD });
    const herald = await buildApp(config, { logger: pino({ level: 'trace' }, sink) });
    await herald.app.listen({ port: 0, host: '127.0.0.1' });
    const address = herald.app.server.address();
    const base = typeof address === 'object' && address ? `http://127.0.0.1:${address.port}` : '';
    const srv = { base } as TestServer;
    try {
      const good = await sign({ sub: 'logged' }, { ttl: 2 });
      const s = await TestSocket.open(wsUrl(srv, good), 'herald.v1');
      await s.takeJson(1);
      const expired = await sign({ sub: 'logged', exp: now() - 100 });
      await refusal(wsUrl(srv, expired));
      await refusal(wsUrl(srv, `${good}x`));
      s.send({ type: 'refresh', id: 1, token: expired });
      await s.waitJson((o) => o.id === 1);
      await s.closed; // expiry, 4003
      assert.ok(lines.length > 0, 'the server logged something');
      for (const t of [good, expired]) assert.ok(!lines.includes(t.split('.')[2]!), 'a token signature appears in the logs');
    } finally {
      await herald.close();
    }
  });
});

async function waitLive(srv: TestServer, topic: string): Promise<void> {
  const end = Date.now() + 5000;
  while (![...srv.herald.relay.hub.sessions()].some((s) => s.links.get(topic)?.live)) {
    if (Date.now() > end) throw new Error(`${topic} never live`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
