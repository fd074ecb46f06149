// Publishing from the client against a real server: allowed topics answer with the offset,
// the others with the server's `forbidden` error; the connection stays up either way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HeraldClient, HeraldError } from '../../client/index.js';
import { register } from '../helpers/http.js';
import { startHerald } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => {
  server = await startHerald({ clientPublish: ['chat.*'] });
});
after(() => server.close());

test('publish resolves with the offset where allowed and rejects with forbidden elsewhere', async () => {
  const reg = await register(server.base, 'pub-user');
  const client = new HeraldClient(reg.url);
  await client.connect();
  const room = client.subscribe('chat.room');
  await room.ready();
  const iterator = room[Symbol.asyncIterator]();

  assert.deepEqual(await client.publish('chat.room', { text: 'hi' }), { offset: 1 });
  const first = await iterator.next();
  assert.deepEqual({ topic: first.value?.topic, data: first.value?.data, offset: first.value?.offset }, { topic: 'chat.room', data: { text: 'hi' }, offset: 1 });

  await assert.rejects(client.publish('news', 'x'), (err: unknown) => err instanceof HeraldError && err.code === 'forbidden' && /HERALD_CLIENT_PUBLISH/.test(err.message));
  assert.equal(client.state, 'connected');
  assert.ok((await client.ping()) >= 0);
  await client.close();
});
