// `npm run bench`: Herald against the naive baseline, each pinned to core 0 with the load
// generator on core 1, scenario by scenario, run after run; writes results/latest.json and
// results/report.html and prints a Markdown summary. Loopback only; it stops only what it started.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { openFileLimit } from './proc-stats.js';
import { Progress } from './progress.js';
import { LoadgenProcess } from './loadgen-process.js';
import { heraldBuilt, startServer, type RunningServer, type Target } from './servers.js';
import { fullScale, quickScale, runScenario, scenarioNames, type CaseResult, type Scale, type ScenarioName } from './scenarios.js';
import { cluster } from './cluster.js';
import { storm, stormEngines, stormKinds, stormSignals, type StormEngine, type StormSignal } from './storm.js';
import type { StormClientKind } from './storm-protocol.js';
import { machineInfo, sourceInfo, summarize, type BenchReport, type RunRecord } from './report.js';
import { renderHtml } from './report-html.js';
import { renderMarkdown } from './report-markdown.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Options {
  quick: boolean;
  scenarios: ScenarioName[];
  runs: number;
  target: 'herald' | 'baseline' | 'both';
  out: string;
  maxMinutes: number;
  nodeFlags: string[];
  fanoutSizes?: number[];
  idleSizes?: number[];
  stormClients?: number;
  stormEngines?: StormEngine[];
  stormKinds?: StormClientKind[];
  stormSignals?: StormSignal[];
  render?: string;
}

function positiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function sizeList(raw: string): number[] {
  return raw.split(',').map((part) => positiveInt(part.trim()));
}

function oneOf<T extends string>(allowed: readonly T[]): (raw: string) => T[] {
  return (raw) => {
    const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
    for (const item of list) if (!(allowed as readonly string[]).includes(item)) throw new InvalidArgumentError(`"${item}": choose from ${allowed.join(', ')}`);
    return list as T[];
  };
}

function scenarioList(raw: string): ScenarioName[] {
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(scenarioNames as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(`unknown scenario "${name}"; choose from ${scenarioNames.join(', ')}`);
    }
  }
  return names as ScenarioName[];
}

function parseOptions(argv: string[]): Options {
  const program = new Command('bench')
    .description(
      'Benchmark Herald against a naive baseline of the same API (bench/baseline-server.ts).\n' +
        'Each server runs pinned to core 0, the load generator to core 1; server CPU is read from /proc/PID/stat.\n' +
        'The cluster scenario (Herald only) starts a throwaway redis-server and compares one Herald node on\n' +
        'core 0 with two (cores 0 and 1) sharing it, plus the memory engine on core 0; Redis and the load\n' +
        'generator are not pinned there (see BENCHMARKS.md). The storm scenario (Herald only) restarts one node\n' +
        'under N connected clients (SDK with backoff, raw with none; memory and Redis engines) and times their return.',
    )
    .option('--quick', 'small sizes, seconds per scenario (what the smoke test runs)', false)
    .option('--scenarios <list>', `comma-separated: ${scenarioNames.join(', ')}`, scenarioList, [...scenarioNames])
    .option('--runs <n>', 'runs of every scenario; the report shows medians (default 3, 1 with --quick)', positiveInt)
    .option('--target <which>', 'herald, baseline or both', 'both')
    .option('--out <dir>', 'where latest.json, report.html and logs go', join(root, 'bench', 'results'))
    .option('--max-minutes <n>', 'stop starting new scenarios after this long', positiveInt, 30)
    .option('--node-flags <flags>', 'extra node flags for both servers, space-separated (e.g. "--cpu-prof")', '')
    .option('--fanout-sizes <list>', 'subscriber counts of the fan-out scenario (default 1000,5000,10000)', sizeList)
    .option('--idle-sizes <list>', 'connection counts of the idle scenario, cumulative (default 10000,100000)', sizeList)
    .option('--storm-clients <n>', 'clients of the storm scenario (default 10000; 300 with --quick)', positiveInt)
    .option('--storm-engines <list>', `storm scenario engines (default ${stormEngines.join(',')})`, oneOf(stormEngines))
    .option('--storm-kinds <list>', `storm scenario clients: sdk (HeraldClient, its backoff), raw (no backoff) (default ${stormKinds.join(',')})`, oneOf(stormKinds))
    .option('--storm-signals <list>', `how the storm scenario stops its node, in order (default ${stormSignals.join(',')})`, oneOf(stormSignals))
    .option('--render <json>', 'run nothing: re-render report.html and summary.md (into --out) from a saved report JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  npm run bench\n  node dist/bench/run.js --quick --runs 1\n  node dist/bench/run.js --scenarios fanout --target herald --runs 5\n',
    )
    .parse(argv);
  const o = program.opts<{
    quick: boolean;
    scenarios: ScenarioName[];
    runs?: number;
    target: string;
    out: string;
    maxMinutes: number;
    nodeFlags: string;
    fanoutSizes?: number[];
    idleSizes?: number[];
    stormClients?: number;
    stormEngines?: StormEngine[];
    stormKinds?: StormClientKind[];
    stormSignals?: StormSignal[];
    render?: string;
  }>();
  if (!['herald', 'baseline', 'both'].includes(o.target)) program.error(`--target must be herald, baseline or both, got "${o.target}"`);
  return {
    quick: o.quick,
    scenarios: o.scenarios,
    runs: o.runs ?? (o.quick ? 1 : 3),
    target: o.target as Options['target'],
    out: resolve(o.out),
    maxMinutes: o.maxMinutes,
    nodeFlags: o.nodeFlags.split(' ').filter(Boolean),
    ...(o.fanoutSizes !== undefined ? { fanoutSizes: o.fanoutSizes } : {}),
    ...(o.idleSizes !== undefined ? { idleSizes: o.idleSizes } : {}),
    ...(o.stormClients !== undefined ? { stormClients: o.stormClients } : {}),
    ...(o.stormEngines !== undefined ? { stormEngines: o.stormEngines } : {}),
    ...(o.stormKinds !== undefined ? { stormKinds: o.stormKinds } : {}),
    ...(o.stormSignals !== undefined ? { stormSignals: o.stormSignals } : {}),
    ...(o.render !== undefined ? { render: o.render } : {}),
  };
}

