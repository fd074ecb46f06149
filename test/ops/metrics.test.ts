// /metrics: Prometheus text whose values follow the traffic; one registry per app.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { register, request } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { TestSocket } from '../helpers/ws-client.js';

type Samples = Map<string, number>;

/** Parses exposition text into `name{a="x",b="y"}` -> value, labels sorted, `node` left out. */
export function parseMetrics(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].filter((l) => l[1] !== 'node').map((l) => `${l[1]}="${l[2]}"`).sort();
    out.set(labels.length ? `${m[1]}{${labels.join(',')}}` : m[1]!, Number(m[3]));
  }
  return out;
}

async function scrape(srv: TestServer): Promise<Samples> {
  const r = await fetch(`${srv.base}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
  return parseMetrics(await r.text());
}

function value(s: Samples, key: string): number {
  const v = s.get(key);
  assert.ok(v !== undefined, `no sample ${key}; have: ${[...s.keys()].filter((k) => k.startsWith('herald')).join(', ')}`);
  return v;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('/metrics', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ clientRate: 3 });
  });
  after(() => srv.close());

  it('exposes every Herald metric and the default process metrics', async () => {
    const s = await scrape(srv);
    for (const key of [
      'herald_connections{protocol="plain"}',
      'herald_connections{protocol="herald.v1"}',
      'herald_registrations_total',
      'herald_publishes_total',
      'herald_deliveries_total',
      'herald_socket_writes_total',
      'herald_drops_total{reason="slow_consumer"}',
      'herald_drops_total{reason="rate_limit"}',
      'herald_drops_total{reason="too_large"}',
      'herald_history_topics',
      'herald_history_messages',
      'herald_history_bytes',
      'herald_topics',
      'herald_publish_write_latency_seconds_count',
      'herald_publish_write_latency_seconds_bucket{le="+Inf"}',
      'herald_recovered_messages_total',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) value(s, key);
    assert.equal(value(s, 'herald_engine_up{engine="memory"}'), 1);
  });

  it('values follow the traffic: registrations, connections by protocol, publishes, deliveries, history, latency', async () => {
    const before = await scrape(srv);
    const [a, b] = await Promise.all([register(srv.base, 1, ['m']), register(srv.base, 2, ['m'])]);
    const plain = await TestSocket.open(a.url);
    const v1 = await TestSocket.open(b.url, 'herald.v1');
    await v1.waitJson((o) => o.type === 'welcome');
    await eventually('both sockets to be live on the topic', async () => value(await scrape(srv), 'herald_topics') === 1);

    const mid = await scrape(srv);
    assert.equal(value(mid, 'herald_registrations_total') - value(before, 'herald_registrations_total'), 2);
    assert.equal(value(mid, 'herald_connections{protocol="plain"}'), 1);
    assert.equal(value(mid, 'herald_connections{protocol="herald.v1"}'), 1);

    for (let i = 0; i < 3; i++) await request(srv.base, 'POST', '/publish', { topic: 'm', message: `m${i}` });
    await plain.take(3);
    await v1.takeJson(3);

    const s = await scrape(srv);
    assert.equal(value(s, 'herald_publishes_total') - value(before, 'herald_publishes_total'), 3);
    assert.equal(value(s, 'herald_deliveries_total') - value(before, 'herald_deliveries_total'), 6);
    // Each socket got 3 messages, in 1 to 3 writes depending on how the publishes met the flushes.
    const writes = value(s, 'herald_socket_writes_total') - value(before, 'herald_socket_writes_total');
    assert.ok(writes >= 2 && writes <= 6, `socket writes ${writes}`);
    assert.equal(value(s, 'herald_history_messages') - value(before, 'herald_history_messages'), 3);
    assert.ok(value(s, 'herald_history_bytes') > value(before, 'herald_history_bytes'));
    assert.ok(value(s, 'herald_publish_write_latency_seconds_count') > value(before, 'herald_publish_write_latency_seconds_count'));
    // Local delivery takes well under a second.
    assert.equal(value(s, 'herald_publish_write_latency_seconds_bucket{le="1"}'), value(s, 'herald_publish_write_latency_seconds_count'));

    await plain.closeAndWait();
    await v1.closeAndWait();
    await eventually('connections back to 0', async () => {
      const after = await scrape(srv);
      return value(after, 'herald_connections{protocol="plain"}') === 0 && value(after, 'herald_connections{protocol="herald.v1"}') === 0;
    });
  });

  it('counts a rate-limited client as a rate_limit drop', async () => {
    const before = await scrape(srv);
    const reg = await register(srv.base, 3, ['r']);
    const ws = await TestSocket.open(reg.url);
    for (let i = 0; i < 10; i++) ws.send('ping');
    assert.equal((await ws.closed).code, 1008);
    const s = await scrape(srv);
    assert.equal(value(s, 'herald_drops_total{reason="rate_limit"}') - value(before, 'herald_drops_total{reason="rate_limit"}'), 1);
  });

  it('keeps a registry per app: two apps in one process count separately', async () => {
    const other = await startHerald();
    try {
      await register(other.base, 9);
      const mine = await scrape(srv);
      const theirs = await scrape(other);
      assert.equal(value(theirs, 'herald_registrations_total'), 1);
      assert.notEqual(value(mine, 'herald_registrations_total'), 1);
    } finally {
      await other.close();
    }
  });
});
