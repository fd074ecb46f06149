// The SDK bundled for browsers (esbuild), loaded by a page in headless Chromium, receives a
// message published over HTTP. Needs Debian's chromium: missing, the test fails, it never skips.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { buildBrowserBundle } from '../../client/build.js';
import { publish, register } from '../helpers/http.js';
import { startHerald } from '../helpers/server.js';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { TestServer } from '../helpers/server.js';

const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>herald sdk</title>
<script type="module">
  import { HeraldClient } from '/herald.browser.js';
  const url = new URLSearchParams(location.search).get('url');
  const client = new HeraldClient(url, { backoff: { minMs: 50, maxMs: 500 } });
  window.states = [];
  client.on('state', (s) => window.states.push(s.state));
  window.received = new Promise((resolve) => {
    client.subscribe('news').on('message', (m) => resolve({ topic: m.topic, data: m.data, offset: m.offset, epoch: typeof m.epoch }));
  });
  window.binary = new Promise((resolve) => {
    client.subscribe('bytes').on('message', (m) => resolve(Array.from(m.binary ?? [])));
  });
  await client.connect();
  await Promise.all([client.subscribe('news').ready(), client.subscribe('bytes').ready()]);
  window.ready = true;
</script>`;

let herald: TestServer;
let web: Server;
let browser: Browser;
let bundle: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install it with apt-get install -y chromium (or set HERALD_CHROMIUM)`);
  bundle = readFileSync(await buildBrowserBundle(), 'utf8');
  herald = await startHerald();
  web = createServer((req, res) => {
    if (req.url === '/herald.browser.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
    } else if (req.url?.startsWith('/?') || req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (web ? web.close(() => resolve()) : resolve()));
  await herald?.close();
});

test('the browser bundle leaves the ws package out (browsers have WebSocket)', () => {
  assert.ok(!bundle.includes('permessage-deflate'), 'ws was bundled');
  assert.ok(bundle.includes('import("ws")'), 'ws should stay a lazy external import');
  assert.ok(bundle.includes('HeraldClient'));
});

test('headless Chromium receives a published message through the bundled SDK', async () => {
  const reg = await register(herald.base, 'browser-user');
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  const { port } = web.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${port}/?url=${encodeURIComponent(reg.url)}`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 10_000 }).catch((err: Error) => {
    throw new Error(`the page never subscribed: ${err.message}; page errors: ${errors.join(' | ') || 'none'}`);
  });
  const { offset } = await publish(herald.base, { topic: 'news', data: { title: 'hello from node' } });
  await publish(herald.base, { topic: 'bytes', binary: Buffer.from([0, 1, 254, 255]).toString('base64') });
  const received = await page.evaluate(() => (window as unknown as { received: Promise<unknown> }).received);
  assert.deepEqual(received, { topic: 'news', data: { title: 'hello from node' }, offset, epoch: 'string' });
  assert.deepEqual(await page.evaluate(() => (window as unknown as { binary: Promise<number[]> }).binary), [0, 1, 254, 255]);
  assert.deepEqual(await page.evaluate(() => (window as unknown as { states: string[] }).states), ['connecting', 'connected']);
  assert.deepEqual(errors, []);
  await page.close();
});
