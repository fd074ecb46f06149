// Each limit, reached, gives its documented outcome: 503 too_many_connections before the upgrade,
// close 1008 past HERALD_CLIENT_RATE, 429 too_many_registrations; ids carry 128 random bits; a
// non-loopback host without a key is warned about at start-up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { register, request } from '../helpers/http.js';
import { spawnHerald, startHerald, type TestServer } from '../helpers/server.js';
import { refusal } from '../helpers/refusal.js';
import { TestSocket } from '../helpers/ws-client.js';

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('limits', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ maxConnections: 2, clientRate: 5, maxRegistrationsPerUser: 3 });
  });
  after(() => srv.close());

  it('HERALD_MAX_CONNECTIONS: the next upgrade gets 503 too_many_connections; a slot frees on close', async () => {
    const regs = await Promise.all([1, 2, 3].map((u) => register(srv.base, `conn-${u}`, ['c'])));
    const a = await TestSocket.open(regs[0]!.url);
    const b = await TestSocket.open(regs[1]!.url);
    const r = await refusal(regs[2]!.url);
    assert.equal(r.status, 503);
    assert.equal(r.body.error, 'too_many_connections');
    await a.closeAndWait();
    await waitFor('the hub to let go of the closed socket', () => srv.herald.relay.hub.size < 2);
    const c = await TestSocket.open(regs[2]!.url);
    await b.closeAndWait();
    await c.closeAndWait();
  });

  it('HERALD_CLIENT_RATE: a client sending faster is closed with 1008 and counted as a rate_limit drop', async () => {
    const reg = await register(srv.base, 'rate', ['r']);
    const ws = await TestSocket.open(reg.url);
    const before = srv.herald.stats.drops.rate_limit;
    for (let i = 0; i < 20; i++) ws.send('ping');
    const closed = await Promise.race([ws.closed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('not closed within 3 s')), 3000))]);
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /rate/);
    assert.equal(srv.herald.stats.drops.rate_limit, before + 1);
  });

  it('HERALD_CLIENT_RATE: a client within the rate stays connected', async () => {
    const reg = await register(srv.base, 'calm', ['r']);
    const ws = await TestSocket.open(reg.url);
    for (let i = 0; i < 4; i++) ws.send('ping');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(ws.ws.readyState, WebSocket.OPEN);
    await ws.closeAndWait();
  });

  it('HERALD_MAX_REGISTRATIONS_PER_USER: with every registration connected, the next one gets 429 too_many_registrations', async () => {
    // This suite's server allows 2 connections: a server of its own, with the same per-user limit.
    const own = await startHerald({ maxRegistrationsPerUser: 3 });
    const sockets: TestSocket[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const reg = await register(own.base, 'many');
        sockets.push(await TestSocket.open(reg.url));
        await waitFor('the socket to count as connected', () => own.herald.relay.hub.get(reg.id) !== undefined);
      }
      const r = await request(own.base, 'POST', '/register', { user_id: 'many' });
      assert.equal(r.status, 429);
      assert.equal(r.body.error, 'too_many_registrations');
    } finally {
      for (const s of sockets) await s.closeAndWait();
      await own.close();
    }
    // Another user is not affected; an unregister frees a slot.
    await register(srv.base, 'other');
    const again = await request(srv.base, 'POST', '/register', { user_id: 'many2' });
    assert.equal(again.status, 200);
  });

  it('registration ids are 128 random bits (32 hex characters), never repeated', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const r = await request<{ id: string }>(srv.base, 'POST', '/register', { user_id: `id-${i}` });
      assert.match(r.body.id, /^[0-9a-f]{32}$/);
      ids.add(r.body.id);
    }
    assert.equal(ids.size, 50);
  });
});

describe('start-up warning', () => {
  it('warns when listening on a non-loopback address without HERALD_API_KEY, not with a key or on loopback', async () => {
    const text = 'without HERALD_API_KEY';
    const open = await spawnHerald(['--host', '0.0.0.0']).catch((e: unknown) => e as Error);
    // spawnHerald passes --host 127.0.0.1 first; ours comes later and wins.
    assert.ok(!(open instanceof Error), String(open));
    await waitFor('the listening log line', () => open.output().includes('herald listening'));
    assert.ok(open.output().includes(text), open.output());
    await open.stop();

    const keyed = await spawnHerald(['--host', '0.0.0.0'], { HERALD_API_KEY: 'k' });
    await waitFor('the listening log line', () => keyed.output().includes('herald listening'));
    assert.ok(!keyed.output().includes(text), keyed.output());
    await keyed.stop();

    const local = await spawnHerald();
    await waitFor('the listening log line', () => local.output().includes('herald listening'));
    assert.ok(!local.output().includes(text), local.output());
    await local.stop();
  });
});
