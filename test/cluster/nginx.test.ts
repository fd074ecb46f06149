// examples/nginx.conf, run by Debian's nginx in front of two Herald nodes.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publish, register, request } from '../helpers/http.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.js';
import { repoRoot } from '../helpers/server.js';
import { SseReader, sseUrl } from '../helpers/sse-client.js';
import { TestSocket } from '../helpers/ws-client.js';
import { startNodes, stopNodes, type Node } from './nodes.js';

function nginxBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx 2>/dev/null'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!found) throw new Error('nginx not found: this test runs examples/nginx.conf. Install it with: apt-get install -y nginx');
  return found;
}

/** The example config, pointed at this test's nodes and port, with everything in `dir`. */
function testConfig(port: number, nodes: Node[]): string {
  const example = readFileSync(join(repoRoot, 'examples/nginx.conf'), 'utf8');
  const servers = nodes.map((n) => `        server 127.0.0.1:${n.port} max_fails=1 fail_timeout=5s;`).join('\n');
  const conf = example
    .replace(/^worker_processes .*$/m, 'worker_processes 1;')
    .replace(/(?:^ *server 127\.0\.0\.1:\d+ [^\n]*\n)+/m, `${servers}\n`)
    .replace(/^( *)listen 8000;$/m, `$1listen 127.0.0.1:${port};`)
    .replace(/^http \{$/m, 'http {\n    access_log off;\n    client_body_temp_path tmp/body;\n    proxy_temp_path tmp/proxy;');
  assert.ok(conf.includes(`listen 127.0.0.1:${port};`) && conf.includes(`127.0.0.1:${nodes[0]!.port}`), 'the example still has the shape this test rewrites');
  return conf;
}

describe('examples/nginx.conf in front of two nodes', () => {
  let redis: RedisServer;
  let nodes: Node[] = [];
  let nginx: ChildProcess | undefined;
  let dir = '';
  let base = '';
  let port = 0;

  before(async () => {
    const bin = nginxBinary();
    redis = await startRedis();
    nodes = await startNodes(2, redis.url, ['--trust-proxy']);
    dir = mkdtempSync(join(tmpdir(), 'herald-nginx-'));
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'tmp'));
    port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), testConfig(port, nodes));
    let out = '';
    nginx = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'logs/error.log')};`], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    nginx.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    base = `http://127.0.0.1:${port}`;
    const end = Date.now() + 10_000;
    for (;;) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}: ${out}`);
      try {
        if ((await fetch(`${base}/health`)).status === 200) break;
      } catch {
        // not up yet
      }
      if (Date.now() > end) throw new Error(`nginx did not proxy /health within 10 s: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGTERM'); // the master stops its workers
      await exited;
    }
    await stopNodes(nodes);
    await redis?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('registers, connects (WebSocket upgrade) and publishes through nginx', async () => {
    const reg = await register(base, 'via-nginx', ['edge']);
    assert.ok(reg.url.startsWith(`ws://127.0.0.1:${port}/ws/`), `the ws URL points at nginx: ${reg.url}`);
    const ws = await TestSocket.open(reg.url, 'herald.v1');
    try {
      await ws.waitJson((o) => o['type'] === 'welcome');
      ws.send({ type: 'subscribe', topics: ['edge'], id: 1 });
      await ws.waitJson((o) => o['type'] === 'ok');
      for (let i = 0; i < 4; i++) await publish(base, { topic: 'edge', message: `m${i}` }); // spread over both nodes
      const got = [];
      for (let i = 0; i < 4; i++) got.push((await ws.waitJson((o) => o['type'] === 'message'))['data']);
      assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3']);
      assert.equal((await request(base, 'DELETE', `/register/${reg.id}`)).status, 200);
      assert.equal((await ws.closed).code, 4001);
    } finally {
      await ws.closeAndWait();
    }
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add(String((await request(base, 'GET', '/health')).body['node']));
    assert.deepEqual([...seen].sort(), ['a', 'b'], 'nginx spreads requests over both nodes');
  });

  it('streams SSE through nginx as events happen, and resumes with Last-Event-ID', async () => {
    const reg = await register(base, 'sse-via-nginx', ['wire']);
    const url = sseUrl(reg.url);
    assert.ok(url.startsWith(`http://127.0.0.1:${port}/sse/`), url);
    const first = await SseReader.open(url);
    assert.equal(first.status, 200);
    assert.match(String(first.headers['content-type']), /^text\/event-stream/);
    // The stream joins its topic on whichever node it reached: publish until one arrives.
    for (let i = 0; first.messageCount === 0; i++) {
      if (i > 100) throw new Error('no probe arrived through nginx');
      await publish(base, { topic: 'wire', message: `probe${i}` });
      await first.waitFor('a probe', () => first.messageCount > 0, 100).catch(() => undefined);
    }
    await first.waitFor('every probe', () => first.messages().every((m) => String(m['data']).startsWith('probe')) && first.messageCount > 0);
    // One event at a time: each arrives before the next publish (nginx buffering would hold it).
    const probes = first.messageCount;
    for (let i = 0; i < 3; i++) {
      await publish(base, { topic: 'wire', message: `live${i}` });
      await first.waitMessages(probes + i + 1, 3000);
    }
    const token = first.lastEventId!;
    first.close();
    for (let i = 0; i < 4; i++) await publish(base, { topic: 'wire', message: `missed${i}` });
    // Whichever node nginx picks resumes it: the token names positions, Redis holds the history.
    const second = await SseReader.open(url, { 'last-event-id': token });
    try {
      await second.waitMessages(4, 5000);
      assert.deepEqual(second.messages().map((m) => m['data']), ['missed0', 'missed1', 'missed2', 'missed3']);
    } finally {
      second.close();
    }
  });
});
