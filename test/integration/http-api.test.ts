import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, register } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';

describe('HTTP API', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ maxBodyBytes: 4096 });
  });
  after(() => srv.close());

  test('GET /health answers ok with node and mode', async () => {
    const r = await request(srv.base, 'GET', '/health');
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'ok');
    assert.equal(r.body.mode, 'memory');
    assert.equal(typeof r.body.node, 'string');
  });

  test('POST /register returns a ws URL with a 128-bit id and the default topic cats', async () => {
    const r = await request(srv.base, 'POST', '/register', { user_id: 1 });
    assert.equal(r.status, 200);
    assert.match(String(r.body.id), /^[0-9a-f]{32}$/);
    assert.equal(r.body.url, `ws://127.0.0.1:${srv.port}/ws/${r.body.id}`);
    assert.deepEqual(r.body.topics, ['cats']);
  });

  test('POST /register keeps given topics (deduplicated) and accepts string user ids', async () => {
    const r = await request(srv.base, 'POST', '/register', { user_id: 'alice', topics: ['a', 'b', 'a'] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.topics, ['a', 'b']);
  });

  test('ids differ between registrations', async () => {
    const a = await register(srv.base, 1);
    const b = await register(srv.base, 1);
    assert.notEqual(a.id, b.id);
  });

  for (const [name, body] of [
    ['missing user_id', {}],
    ['negative user_id', { user_id: -1 }],
    ['fractional user_id', { user_id: 1.5 }],
    ['empty string user_id', { user_id: '' }],
    ['129-character user_id', { user_id: 'x'.repeat(129) }],
    ['boolean user_id', { user_id: true }],
    ['topics not an array', { user_id: 1, topics: 'cats' }],
    ['empty topic', { user_id: 1, topics: [''] }],
    ['257-character topic', { user_id: 1, topics: ['t'.repeat(257)] }],
    ['a JSON array body', [1]],
  ] as const) {
    test(`POST /register rejects ${name} with 400 invalid_body`, async () => {
      const r = await request(srv.base, 'POST', '/register', body);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_body');
      assert.ok(String(r.body.message).length > 10);
    });
  }

  test('malformed JSON is 400 invalid_json', async () => {
    const r = await request(srv.base, 'POST', '/register', '{"user_id": 1', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_json');
  });

  test('an empty JSON body is 400 invalid_json', async () => {
    const r = await request(srv.base, 'POST', '/publish', '', { 'content-type': 'application/json' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_json');
  });

  test('invalid UTF-8 in a body is 400 invalid_utf8', async () => {
    const bytes = Buffer.concat([Buffer.from('{"topic":"cats","message":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const r = await fetch(`${srv.base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { error: string }).error, 'invalid_utf8');
  });

  test('a body over the limit is 413 body_too_large', async () => {
    const r = await request(srv.base, 'POST', '/publish', { topic: 'cats', message: 'x'.repeat(5000) });
    assert.equal(r.status, 413);
    assert.equal(r.body.error, 'body_too_large');
  });

  test('a non-JSON content type is 415 with a JSON error', async () => {
    const r = await request(srv.base, 'POST', '/publish', 'topic=cats', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 415);
    assert.equal(r.body.error, 'unsupported_media_type');
  });

  test('DELETE /register/:id is 200 then 404', async () => {
    const reg = await register(srv.base, 7);
    const first = await request(srv.base, 'DELETE', `/register/${reg.id}`);
    assert.equal(first.status, 200);
    const second = await request(srv.base, 'DELETE', `/register/${reg.id}`);
    assert.equal(second.status, 404);
    assert.equal(second.body.error, 'unknown_client');
  });

  test('POST /publish answers id and offset, counting per topic', async () => {
    const a = await request(srv.base, 'POST', '/publish', { topic: 'offsets', message: 'one' });
    const b = await request(srv.base, 'POST', '/publish', { topic: 'offsets', data: { n: 2 } });
    const c = await request(srv.base, 'POST', '/publish', { topic: 'offsets', binary: Buffer.from([1, 2, 3]).toString('base64') });
    assert.deepEqual([a.status, b.status, c.status], [200, 200, 200]);
    assert.deepEqual([a.body.offset, b.body.offset, c.body.offset], [1, 2, 3]);
    assert.equal(typeof a.body.id, 'string');
    assert.notEqual(a.body.id, b.body.id);
  });

  for (const [name, body] of [
    ['no payload', { topic: 'cats' }],
    ['two payloads', { topic: 'cats', message: 'a', data: 1 }],
    ['message not a string', { topic: 'cats', message: 5 }],
    ['missing topic', { message: 'a' }],
    ['topic not a string', { topic: 3, message: 'a' }],
    ['binary not base64', { topic: 'cats', binary: 'not base64!' }],
    ['user_id negative', { topic: 'cats', user_id: -3, message: 'a' }],
  ] as const) {
    test(`POST /publish rejects ${name} with 400`, async () => {
      const r = await request(srv.base, 'POST', '/publish', body);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_body');
    });
  }

  test('unknown routes are 404 JSON', async () => {
    const r = await request(srv.base, 'GET', '/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'not_found');
  });

  test('CORS allows any origin by default', async () => {
    const r = await fetch(`${srv.base}/register`, { method: 'OPTIONS', headers: { origin: 'https://example.test', 'access-control-request-method': 'POST' } });
    assert.ok(r.status === 204 || r.status === 200);
    assert.ok(['*', 'https://example.test'].includes(r.headers.get('access-control-allow-origin') ?? ''));
  });

  test('HERALD_PUBLIC_URL decides the returned url', async () => {
    const other = await startHerald({ publicUrl: 'https://relay.example.com' });
    try {
      const reg = await register(other.base, 1);
      assert.equal(reg.url, `wss://relay.example.com/ws/${reg.id}`);
    } finally {
      await other.close();
    }
  });

  test('behind a trusted proxy, X-Forwarded-Proto https gives wss', async () => {
    const other = await startHerald({ trustProxy: true });
    try {
      const r = await request(other.base, 'POST', '/register', { user_id: 1 }, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'chat.example.com' });
      assert.equal(r.body.url, `wss://chat.example.com/ws/${r.body.id}`);
    } finally {
      await other.close();
    }
  });
});
