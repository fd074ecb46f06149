// A short run of the benchmark (--quick: small sizes, one run) so it cannot rot: it must finish,
// lose nothing and write a well-formed report. No timing assertions: the machine is shared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '../../bench/report.js';
import { heraldNodeFlags } from '../../bench/servers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const heraldBuilt = existsSync(join(root, 'dist', 'src', 'cli', 'index.js'));
// The cluster scenario needs a redis-server binary (it starts its own on a free port).
const redisInstalled = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim() !== '';

function runBench(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'dist', 'bench', 'run.js'), ...args], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('bench --quick: both servers, 0 lost, a well-formed report', { timeout: 90_000 }, async (t) => {
  if (!heraldBuilt) t.diagnostic('Herald is not built; benchmarking the baseline only');
  const out = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const target = heraldBuilt ? 'both' : 'baseline';
  const withCluster = heraldBuilt && redisInstalled;
  if (!withCluster) t.diagnostic('redis-server is not installed (or Herald not built): the cluster scenario is left out');
  const scenarios = ['fanout', 'unicast', 'latency', 'idle', ...(withCluster ? ['cluster'] : [])].join(',');
  const { code, stderr } = await runBench(['--quick', '--runs', '1', '--target', target, '--scenarios', scenarios, '--out', out]);
  assert.equal(code, 0, `bench exited with ${code}:\n${stderr.split('\n').filter((l) => !l.startsWith('[')).join('\n')}`);

  const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchReport;
  assert.equal(report.version, 1);
  assert.deepEqual(report.errors, []);
  assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<svg'), 'report.html has a chart');
  const targets = heraldBuilt ? ['herald', 'baseline'] : ['baseline'];
  assert.deepEqual([...report.options.targets].sort(), [...targets].sort());

  const names = report.summary.map((c) => c.name);
  const prefixes = ['fanout S=', 'unicast U=', 'unicast batch=', 'latency ', 'idle N=', 'connect N='];
  if (withCluster) prefixes.push('cluster memory ×1 ', 'cluster redis ×1 ', 'cluster redis ×2 ');
  for (const prefix of prefixes) {
    assert.ok(names.some((n) => n.startsWith(prefix)), `a "${prefix}..." case in ${names.join(', ')}`);
  }
  for (const c of report.summary) {
    assert.equal(c.skipped, undefined, `${c.name} was skipped: ${c.skipped ?? ''}`);
    if (c.scenario === 'cluster') assert.equal(c.medians.baseline, undefined, `${c.name}: the cluster scenario is Herald only`);
    if (c.name.startsWith('cluster redis ×2')) {
      for (const key of ['scaleRatio', 'node2UsPerDelivery', 'redisCpuPct', 'machineCpuPct'] as const) {
        assert.ok(Number.isFinite(c.medians.herald?.[key]), `${c.name}: ${key}`);
      }
    }
    for (const target of c.scenario === 'cluster' ? ['herald'] : targets) {
      const m = c.medians[target as 'herald' | 'baseline'];
      assert.ok(m !== undefined, `${c.name}: ${target} has results`);
      for (const [key, value] of Object.entries(m)) assert.ok(Number.isFinite(value), `${c.name} ${target} ${key} = ${value}`);
      if (c.scenario === 'idle') {
        assert.ok(m.connections !== undefined && m.connections > 0, `${c.name} ${target} connections`);
        continue;
      }
      assert.equal(m.lost, 0, `${c.name} ${target}: lost messages`);
      assert.equal(m.unexpected, 0, `${c.name} ${target}: unexpected deliveries`);
      assert.equal(m.httpErrors, 0, `${c.name} ${target}: HTTP errors`);
      assert.equal(m.orderMismatches, 0, `${c.name} ${target}: subscribers saw different orders`);
      assert.ok((m.deliveries ?? 0) > 0, `${c.name} ${target}: deliveries`);
      for (const key of ['throughput', 'serverUsPerDelivery', 'serverUsPerPublish', 'loadgenCpuPct'] as const) {
        assert.ok(m[key] !== undefined && Number.isFinite(m[key]), `${c.name} ${target}: ${key}`);
      }
      if (c.scenario === 'latency') assert.ok(m.p99Ms !== undefined && m.p99Ms >= 0, `${c.name} ${target}: p99`);
      // Herald reports how many messages its writes carried: every write carries at least one.
      if (target === 'herald' && c.scenario !== 'cluster') assert.ok(m.messagesPerWrite !== undefined && m.messagesPerWrite >= 1, `${c.name}: messages per write ${m.messagesPerWrite}`);
    }
  }
});

test('the benchmark runs Herald with the node flags of npm start', () => {
  const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  for (const flag of heraldNodeFlags) assert.ok(start.includes(` ${flag} `), `package.json start (${start}) runs node with ${flag}`);
});
