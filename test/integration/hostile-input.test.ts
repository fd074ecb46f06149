// Issue 11 (critical): one client's bad input ends at most that client's request. A ~12 KB
// frame of nested arrays once overflowed the stack inside the `ws` listener and killed the
// process. Run against a real `herald serve` process, so a crash is a dead child, not a
// failed assertion somewhere in the test runner.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publish, register, request } from '../helpers/http.js';
import { spawnHerald, type HeraldProcess } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

const nested = (depth: number, inner = ''): string => '['.repeat(depth) + inner + ']'.repeat(depth);

async function alive(srv: HeraldProcess): Promise<void> {
  assert.equal(srv.child.exitCode, null, `herald exited:\n${srv.output().slice(-2000)}`);
  const r = await request(srv.base, 'GET', '/health');
  assert.equal(r.status, 200);
}

describe('hostile input', () => {
  let srv: HeraldProcess;
  before(async () => {
    srv = await spawnHerald(['--client-publish', 'chat.*']);
  });
  after(async () => {
    await srv.stop();
  });

  it('plain: {"topics": 6,000 nested arrays} is ignored, the socket stays up and keeps its topics', async () => {
    const reg = await register(srv.base, 'deep-plain', ['news']);
    const ws = await TestSocket.open(reg.url);
    ws.send(`{"topics":${nested(6000)}}`);
    ws.send(`{"topics":[${nested(6000, '"x"')}]}`);
    ws.send(`{"topics":["a"],"x":${nested(6000)}}`);
    // The socket still serves its old topic: the updates were ignored, nothing crashed.
    await publish(srv.base, { topic: 'news', message: 'still here' });
    assert.equal((await ws.next()).data, 'still here');
    await alive(srv);
    await ws.closeAndWait();
  });

  it('herald.v1: nested "type", "topics", "id", "since" and publish "data" get an error reply, the socket stays up', async () => {
    const reg = await register(srv.base, 'deep-v1', []);
    const ws = await TestSocket.open(reg.url, 'herald.v1');
    await ws.takeJson(1); // welcome
    const frames = [
      `{"type":${nested(6000)}}`,
      `{"type":"subscribe","id":1,"topics":${nested(6000)}}`,
      `{"type":"subscribe","id":2,"topics":[${nested(6000, '"x"')}]}`,
      `{"type":"topics","id":3,"topics":["ok",${nested(6000)}]}`,
      `{"type":"subscribe","id":4,"topics":["a"],"since":{"a":${nested(6000)}}}`,
      `{"type":"publish","id":5,"topic":"chat.x","data":${nested(6000)}}`,
      `{"id":${nested(6000)},"type":"ping"}`,
    ];
    for (const f of frames) {
      ws.send(f);
      const [reply] = await ws.takeJson(1);
      assert.equal(reply!['type'], 'error', `reply to ${f.slice(0, 40)}: ${JSON.stringify(reply)}`);
      assert.notEqual(reply!['code'], 'internal');
      assert.ok(String(reply!['message']).length < 300, 'the reply does not echo the input');
    }
    ws.send({ type: 'ping', id: 'after' });
    assert.deepEqual((await ws.takeJson(1))[0], { type: 'pong', id: 'after' });
    await alive(srv);
    await ws.closeAndWait();
  });

  it('HTTP: deeply nested bodies are 400, never 500, on every JSON route', async () => {
    const bodies: Array<[string, string]> = [
      ['/register', `{"user_id":1,"topics":${nested(6000)}}`],
      ['/register', `{"user_id":${nested(6000)}}`],
      ['/publish', `{"topic":"t","data":${nested(6000)}}`],
      ['/publish', `{"topic":"t","data":{"a":${nested(100_000)}}}`],
      ['/publish/batch', `{"messages":[{"topic":"t","data":${nested(6000)}}]}`],
      ['/publish/batch', `{"messages":${nested(6000)}}`],
    ];
    for (const [path, body] of bodies) {
      const r = await request<{ error: string; message: string }>(srv.base, 'POST', path, body);
      assert.equal(r.status, 400, `${path} ${body.slice(0, 40)}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'too_deep');
    }
    await alive(srv);
  });
});

describe('a handler that throws', () => {
  it('answers herald.v1 `internal`, ignores the plain frame, counts handler_error, and keeps both sockets up', async () => {
    const { startHerald } = await import('../helpers/server.js');
    const srv = await startHerald();
    try {
      const relay = srv.herald.relay;
      // Fault injection: the next topic check throws synchronously, as a bug in a handler would.
      const real = relay.checkTopics.bind(relay);
      let fail = 0;
      relay.checkTopics = (t) => {
        if (fail > 0) {
          fail--;
          throw new RangeError('Maximum call stack size exceeded');
        }
        return real(t);
      };
      const plainReg = await register(srv.base, 'throw-plain', ['news']);
      const plain = await TestSocket.open(plainReg.url);
      const v1Reg = await register(srv.base, 'throw-v1', []);
      const v1 = await TestSocket.open(v1Reg.url, 'herald.v1');
      await v1.takeJson(1);
      fail = 2;
      plain.send({ topics: ['other'] });
      v1.send({ type: 'subscribe', id: 7, topics: ['x'] });
      const [reply] = await v1.takeJson(1);
      assert.equal(reply!['type'], 'error');
      assert.equal(reply!['code'], 'internal');
      const { waitFor } = await import('../helpers/wait.js');
      await waitFor('both failures counted', () => srv.herald.stats.refusals.handler_error === 2);
      v1.send({ type: 'ping', id: 8 });
      assert.deepEqual((await v1.takeJson(1))[0], { type: 'pong', id: 8 });
      await publish(srv.base, { topic: 'news', message: 'plain still served' });
      assert.equal((await plain.next()).data, 'plain still served');
      const metrics = await (await fetch(`${srv.base}/metrics`)).text();
      assert.match(metrics, /herald_refusals_total\{reason="handler_error"[^}]*\} 2/);
      await plain.closeAndWait();
      await v1.closeAndWait();
    } finally {
      await srv.close();
    }
  });
});
