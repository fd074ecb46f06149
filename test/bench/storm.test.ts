// A short run of the reconnect-storm scenario (--quick: a few hundred clients, one restart by
// SIGKILL per case) so it cannot rot: every client of every case must come back to the
// restarted node, and every publish answered 200 must reach every client of its room once and
// in order. No timing assertions: the machine is shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '../../bench/report.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// The Redis cases start their own redis-server on a free port: only the binary is needed.
const redisInstalled = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim() !== '';

function runBench(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist', 'bench', 'run.js'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('bench storm --quick: every client recovers after the node restarts, nothing lost, repeated or reordered', { timeout: 170_000 }, async (t) => {
  assert.ok(existsSync(join(root, 'dist', 'src', 'cli', 'index.js')), 'Herald is built (npm run build)');
  const out = mkdtempSync(join(tmpdir(), 'herald-storm-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const engines = redisInstalled ? ['memory', 'redis'] : ['memory'];
  if (!redisInstalled) t.diagnostic('redis-server is not installed: the Redis cases are left out');
  const { code, stderr } = await runBench(['--quick', '--runs', '1', '--scenarios', 'storm', '--storm-signals', 'SIGKILL', '--storm-engines', engines.join(','), '--out', out]);
  assert.equal(code, 0, `bench exited with ${code}:\n${stderr.split('\n').filter((l) => !l.startsWith('[')).join('\n')}`);

  const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchReport;
  assert.deepEqual(report.errors, []);
  const cases = report.summary.filter((c) => c.scenario === 'storm');
  const expected = engines.flatMap((e) => [`storm ${e} SDK backoff SIGKILL N=300`, `storm ${e} no backoff SIGKILL N=300`]);
  assert.deepEqual(cases.map((c) => c.name).sort(), expected.sort());
  for (const c of cases) {
    const m = c.medians.herald;
    assert.ok(m !== undefined, `${c.name}: results`);
    assert.equal(c.medians.baseline, undefined, `${c.name}: the storm is Herald only`);
    assert.equal(m.notRecovered, 0, `${c.name}: clients not recovered`);
    assert.ok(Number.isFinite(m.recoveryMs) && (m.recoveryMs ?? -1) >= 0, `${c.name}: time to recover all (${m.recoveryMs})`);
    assert.ok((m.reconnects ?? 0) >= 300, `${c.name}: the new node welcomed every client (${m.reconnects})`);
    assert.ok((m.attempts ?? 0) >= 300, `${c.name}: attempts counted (${m.attempts})`);
    assert.ok((m.deliveries ?? 0) > 0, `${c.name}: deliveries owed`);
    assert.equal(m.lost, 0, `${c.name}: lost`);
    assert.equal(m.duplicates, 0, `${c.name}: duplicates`);
    assert.equal(m.outOfOrder, 0, `${c.name}: out of order`);
    assert.equal(m.unexpected, 0, `${c.name}: messages of another room`);
    if (c.name.includes(' redis ')) {
      assert.equal(m.lostWithNode, 0, `${c.name}: Redis keeps what the dead node confirmed`);
      assert.ok((m.redisUsedMemoryMiB ?? 0) > 0, `${c.name}: Redis memory read`);
    }
    for (const key of ['serverUsPerReconnect', 'serverPeakRssMiB', 'loadgenCpuPct', 'reconnectP50Ms', 'reconnectP99Ms', 'downMs'] as const) {
      assert.ok(Number.isFinite(m[key]), `${c.name}: ${key} = ${m[key]}`);
    }
  }
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(html.includes('Reconnect storm') && html.includes('storm memory SDK backoff SIGKILL'), 'report.html shows the storm table');
  assert.ok(readFileSync(join(out, 'summary.md'), 'utf8').includes('| storm memory no backoff SIGKILL N=300 |'), 'summary.md shows the storm rows');
});
