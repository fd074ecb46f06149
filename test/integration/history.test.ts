// GET /history/:topic: the history recovery reads, for backends, paged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publish, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';

type Page = { topic: string; epoch: string; offset: number; complete: boolean; messages: Array<Record<string, unknown>> };

describe('GET /history/:topic', () => {
  let srv: TestServer;
  const auth = { authorization: 'Bearer k' };
  before(async () => {
    srv = await startHerald({ historySize: 5, apiKey: 'k' });
  });
  after(() => srv.close());

  it('needs the API key', async () => {
    assert.equal((await request(srv.base, 'GET', '/history/h')).status, 401);
  });

  it('answers the topic position for a topic never published', async () => {
    const r = await request<Page>(srv.base, 'GET', '/history/never', undefined, auth);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { topic: 'never', epoch: '', offset: 0, complete: true, messages: [] });
  });

  it('pages with limit (a cut page is complete) and says complete:false for a gap or another epoch', async () => {
    for (let i = 1; i <= 8; i++) await publish(srv.base, { topic: 'h', message: `m${i}`, ...(i === 7 ? { user_id: 'u7' } : {}) }, auth);
    // Kept: m4..m8. From 5: m6, m7 (addressed, with its user), then page on from 7.
    const p1 = await request<Page>(srv.base, 'GET', `/history/h?since=5&epoch=${(await request<Page>(srv.base, 'GET', '/history/h', undefined, auth)).body.epoch}&limit=2`, undefined, auth);
    assert.equal(p1.status, 200);
    assert.equal(p1.body.offset, 8);
    assert.equal(p1.body.complete, true, 'a limit is not a gap');
    assert.deepEqual(p1.body.messages.map((m) => [m['offset'], m['data'], m['user_id']]), [[6, 'm6', undefined], [7, 'm7', 'u7']]);
    assert.equal(p1.body.messages[0]!['type'], 'message');
    const p2 = await request<Page>(srv.base, 'GET', `/history/h?since=7&epoch=${p1.body.epoch}&limit=2`, undefined, auth);
    assert.deepEqual(p2.body.messages.map((m) => m['offset']), [8]);
    const gap = await request<Page>(srv.base, 'GET', `/history/h?since=1&epoch=${p1.body.epoch}`, undefined, auth);
    assert.equal(gap.body.complete, false);
    assert.deepEqual(gap.body.messages.map((m) => m['offset']), [4, 5, 6, 7, 8]);
    const other = await request<Page>(srv.base, 'GET', '/history/h?since=6&epoch=someother', undefined, auth);
    assert.equal(other.body.complete, false);
    assert.equal(other.body.messages.length, 5);
    const all = await request<Page>(srv.base, 'GET', '/history/h', undefined, auth);
    assert.equal(all.body.complete, false, 'from the start, but m1..m3 are gone');
  });

  it('refuses bad parameters with 400', async () => {
    for (const q of ['?since=-1', '?since=x', '?since=3', '?limit=0', '?limit=1001']) {
      assert.equal((await request(srv.base, 'GET', `/history/h${q}`, undefined, auth)).status, 400, q);
    }
  });
});
