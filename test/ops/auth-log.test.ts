// Issue 11 (low): wrong API keys were neither logged nor noticed. Now a refused key is logged at
// warn (one line per 10 s, counting the rest; never the key), and a key shorter than 16
// characters is warned about at start-up.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { spawnHerald, type HeraldProcess } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

describe('API key refusals in the log', () => {
  const started: HeraldProcess[] = [];
  after(async () => {
    for (const p of started) await p.stop();
  });

  it('a short key is warned about at start-up; a long one is not', async () => {
    const short = await spawnHerald([], { HERALD_API_KEY: 'short-k' });
    started.push(short);
    await waitFor('the short-key warning', () => /"level":40[^\n]*HERALD_API_KEY is shorter than 16 characters/.test(short.output()));
    assert.ok(!short.output().includes('short-k'), 'the key itself is not logged');
    const long = await spawnHerald([], { HERALD_API_KEY: 'a-key-of-thirty-two-characters!!' });
    started.push(long);
    assert.doesNotMatch(long.output(), /shorter than 16/);
  });

  it('50 wrong keys give one warn line naming the address and route, never the key', async () => {
    const srv = await spawnHerald([], { HERALD_API_KEY: 'the-right-key-0123456789' });
    started.push(srv);
    for (let i = 0; i < 50; i++) {
      const r = await request(srv.base, 'POST', '/publish', { topic: 't', message: 'm' }, { authorization: `Bearer guess-${i}-xyz` });
      assert.equal(r.status, 401);
    }
    assert.equal((await request(srv.base, 'GET', '/stats')).status, 401); // missing key
    await waitFor('the refusal warning', () => /request refused: wrong API key/.test(srv.output()));
    const lines = srv.output().split('\n').filter((l) => l.includes('request refused'));
    assert.equal(lines.length, 1, lines.join('\n'));
    const line = JSON.parse(lines[0]!) as { level: number; ip: string; url: string; key: string };
    assert.equal(line.level, 40);
    assert.equal(line.ip, '127.0.0.1');
    assert.equal(line.url, '/publish');
    assert.equal(line.key, 'wrong');
    assert.ok(!srv.output().includes('guess-'), 'no presented key is logged');
    // The right key still works (refusals are logged, not held against the address).
    const ok = await request(srv.base, 'POST', '/publish', { topic: 't', message: 'm' }, { authorization: 'Bearer the-right-key-0123456789' });
    assert.equal(ok.status, 200);
  });
});
