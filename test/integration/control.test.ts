import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { register } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

/** Control events as another node sends them (the memory broker hands them straight to the relay). */
describe('kicks from other nodes', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  test('a replacement kick closes only sockets connected before the newer connection', async () => {
    const reg = await register(srv.base, 1);
    const s = await TestSocket.open(reg.url);
    const connectedAt = srv.herald.relay.hub.get(reg.id)!.connectedAt;
    // A late kick from a connection older than this socket: ignored.
    await srv.herald.engine.broker.sendControl({ type: 'kick', node: 'elsewhere', clientId: reg.id, code: 4000, reason: 'replaced', before: connectedAt - 1 });
    assert.equal(s.ws.readyState, s.ws.OPEN);
    // A kick from a newer connection: this socket is replaced.
    await srv.herald.engine.broker.sendControl({ type: 'kick', node: 'elsewhere', clientId: reg.id, code: 4000, reason: 'replaced', before: connectedAt + 1 });
    assert.equal((await s.closed).code, 4000);
  });

  test('an unregister kick closes the socket whatever its age; a node ignores its own kicks', async () => {
    const reg = await register(srv.base, 2);
    const s = await TestSocket.open(reg.url);
    await srv.herald.engine.broker.sendControl({ type: 'kick', node: srv.herald.relay.nodeId, clientId: reg.id, code: 4001, reason: 'unregistered' });
    assert.equal(s.ws.readyState, s.ws.OPEN);
    await srv.herald.engine.broker.sendControl({ type: 'kick', node: 'elsewhere', clientId: reg.id, code: 4001, reason: 'unregistered' });
    assert.equal((await s.closed).code, 4001);
  });
});
