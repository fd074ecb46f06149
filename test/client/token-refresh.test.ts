// The SDK with connection tokens against a real server: it asks getToken() before connecting and
// refreshes ahead of each expiry, so a 3-second token never ends the connection while messages flow.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { HeraldClient, type HeraldMessage, type StateChange } from '../../client/index.js';
import { publish } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'sdk-token-secret-long-enough-0123456789';
let server: TestServer;
before(async () => {
  server = await startHerald({ tokenSecret: SECRET });
});
after(() => server.close());

function token(ttlSeconds: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ topics: ['flow'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('sdk-user').setIssuedAt(now).setExpirationTime(now + ttlSeconds).sign(new TextEncoder().encode(SECRET));
}

test('refreshes through three expiries of a 3-second token: no disconnect, every message once, in order', async () => {
  let asked = 0;
  const client = new HeraldClient({
    url: `${server.base.replace('http', 'ws')}/ws`,
    getToken: () => {
      asked++;
      return token(3);
    },
  });
  const states: StateChange[] = [];
  client.on('state', (s) => states.push(s));
  const got: number[] = [];
  client.on('message', (m: HeraldMessage) => got.push(m.data as number));
  try {
    const welcome = await client.connect();
    assert.deepEqual(welcome.topics, ['flow']);
    await waitFor('flow to be live', () => [...server.herald.relay.hub.sessions()].some((s) => s.links.get('flow')?.live));
    const started = Date.now();
    let sent = 0;
    // About 10 s of traffic: past three expiries of a 3-second token.
    while (Date.now() - started < 10_000) {
      await publish(server.base, { topic: 'flow', data: ++sent });
      await new Promise((r) => setTimeout(r, 40));
    }
    await waitFor(`all ${sent} messages (have ${got.length})`, () => got.length >= sent, 5_000);
    assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i + 1));
    assert.ok(asked >= 4, `getToken() was asked ${asked} times`);
    assert.deepEqual(states.filter((s) => s.state === 'disconnected'), [], 'the connection never dropped');
  } finally {
    await client.close();
  }
});

test('a connection refused for an expired token retries with a fresh one', async () => {
  let asked = 0;
  const client = new HeraldClient({
    url: `${server.base.replace('http', 'ws')}/ws`,
    getToken: () => token(++asked === 1 ? -10 : 60),
    backoff: { minMs: 10, maxMs: 50 },
  });
  try {
    await client.connect();
    assert.equal(asked, 2);
  } finally {
    await client.close();
  }
});