// Processes started by this run, so a Ctrl-C stops exactly them.
const live = new Set<{ stop(): Promise<void> }>();

async function runOne(
  options: Options,
  run: number,
  scenario: ScenarioName,
  target: Target,
  progress: Progress,
  cores: { server: number; loadgen: number },
): Promise<RunRecord> {
  const logFile = join(options.out, 'logs', `${target}-${scenario}-run${run}.log`);
  let server: RunningServer | null = null;
  let loadgen: LoadgenProcess | null = null;
  // The storm scenario sets up N clients four times and restarts a node twice each time.
  const timeoutMs = (scenario === 'storm' ? (options.quick ? 150 : 1200) : options.quick ? 60 : 300) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const base = options.quick ? quickScale : fullScale;
  const scale: Scale = {
    ...base,
    fanoutSizes: options.fanoutSizes ?? base.fanoutSizes,
    idleSizes: options.idleSizes ?? base.idleSizes,
    stormClients: options.stormClients ?? base.stormClients,
  };
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${scenario} on ${target} took longer than ${timeoutMs / 1000} s`)), timeoutMs);
  });
  timeout.catch(() => undefined); // raced below; cleared before it fires when all goes well
  if (scenario === 'cluster' || scenario === 'storm') {
    // Its own processes (Redis, one or two Herald nodes, a load generator per layout).
    const owned = new Set<{ stop(): Promise<void> }>();
    const track = (p: { stop(): Promise<void> }): void => {
      owned.add(p);
      live.add(p);
    };
    const ctx = {
      root,
      logDir: join(options.out, 'logs'),
      run,
      nodeFlags: options.nodeFlags,
      scale,
      progress: (t: string) => progress.phase(t),
      track,
      ...(options.stormEngines ? { engines: options.stormEngines } : {}),
      ...(options.stormKinds ? { kinds: options.stormKinds } : {}),
      ...(options.stormSignals ? { signals: options.stormSignals } : {}),
    };
    const done: CaseResult[] = [];
    try {
      return { run, target, scenario, cases: await Promise.race([scenario === 'cluster' ? cluster(ctx) : storm(ctx, done), timeout]) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { run, target, scenario, cases: [...done], error: `${target} ${scenario} run ${run}: ${message}` };
    } finally {
      clearTimeout(timer);
      progress.phase('stopping');
      for (const p of owned) {
        await p.stop();
        live.delete(p);
      }
    }
  }
  try {
    progress.phase(`starting ${target}`);
    server = await startServer({ target, root, core: cores.server, logFile, nodeFlags: options.nodeFlags });
    live.add(server);
    loadgen = await LoadgenProcess.start(root, cores.loadgen, server.port);
    live.add(loadgen);
    const ctx = { server, loadgen, scale, progress: (text: string) => progress.phase(text) };
    const cases = await Promise.race([runScenario(scenario, ctx), timeout]);
    return { run, target, scenario, cases };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { run, target, scenario, cases: [], error: `${target} ${scenario} run ${run}: ${message}` };
  } finally {
    clearTimeout(timer);
    progress.phase('stopping');
    if (loadgen !== null) {
      await loadgen.stop();
      live.delete(loadgen);
    }
    if (server !== null) {
      await server.stop();
      live.delete(server);
    }
  }
}

function writeReports(report: BenchReport, out: string, writeJson: boolean): string {
  mkdirSync(out, { recursive: true });
  if (writeJson) writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, 'report.html'), renderHtml(report));
  const markdown = renderMarkdown(report);
  writeFileSync(join(out, 'summary.md'), markdown);
  return markdown;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv);
  if (options.render !== undefined) {
    const saved = JSON.parse(readFileSync(options.render, 'utf8')) as BenchReport;
    process.stdout.write(writeReports(saved, options.out, false));
    process.stdout.write(`report: ${join(options.out, 'report.html')}\n`);
    return 0;
  }
  let targets: Target[] = options.target === 'both' ? ['herald', 'baseline'] : [options.target];
  if (targets.includes('herald') && !heraldBuilt(root)) {
    process.stderr.write('bench: Herald is not built (dist/src/cli/index.js is missing): run `npm run build`, or pass --target baseline.\n');
    return 2;
  }
  if (!existsSync(join(root, 'dist', 'bench', 'baseline-server.js')) && targets.includes('baseline')) {
    process.stderr.write('bench: dist/bench/baseline-server.js is missing: run `npm run build`.\n');
    return 2;
  }
  const cores = availableParallelism() >= 2 ? { server: 0, loadgen: 1 } : { server: 0, loadgen: 0 };
  if (cores.loadgen === cores.server) process.stderr.write('bench: only one core: server and load generator share it; CPU figures still hold.\n');
  mkdirSync(join(options.out, 'logs'), { recursive: true });
  const startedAt = new Date();
  const source = sourceInfo(root);
  const deadline = Date.now() + options.maxMinutes * 60_000;
  // The cluster scenario measures Herald layouts only (one vs two nodes on Redis), and the naive
  // baseline has no SSE: no baseline for either.
  // The storm scenario restarts Herald under its clients, which the baseline cannot resume.
  const targetsOf = (scenario: ScenarioName): Target[] => (scenario === 'cluster' || scenario === 'fanout-sse' || scenario === 'storm' ? targets.filter((t) => t === 'herald') : targets);
  const steps = options.scenarios.reduce((n, s) => n + targetsOf(s).length, 0);
  const progress = new Progress(options.runs * steps);
  const records: RunRecord[] = [];
  const errors: string[] = [];
  outer: for (let run = 1; run <= options.runs; run++) {
    for (const scenario of options.scenarios) {
      // Alternate who goes first so a noisy neighbour does not always hit the same target.
      const order = run % 2 === 1 ? targetsOf(scenario) : [...targetsOf(scenario)].reverse();
      for (const target of order) {
        if (Date.now() > deadline) {
          errors.push(`time budget of ${options.maxMinutes} min reached: stopped before run ${run} ${scenario} ${target}`);
          break outer;
        }
        progress.step(`run ${run}/${options.runs} ${scenario} ${target}`);
        const record = await runOne(options, run, scenario, target, progress, cores);
        records.push(record);
        if (record.error !== undefined) errors.push(record.error);
        progress.finish();
      }
    }
  }
  progress.end();
  targets = [...targets];
  const report: BenchReport = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    source,
    machine: machineInfo(openFileLimit()),
    options: { quick: options.quick, runs: options.runs, scenarios: options.scenarios, targets },
    summary: summarize(records),
    runs: records,
    errors,
  };
  const markdown = writeReports(report, options.out, true);
  process.stdout.write(`\n${markdown}\nreport: ${join(options.out, 'report.html')}\njson:   ${join(options.out, 'latest.json')}\n`);
  const lost = report.summary.some((c) => Object.values(c.medians).some((m) => (m?.lost ?? 0) > 0 || (m?.unexpected ?? 0) > 0));
  for (const e of errors) process.stderr.write(`bench: ${e}\n`);
  if (lost) process.stderr.write('bench: messages were lost (see the lost column)\n');
  return errors.length > 0 || lost ? 1 : 0;
}

async function stopAll(signal: NodeJS.Signals): Promise<void> {
  process.stderr.write(`\nbench: ${signal}, stopping the processes it started\n`);
  await Promise.all([...live].map((p) => p.stop()));
  process.exit(130);
}
process.once('SIGINT', (s) => void stopAll(s));
process.once('SIGTERM', (s) => void stopAll(s));

process.exitCode = await main();
