// Issue 11 (medium): user ids above 2^53 collided (1234567890123456789 and ...790 both parse to
// 1234567890123456800), so a message for one user reached another. Such numbers are refused
// with 400 unsafe_user_id, in every place a user id comes in; strings stay exact.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publish, register, request } from '../helpers/http.js';
import { startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

type Err = { error: string; message: string };

describe('user ids beyond 2^53', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  it('POST /register, /publish and each /publish/batch item refuse an unsafe integer with 400 unsafe_user_id, saying to send a string', async () => {
    const reg = await request<Err>(srv.base, 'POST', '/register', '{"user_id":1234567890123456789,"topics":["t"]}');
    assert.equal(reg.status, 400);
    assert.equal(reg.body.error, 'unsafe_user_id');
    assert.match(reg.body.message, /as a string/);
    const pub = await request<Err>(srv.base, 'POST', '/publish', '{"topic":"t","user_id":1234567890123456790,"message":"m"}');
    assert.equal(pub.status, 400);
    assert.equal(pub.body.error, 'unsafe_user_id');
    const batch = await request<{ results: Array<Err | { offset: number }> }>(srv.base, 'POST', '/publish/batch', '{"messages":[{"topic":"t","user_id":9007199254740993,"message":"m"},{"topic":"t","user_id":9007199254740991,"message":"m"}]}');
    assert.equal(batch.status, 200);
    assert.equal((batch.body.results[0] as Err).error, 'unsafe_user_id');
    assert.equal(typeof (batch.body.results[1] as { offset: number }).offset, 'number', '2^53 - 1 itself is exact and accepted');
    const edge = await request(srv.base, 'POST', '/register', '{"user_id":9007199254740991}');
    assert.equal(edge.status, 200);
  });

  it('as strings, neighbouring Snowflake ids stay two users: a message for one never reaches the other', async () => {
    const a = await register(srv.base, '1234567890123456789', ['snow']);
    const b = await register(srv.base, '1234567890123456790', ['snow']);
    const wa = await TestSocket.open(a.url);
    const wb = await TestSocket.open(b.url);
    await topicsLive(srv, a.id, ['snow']);
    await topicsLive(srv, b.id, ['snow']);
    await publish(srv.base, { topic: 'snow', user_id: '1234567890123456789', message: 'for a' });
    await publish(srv.base, { topic: 'snow', message: 'for all' });
    assert.deepEqual((await wa.take(2)).map((f) => f.data), ['for a', 'for all']);
    assert.deepEqual((await wb.take(1)).map((f) => f.data), ['for all'], 'b got only the broadcast');
    await wa.closeAndWait();
    await wb.closeAndWait();
  });
});
