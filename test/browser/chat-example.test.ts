// examples/chat, as a user starts it (node examples/chat/server.js), in headless Chromium: two
// people join (with connection tokens from the example's backend), the backend announces the
// second, and a line one types reaches both.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';

let server: ChildProcess;
let output = '';
let base: string;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install it with apt-get install -y chromium (or set HERALD_CHROMIUM)`);
  server = spawn(process.execPath, [`${repoRoot}examples/chat/server.js`], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(`the chat server's address (output: ${output})`, () => /chat on http:\/\/\S+\//.test(output) || server.exitCode !== null, 10_000);
  base = /chat on (http:\/\/\S+)\//.exec(output)?.[1] ?? assert.fail(`the chat server did not start:\n${output}`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
});

const sockets: string[] = [];

async function join(name: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (err) => errors.push(`${name}: ${err.message}`));
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${base}/`);
  await page.fill('#name', name);
  await page.click('#join button');
  await page.waitForSelector('#say:not([hidden])', { timeout: 10_000 });
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'connected', undefined, { timeout: 10_000 });
  return page;
}

const lines = (page: Page): Promise<string[]> => page.$$eval('#log li', (items) => items.map((li) => li.textContent ?? ''));

test('two people chat through the example: the backend announces arrivals, browsers publish with the SDK', async () => {
  const errors: string[] = [];
  const alice = await join('alice', errors);
  const bob = await join('bob', errors);
  await alice.waitForFunction(() => Array.from(document.querySelectorAll('#log li'), (li) => li.textContent).some((t) => t === 'bob joined'), undefined, { timeout: 10_000 });

  await bob.fill('#text', 'hi alice');
  await bob.click('#say button');
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#log li'), (li) => li.textContent).some((t) => t === 'bob: hi alice'), undefined, { timeout: 10_000 });
  }
  assert.deepEqual((await lines(alice)).filter((l) => l !== 'alice joined'), ['bob joined', 'bob: hi alice']);
  assert.deepEqual(errors, []);
  // Each page connected with a token its backend signed, through the mount prefix.
  assert.equal(sockets.length, 2);
  for (const url of sockets) assert.match(url, new RegExp(`^${base.replace('http', 'ws')}/realtime/ws\\?token=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
});
