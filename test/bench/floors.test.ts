// The floor scripts (bench/http-floor.ts, bench/write-floor.ts) at tiny sizes, so they cannot rot:
// each must finish and print a row per case with a figure. No timing assertions: the machine is shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function runScript(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist', 'bench', script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The table rows after the header and its separator. */
const rows = (stdout: string): string[] => stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| case') && !l.startsWith('| server'));

test('write-floor: three cases, each with a CPU figure per write', { timeout: 60_000 }, async () => {
  const { code, stdout, stderr } = await runScript('write-floor.js', ['--sockets', '40', '--writes', '400', '--runs', '1']);
  assert.equal(code, 0, stderr);
  const found = rows(stdout);
  assert.equal(found.length, 3, stdout);
  for (const row of found) assert.match(row, /\*\*\d+\.\d\d µs\*\*/);
});

test('http-floor: every layer answers, and each publish reaches its one user', { timeout: 120_000 }, async () => {
  // 150 users register from one address faster than the default 100/s register rate.
  const { code, stdout, stderr } = await runScript('http-floor.js', ['--users', '150', '--requests', '300', '--runs', '1']);
  assert.equal(code, 0, stderr);
  const found = rows(stdout);
  assert.equal(found.length, 4, stdout);
  for (const row of found) assert.match(row, /\| \d+\.\d µs \|/);
  assert.match(found[3]!, /\| 0 · 0 \|$/, 'nothing lost, nothing unexpected');
});
