// Issue 11 (medium): registrations had no rate limit; 20,000 in 6 s from one address took RSS
// from 82 to 646 MiB. HERALD_REGISTER_RATE limits registrations per second per client address
// (429 register_rate_limited with Retry-After); other addresses are not affected.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';

type Err = { error: string; message: string };

describe('HERALD_REGISTER_RATE', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ registerRate: 20, trustProxy: true });
  });
  after(() => srv.close());

  it('past 20 registrations in a second from one address: 429 register_rate_limited with Retry-After; another address still registers; the next second it passes again', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => request<Err>(srv.base, 'POST', '/register', { user_id: `burst-${i}` }, from('203.0.113.7'))));
    const ok = answers.filter((r) => r.status === 200).length;
    const limited = answers.filter((r) => r.status === 429);
    assert.ok(ok >= 20 && ok <= 29 && limited.length >= 1, `${ok} passed, ${limited.length} limited`);
    assert.equal(limited[0]!.body.error, 'register_rate_limited');
    assert.match(limited[0]!.body.message, /HERALD_REGISTER_RATE/);
    assert.ok(Number(limited[0]!.headers.get('retry-after')) >= 1);
    assert.equal(srv.herald.stats.refusals.register_rate, limited.length);
    const other = await request(srv.base, 'POST', '/register', { user_id: 'elsewhere' }, from('198.51.100.9'));
    assert.equal(other.status, 200, 'another address has its own budget');
    const retry = Number(limited[0]!.headers.get('retry-after'));
    await new Promise((r) => setTimeout(r, retry * 1000 + 50));
    const again = await request(srv.base, 'POST', '/register', { user_id: 'later' }, from('203.0.113.7'));
    assert.equal(again.status, 200, 'the window has passed');
  });

  it('HERALD_REGISTER_RATE=0 turns it off', async () => {
    const open = await startHerald({ registerRate: 0 });
    try {
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => request(open.base, 'POST', '/register', { user_id: i })));
      assert.deepEqual([...new Set(answers.map((r) => r.status))], [200]);
    } finally {
      await open.close();
    }
  });
});
