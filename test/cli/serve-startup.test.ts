// What `herald serve` says when it starts: one "listening" line with the dashboard URL, JSON
// lines when stdout is not a terminal, readable lines when it is, and a busy port as one line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { repoRoot, spawnHerald } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { runCli } from './run-cli.js';

test('not on a terminal: JSON lines, one "listening" line with the dashboard URL, no open-file warning on loopback', async () => {
  const proc = await spawnHerald();
  try {
    await waitFor('the listening line', () => proc.output().includes('herald listening'), 5000);
    const lines = proc.output().trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; url?: string });
    const listening = parsed.filter((l) => /listening/i.test(l.msg));
    assert.equal(listening.length, 1, proc.output());
    assert.equal(listening[0]!.msg, `herald listening on ${proc.base} (dashboard: ${proc.base}/, engine: memory)`);
    assert.equal(listening[0]!.url, proc.base);
    // The default 200,000 connections exceed this machine's open-file limit, but nothing on 127.0.0.1 gets there.
    assert.doesNotMatch(proc.output(), /open-file limit/);
  } finally {
    await proc.stop();
  }
});

test('a port in use is one line on stderr, no stack, exit 1', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as { port: number }).port;
  try {
    const r = await runCli(['serve', '--port', String(port)]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `herald serve: port ${port} on 127.0.0.1 is already in use; pick another with --port (or HERALD_PORT), or stop what is using it\n`);
    assert.equal(r.stdout, '');
  } finally {
    busy.close();
  }
});

test('on a terminal the start-up logger prints readable lines, not JSON', async () => {
  const code = `const { startupLogger } = await import(${JSON.stringify(`${repoRoot}dist/src/cli/logger.js`)});
    (await startupLogger('info', true)).info({ port: 8000 }, 'herald listening on http://127.0.0.1:8000');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(exit, 0, out);
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(plain, /^\[\d\d:\d\d:\d\d\] INFO: herald listening on http:\/\/127\.0\.0\.1:8000\n$/);
});
