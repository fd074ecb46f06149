// `npm run chaos`: three Herald nodes on one Redis behind nginx, a few thousand clients, steady
// publishes, and a fault every 10-20 s; writes chaos-report.json and chaos-report.html into
// --out and prints a summary. Loopback only; stops by itself; stops only what it started.
// Exit code 1 when an SDK client lost, repeated or reordered a message.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { Progress } from '../progress.js';
import { runChaos, type ChaosOptions } from './chaos.js';
import { faultKinds, type FaultKind } from './faults.js';
import { chaosReport, chaosSummary } from './report.js';
import { renderChaosHtml } from './report-html.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function positiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function kindList(raw: string): FaultKind[] {
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(faultKinds as readonly string[]).includes(n)) throw new InvalidArgumentError(`unknown fault "${n}"; choose from ${faultKinds.join(', ')}`);
  return names as FaultKind[];
}

const program = new Command('chaos')
  .description(
    'Three Herald nodes on one redis-server behind nginx (examples/nginx.conf), SDK and plain WebSocket clients,\n' +
      'steady publishes through every node, and every 10-20 s one fault at random. Reports loss, duplicates and\n' +
      'order per client kind, recovery time per fault, and each node\'s RSS over time. Loopback only.',
  )
  .option('--minutes <n>', 'how long faults are injected', positiveInt, 10)
  .option('--seconds <n>', 'the same in seconds (wins over --minutes; for short runs)', positiveInt)
  .option('--sdk-clients <n>', 'herald.v1 clients through the SDK (client/)', positiveInt, 1500)
  .option('--plain-clients <n>', 'plain-protocol WebSocket clients', positiveInt, 1500)
  .option('--rooms <n>', 'broadcast topics; each client holds two', positiveInt, 300)
  .option('--inboxes <n>', 'user-addressed topics; each client holds its user\'s', positiveInt, 20)
  .option('--users <n>', 'users the clients belong to (default: clients / 3)', positiveInt)
  .option('--rate <n>', 'publishes per second (80% to rooms, 20% to one user)', positiveInt, 100)
  .option('--faults <list>', `comma-separated: ${faultKinds.join(', ')}`, kindList, [...faultKinds])
  .option('--seed <n>', 'seed of every random choice', positiveInt)
  .option('--out <dir>', 'where chaos-report.json, chaos-report.html and the logs go', join(root, 'bench', 'results', 'chaos'))
  .addHelpText('after', '\nExamples:\n  npm run chaos\n  npm run chaos -- --seconds 60 --sdk-clients 200 --plain-clients 200\n')
  .parse(process.argv);

const o = program.opts<{
  minutes: number;
  seconds?: number;
  sdkClients: number;
  plainClients: number;
  rooms: number;
  inboxes: number;
  users?: number;
  rate: number;
  faults: FaultKind[];
  seed?: number;
  out: string;
}>();
const seconds = o.seconds ?? o.minutes * 60;
const out = resolve(o.out);
mkdirSync(join(out, 'logs'), { recursive: true });
const progress = new Progress(1);
progress.step('chaos');
const options: ChaosOptions = {
  root,
  dir: join(out, 'logs'),
  seconds,
  sdkClients: o.sdkClients,
  plainClients: o.plainClients,
  rooms: o.rooms,
  inboxes: o.inboxes,
  users: o.users ?? Math.max(1, Math.round((o.sdkClients + o.plainClients) / 3)),
  publishesPerSecond: o.rate,
  faultGapMs: [10_000, 20_000],
  faults: o.faults,
  seed: o.seed ?? Math.floor(Math.random() * 2 ** 31),
  nodeArgs: [],
  progress: (line) => progress.phase(line),
};

// Bounded: past the run, the drain and some slack, the run is cancelled (and still cleans up).
const controller = new AbortController();
const watchdog = setTimeout(() => controller.abort(), (seconds + 300) * 1000);
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());
const command = `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim();
try {
  const result = await runChaos(options, controller.signal);
  progress.end();
  const report = chaosReport(root, command, options, result);
  writeFileSync(join(out, 'chaos-report.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(join(out, 'chaos-report.html'), renderChaosHtml(report));
  process.stdout.write(`${chaosSummary(report)}\nreport: ${join(out, 'chaos-report.html')} (seed ${options.seed})\n`);
  const bad = result.sdk.lost + result.sdk.duplicates + result.sdk.orderViolations;
  process.exitCode = bad > 0 || !result.drained ? 1 : 0;
} catch (err) {
  progress.end();
  process.stderr.write(`chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 2;
} finally {
  clearTimeout(watchdog);
}
