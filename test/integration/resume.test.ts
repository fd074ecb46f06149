import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { publish, register } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

interface V1 {
  type: string;
  topic?: string;
  data?: unknown;
  offset?: number;
  epoch?: string;
  complete?: boolean;
}

const withSince = (url: string, since: unknown): string => `${url}?since=${encodeURIComponent(JSON.stringify(since))}`;

/** Resuming at connect with ?since=: the registration's topics start where the client stands. */
describe('resume with ?since= on /ws/:id', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  test('a v1 client that lost the tail of a connection gets it again, then recovered, then live', async () => {
    const reg = await register(srv.base, 1, ['r']);
    const first = await TestSocket.open(reg.url, 'herald.v1');
    assert.equal((await first.takeJson<V1>(1))[0]!.type, 'welcome');
    // Publish until the topic is live, then five numbered messages.
    let epoch = '';
    for (let i = 0; ; i++) {
      await publish(srv.base, { topic: 'r', message: `probe-${i}` });
      const got = await first.takeJson<V1>(1, 200).catch(() => []);
      if (got.length > 0) {
        epoch = got[0]!.epoch!;
        break;
      }
    }
    const offsets: number[] = [];
    for (let i = 1; i <= 5; i++) offsets.push((await publish(srv.base, { topic: 'r', data: { n: i } })).offset);
    const seen = await first.waitJson<V1>((o) => o.offset === offsets[4]);
    assert.equal(seen.offset, offsets[4]);
    await first.closeAndWait();
    // The server believes all five were delivered; the client says it has only the first two.
    const again = await TestSocket.open(withSince(reg.url, { r: { offset: offsets[1], epoch } }), 'herald.v1');
    const [welcome, m3, m4, m5, recovered] = await again.takeJson<V1>(5);
    assert.equal(welcome!.type, 'welcome');
    assert.deepEqual([m3, m4, m5].map((m) => [m!.type, m!.offset, m!.data]), [
      ['message', offsets[2], { n: 3 }],
      ['message', offsets[3], { n: 4 }],
      ['message', offsets[4], { n: 5 }],
    ]);
    assert.deepEqual(recovered, { type: 'recovered', topic: 'r', epoch, offset: offsets[4], complete: true });
    await publish(srv.base, { topic: 'r', data: 'live' });
    const [live] = await again.takeJson<V1>(1);
    assert.equal(live!.data, 'live');
    await again.closeAndWait();
  });

  test('a plain client may resume the same way', async () => {
    const reg = await register(srv.base, 2, ['p']);
    const acks = [];
    for (let i = 1; i <= 3; i++) acks.push(await publish(srv.base, { topic: 'p', message: `m${i}` }));
    const s = await TestSocket.open(withSince(reg.url, { p: { offset: acks[0]!.offset, epoch: (await srv.herald.engine.history.position('p')).epoch } }));
    assert.deepEqual((await s.take(2)).map((f) => f.data), ['m2', 'm3']);
    await s.closeAndWait();
  });

  for (const [name, since] of [
    ['not JSON', '{oops'],
    ['a negative offset', JSON.stringify({ t: { offset: -1, epoch: 'e' } })],
    ['no epoch', JSON.stringify({ t: { offset: 3 } })],
    ['an array', '[1,2]'],
  ] as const) {
    test(`?since= with ${name} is refused before the upgrade (400 bad_request)`, async () => {
      const reg = await register(srv.base, 3);
      const s = new TestSocket(`${reg.url}?since=${encodeURIComponent(since)}`, 'herald.v1');
      await assert.rejects(s.opened, /unexpected response 400/);
    });
  }
});
