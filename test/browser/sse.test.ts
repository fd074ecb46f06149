// A page's own EventSource (no SDK) reads GET /sse/:id through a TCP proxy that cuts the
// connection three times while messages flow: the browser reconnects by itself with
// Last-Event-ID and sees every message exactly once, in order. Needs Debian's chromium.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startProxy, type TcpProxy } from '../client/tcp-proxy.js';
import { publish, register } from '../helpers/http.js';
import { startHerald, topicsLive, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>herald sse</title>
<script>
  const url = new URLSearchParams(location.search).get('url');
  window.received = [];
  window.opens = 0;
  window.errors = 0;
  window.gaps = [];
  const es = new EventSource(url);
  es.onopen = () => window.opens++;
  es.onerror = () => window.errors++;
  es.onmessage = (e) => window.received.push(JSON.parse(e.data).data);
  es.addEventListener('recovered', (e) => window.gaps.push(JSON.parse(e.data)));
</script>`;

let herald: TestServer;
let proxy: TcpProxy;
let web: Server;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install it with apt-get install -y chromium (or set HERALD_CHROMIUM)`);
  herald = await startHerald();
  proxy = await startProxy(herald.port);
  web = createServer((req, res) => {
    if (req.url?.startsWith('/?')) res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else res.writeHead(404).end();
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
  await proxy?.close();
  await herald?.close();
});

test("a page's own EventSource survives three connection cuts and sees every message once, in order", async () => {
  const reg = await register(herald.base, 'sse-page', ['feed']);
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const sse = `http://127.0.0.1:${proxy.port}/sse/${reg.id}`;
  const { port } = web.address() as AddressInfo;
  // Cross-origin (another port): the stream needs Herald's CORS headers too.
  await page.goto(`http://127.0.0.1:${port}/?url=${encodeURIComponent(sse)}`);
  const state = (): Promise<{ received: string[]; opens: number; gaps: unknown[] }> =>
    page.evaluate(() => {
      const w = window as unknown as { received: string[]; opens: number; gaps: unknown[] };
      return { received: [...w.received], opens: w.opens, gaps: w.gaps };
    });
  await waitFor('the page connected', async () => (await state()).opens === 1, 10_000);
  await topicsLive(herald, reg.id, ['feed']);

  const sent: string[] = [];
  const send = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const text = `m${sent.length + 1}`;
      await publish(herald.base, { topic: 'feed', message: text });
      sent.push(text);
      if (i % 3 === 2) await new Promise((r) => setTimeout(r, 20)); // a steady trickle, not one burst
    }
  };
  for (let cut = 1; cut <= 3; cut++) {
    await send(10);
    // Cut while messages flow; the next ones are published while the browser is away.
    assert.ok(proxy.cut() > 0, 'a connection to cut');
    await send(5);
    await waitFor(`the browser back after cut ${cut}`, async () => (await state()).opens === cut + 1, 15_000);
  }
  await send(5);
  await waitFor('every message in the page', async () => (await state()).received.length >= sent.length, 30_000);
  // One more after everything: if a duplicate were coming, it would come before this one.
  await publish(herald.base, { topic: 'feed', message: 'last' });
  await waitFor('the last message', async () => (await state()).received.at(-1) === 'last', 15_000);
  const final = await state();
  assert.deepEqual(final.received, [...sent, 'last'], 'every message exactly once, in order');
  assert.ok(final.opens === 4, `the browser reconnected once after each cut (opens: ${final.opens})`);
  assert.deepEqual(final.gaps, [], 'no gap: history covered every cut');
  assert.ok(proxy.connections >= 4);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
