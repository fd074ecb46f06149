// `herald token` prints a token the server accepts: signed with the server's secret, with the
// user, topics and grants asked for.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';
import { runCli } from './run-cli.js';

const SECRET = 'cli-token-secret-long-enough-0123456789';
let srv: TestServer;
before(async () => {
  srv = await startHerald({ tokenSecret: SECRET });
});
after(() => srv.close());

test('herald token --user --topics --grants --ttl prints a token the server accepts', async () => {
  const r = await runCli(['token', '--user', '42', '--topics', 'news,alerts', '--grants', 'team.7.*', '--ttl', '10m'], { env: { HERALD_TOKEN_SECRET: SECRET } });
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  const claims = decodeJwt(token);
  assert.equal(claims.sub, '42');
  assert.deepEqual(claims.topics, ['news', 'alerts']);
  assert.deepEqual(claims.grants, ['team.7.*']);
  assert.ok(Math.abs(claims.exp! - claims.iat! - 600) <= 1, `exp - iat = ${claims.exp! - claims.iat!}`);
  const s = await TestSocket.open(`${srv.base.replace('http', 'ws')}/ws?token=${token}`, 'herald.v1');
  const [welcome] = await s.takeJson(1);
  assert.deepEqual([welcome!.user, welcome!.topics], ['42', ['news', 'alerts']]);
  await s.closeAndWait();
});

test('herald token without a secret, or with a bad --ttl, exits 2 with one line', async () => {
  const none = await runCli(['token', '--user', '1']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /HERALD_TOKEN_SECRET/);
  const ttl = await runCli(['token', '--user', '1', '--ttl', 'soon'], { env: { HERALD_TOKEN_SECRET: SECRET } });
  assert.equal(ttl.code, 2);
  assert.match(ttl.stderr, /--ttl/);
});
