// The Redis engine saves the cursor of every live session whose topics moved, every second
// (HERALD_CURSOR_SAVE). This compares the two ways of sending N saves: one command at a time as
// each is issued (one socket write each), and saveManyCursors (issued with the socket corked: one
// write per 1,000). Client CPU per save from process.cpuUsage(), against a throwaway redis-server.
//
//   node dist/bench/cursor-saves.js [--saves 5000] [--rounds 4]
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createRedisEngine } from '../src/engines/redis/engine-redis.js';
import { startRedis } from './redis-process.js';

const { values } = parseArgs({ options: { saves: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '4' } } });
const n = Number(values.saves);
const rounds = Number(values.rounds);
const CHUNK = 1000;

const redis = await startRedis(null);
const engine = createRedisEngine(
  { registrationTtlMs: 60_000, historySize: 5, historyTtlMs: 60_000, nodeId: 'bench', redisUrl: redis.url, redisCluster: false },
  undefined,
  { prefix: 'cursor-bench:' },
);
try {
  const deadline = performance.now() + 10_000;
  while (!engine.healthy()) {
    if (performance.now() > deadline) throw new Error('the redis engine did not become healthy');
    await new Promise((r) => setTimeout(r, 50));
  }
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomBytes(16).toString('hex');
    ids.push(id);
    await engine.registry.create({ id, userId: i, topics: ['t'], grants: [], cursors: {}, createdAt: Date.now() }, { perUser: 10, total: 1_000_000 });
  }
  const cpu = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  console.log(`| round | one at a time: CPU per save · wall | saveManyCursors: CPU per save · wall |\n|---|---|---|`);
  for (let round = 1; round <= rounds; round++) {
    let c0 = cpu();
    let t0 = performance.now();
    await Promise.all(ids.map((id, i) => engine.registry.saveCursors(id, { t: { offset: round * n + i, epoch: 'E' } })));
    const single = `${((cpu() - c0) / n).toFixed(1)} µs · ${(performance.now() - t0).toFixed(0)} ms`;
    c0 = cpu();
    t0 = performance.now();
    for (let k = 0; k < n; k += CHUNK) {
      const results = await engine.registry.saveManyCursors(ids.slice(k, k + CHUNK).map((id, i) => ({ id, cursors: { t: { offset: round * n + k + i, epoch: 'F' } } })));
      if (results.some((r) => r.status === 'rejected')) throw new Error('a cursor save failed');
    }
    const many = `${((cpu() - c0) / n).toFixed(1)} µs · ${(performance.now() - t0).toFixed(0)} ms`;
    console.log(`| ${round} | ${single} | ${many} |`);
  }
} finally {
  await engine.close();
  await redis.stop();
}
