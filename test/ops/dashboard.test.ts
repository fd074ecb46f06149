// The dashboard in headless Chromium: it loads (through the login page when a key is set),
// its counters move as messages are published, the tap shows a topic's messages and the tester
// receives its own message. Saves test-results/dashboard.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { publish, request } from '../helpers/http.js';
import { repoRoot, startHerald, type TestServer } from '../helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'dashboard-test-key';
const auth = { authorization: `Bearer ${KEY}` };

async function launch(): Promise<Browser> {
  // A missing browser is a failure, not a skip: CI installs Debian's chromium.
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const count = async (page: Page, id: string): Promise<number> => Number((await page.textContent(`#${id}`))?.replace(/,/g, ''));

describe('dashboard in Chromium', () => {
  let srv: TestServer;
  let browser: Browser;
  const errors: string[] = [];

  before(async () => {
    srv = await startHerald({ apiKey: KEY, presenceTopics: ['news'] });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('without the key shows the login page; the right key opens the dashboard', async () => {
    const page = await browser.newPage();
    const res = await page.goto(`${srv.base}/`);
    assert.equal(res?.status(), 401);
    await page.fill('#key', 'wrong');
    await page.click('button[type=submit]');
    await page.waitForSelector('#login-error:has-text("not the server")', { timeout: 5000 });
    assert.equal(new URL(page.url()).search, '', 'the refused key is gone from the address bar');
    await page.fill('#key', KEY);
    await page.click('button[type=submit]');
    await page.waitForSelector('#c-connections', { timeout: 5000 });
    await page.waitForFunction(() => /^\d/.test(document.getElementById('c-connections')?.textContent ?? ''), undefined, { timeout: 5000 });
    assert.equal(new URL(page.url()).search, '', 'the key is gone from the address bar');
    // A reload in the same tab keeps working (the key is in sessionStorage).
    await page.reload();
    await page.waitForFunction(() => /^\d/.test(document.getElementById('c-connections')?.textContent ?? ''), undefined, { timeout: 5000 });
    await page.close();
  });

  it('counters move, the tap shows a topic, the tester receives its own message', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
    });
    await page.goto(`${srv.base}/?key=${encodeURIComponent(KEY)}`);
    await page.waitForFunction(() => /^\d/.test(document.getElementById('c-publishes')?.textContent ?? ''), undefined, { timeout: 5000 });

    // Counters: publishes over HTTP show up within a couple of refreshes.
    const before = await count(page, 'c-publishes');
    for (let i = 0; i < 5; i++) await publish(srv.base, { topic: 'outside', message: `m${i}` }, auth);
    await page.waitForFunction((n) => Number(document.getElementById('c-publishes')?.textContent?.replace(/,/g, '')) >= n, before + 5, { timeout: 5000 });

    // Tester: register, connect, change topics, publish, receive.
    await page.fill('#tester-user', 'browser-tester');
    await page.fill('#tester-topics', 'test');
    await page.click('#tester-register button[type=submit]');
    await page.waitForSelector('#tester-connect:not([disabled])', { timeout: 5000 });
    await page.click('#tester-connect');
    await page.waitForSelector('#tester-state:text-is("connected")', { timeout: 5000 });
    await page.fill('#tester-new-topics', 'test, news');
    await page.click('#tester-set-topics');
    await page.waitForSelector('#tester-current:has-text("news")', { timeout: 5000 });
    await page.fill('#tester-pub-topic', 'news');
    await page.fill('#tester-pub-message', 'hello from the tester');
    await page.click('#tester-publish-btn');
    await page.waitForSelector('#tester-log li:has-text("hello from the tester"):has-text("news #")', { timeout: 5000 });

    // Tap: click the busiest topic (news has the tester on it), then see a publish flow by.
    await page.waitForSelector('#topics td:text-is("news")', { timeout: 5000 });
    await page.click('#topics td:text-is("news")');
    await page.waitForSelector('#tap-state:has-text("tapping news")', { timeout: 5000 });
    for (let i = 1; i <= 3; i++) await publish(srv.base, { topic: 'news', data: { headline: `story ${i}` } }, auth);
    await page.waitForSelector('#tap-log li:has-text("story 3")', { timeout: 5000 });
    // Presence of the tapped topic: the tester and the tap, each a user of its own.
    await page.waitForSelector('#presence-state:has-text("present in news: 2 users, 2 clients")', { timeout: 5000 });
    await page.waitForSelector('#presence-members li:has-text("browser-tester")', { timeout: 5000 });
    // The cluster view: one node here.
    await page.check('#scope-cluster');
    await page.waitForSelector('#node:has-text("cluster of 1 node")', { timeout: 5000 });
    await page.waitForSelector('#topics-scope:has-text("every node")', { timeout: 5000 });

    // Connections: the tester and the tap are two herald.v1 sockets on this server.
    await page.waitForFunction(() => Number(document.getElementById('c-connections')?.textContent) >= 2, undefined, { timeout: 5000 });
    const stats = await request<{ connections: { 'herald.v1': number } }>(srv.base, 'GET', '/stats', undefined, auth);
    assert.equal(stats.body.connections['herald.v1'], 2);

    // Let the charts gather a few points, then keep a picture of it.
    for (let i = 0; i < 6; i++) {
      await publish(srv.base, { topic: 'news', message: `tick ${i}` }, auth);
      await new Promise((r) => setTimeout(r, 300));
    }
    await page.waitForSelector('#chart-rate polyline', { timeout: 5000 });
    mkdirSync(`${repoRoot}test-results`, { recursive: true });
    await page.screenshot({ path: `${repoRoot}test-results/dashboard.png`, fullPage: true });

    // Leaving the page deletes its registrations.
    await page.close({ runBeforeUnload: true });
    assert.deepEqual(errors, []);
  });
});
