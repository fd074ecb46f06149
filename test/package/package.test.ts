// The package as a user gets it: `npm pack`, installed from the tarball into an empty folder,
// gives `npx herald serve`, the SDK as `herald/client` (ESM, types, no server code), the
// embeddable server as `herald` (types that check), and the browser bundle at its documented path.
// Runs against the dist/ that `npm test` just built (packing with --ignore-scripts, so the
// prepack build does not rewrite dist/ under the running tests).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort, repoRoot } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { name: string; version: string; files: string[]; scripts: Record<string, string> };

let dir: string;
let tarball: string;
let server: ChildProcess | undefined;

// No HERALD_* from the developer's shell; npm quiet and offline-first (its cache has every dependency).
const env = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_') && !k.startsWith('npm_'))),
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_prefer_offline: 'true',
});

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-package-'));
  const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: repoRoot, env: env() });
  tarball = join(dir, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
  const app = join(dir, 'app');
  await run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }));
  await run(npm, ['install', tarball], { cwd: app, env: env(), timeout: 120_000 });
});

after(async () => {
  if (server) {
    // npx runs herald as its child: signal the whole group (its own, see detached below), then
    // wait until every holder of its output pipe (npx, herald) is gone.
    const closed = new Promise((r) => server!.stdout!.once('close', r));
    const kill = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-server!.pid!, signal);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), 10_000);
    await closed;
    clearTimeout(timer);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds the built server, SDK, dashboard and browser bundle, and no tests or benchmarks', async () => {
  const list = await run('tar', ['-tzf', tarball]);
  const files = list.stdout.split('\n').filter(Boolean);
  for (const f of ['package/bin/herald.js', 'package/dist/src/index.js', 'package/dist/src/index.d.ts', 'package/dist/src/cli/index.js', 'package/dist/client/index.js', 'package/dist/client/index.d.ts', 'package/dist/client/herald.browser.js', 'package/dist/web/index.html', 'package/README.md']) {
    assert.ok(files.includes(f), `${f} is missing from the tarball`);
  }
  assert.deepEqual(files.filter((f) => /dist\/(test|bench)\/|\.ts$(?<!\.d\.ts$)|client\/build\./.test(f)), []);
  assert.equal(pkg.scripts.prepack, 'npm run build', 'npm pack must build dist/ first');
});

test('npx herald serve runs from the installed package; herald/client registers and receives', async () => {
  const app = join(dir, 'app');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  server = spawn('npx', ['--no-install', 'herald', 'serve', '--port', String(port)], { cwd: app, env: env(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor(`herald listening (log: ${log})`, () => log.includes('herald listening on') || server!.exitCode !== null, 20_000);
  assert.match(log, new RegExp(`herald listening on ${base} \\(dashboard: ${base}/`));

  writeFileSync(
    join(app, 'receive.mjs'),
    `import { HeraldClient } from 'herald/client';
const reg = await (await fetch('${base}/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: 7, topics: ['news'] }) })).json();
const client = new HeraldClient(reg.url);
client.on('message', async (m) => { console.log(JSON.stringify({ topic: m.topic, data: m.data, offset: m.offset })); await client.close(); });
await client.connect();
console.log('connected');
`,
  );
  const receiver = spawn(process.execPath, ['receive.mjs'], { cwd: app, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  receiver.stdout.on('data', (d: Buffer) => (out += d.toString()));
  receiver.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => receiver.once('exit', r));
  await waitFor(`the receiver to connect (output: ${out})`, () => out.includes('connected') || receiver.exitCode !== null, 15_000);
  // Published with the installed CLI, from stdin as a user would.
  const published = await run('sh', ['-c', `echo hello | npx --no-install herald publish news - --server ${base}`], { cwd: app, env: env() });
  assert.equal(published.stdout, 'published to news at offset 1\n');
  assert.equal(await exited, 0, out);
  assert.equal(out, 'connected\n{"topic":"news","data":"hello","offset":1}\n');
});

test("the installed 'herald' embeds in a plain node:http server under a prefix", async () => {
  const app = join(dir, 'app');
  writeFileSync(
    join(app, 'embed.mjs'),
    `import { createServer } from 'node:http';
import { createHerald } from 'herald';
import { HeraldClient } from 'herald/client';

const herald = await createHerald();
const server = createServer((req, res) => res.end('my app'));
herald.attach(server, { prefix: '/realtime' });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const host = '127.0.0.1:' + server.address().port;
const { url } = await herald.register({ user_id: 1, topics: ['news'] }, { host });
const client = new HeraldClient(url);
const got = new Promise((resolve) => client.on('message', (m) => resolve(m.data)));
await client.connect();
await herald.publish('news', { hello: 'embedded' });
console.log(JSON.stringify({ url: url.replace(/[0-9a-f]{32}$/, 'ID'), data: await got, app: await (await fetch('http://' + host + '/')).text() }));
await client.close();
server.close();
await herald.close();
`,
  );
  const { stdout } = await run(process.execPath, ['embed.mjs'], { cwd: app, env: env(), timeout: 20_000 });
  const port = /127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
  assert.deepEqual(JSON.parse(stdout), { url: `ws://127.0.0.1:${port}/realtime/ws/ID`, data: { hello: 'embedded' }, app: 'my app' });
});

test('herald/client pulls in no server code: its import graph stays in dist/client and dist/src/protocol', async () => {
  const app = join(dir, 'app');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "console.log(new URL(import.meta.resolve('herald/client')).pathname + '\\n' + new URL(import.meta.resolve('herald/browser')).pathname)"], { cwd: app });
  const [entry, browser] = stdout.trim().split('\n') as [string, string];
  const root = join(app, 'node_modules/herald');
  assert.equal(relative(root, browser), 'dist/client/herald.browser.js');
  assert.ok(existsSync(browser));
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolvePath(dirname(file), spec));
      else bare.add(spec);
    }
  };
  visit(entry);
  const outside = [...seen].map((f) => relative(root, f)).filter((f) => !f.startsWith('dist/client/') && !f.startsWith('dist/src/protocol/'));
  assert.deepEqual(outside, []);
  assert.deepEqual([...bare], ['ws'], 'only the lazy ws import (Node without a global WebSocket)');
  assert.ok(seen.size >= 10, `only ${seen.size} files reached`);
});

/** The README's SDK example, and the server command its first line names. */
function readmeExample(): { code: string; serveArgs: string[] } {
  const readme = readFileSync(`${repoRoot}README.md`, 'utf8');
  const code = /```ts\n(\/\/ Against `npx herald serve[^`]*`[^\n]*\n[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'README: no SDK example starting with "// Against `npx herald serve ...`"');
  const command = /`npx herald serve ([^`]*)`/.exec(code)![1]!;
  const serveArgs = [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  return { code, serveArgs };
}

test("README's SDK example runs as written against the server its first line names", async () => {
  const app = join(dir, 'app');
  const { code, serveArgs } = readmeExample();
  assert.deepEqual(serveArgs, ['--client-publish', 'chat.*']);
  const port = await freePort();
  const readmeServer = spawn(process.execPath, [join(app, 'node_modules/herald/bin/herald.js'), 'serve', ...serveArgs, '--port', String(port)], { cwd: app, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  readmeServer.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  readmeServer.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  try {
    await waitFor(`herald listening (log: ${log})`, () => log.includes('herald listening on') || readmeServer.exitCode !== null, 20_000);
    const { transformSync } = await import('esbuild');
    const js = transformSync(code.replaceAll('http://127.0.0.1:8000', `http://127.0.0.1:${port}`), { loader: 'ts', format: 'esm', target: 'es2022' }).code;
    writeFileSync(join(app, 'readme-example.mjs'), js);
    const result = await run(process.execPath, ['readme-example.mjs'], { cwd: app, env: env(), timeout: 20_000 });
    assert.deepEqual(
      result.stdout.split('\n').filter((l) => l.startsWith('lobby:')),
      ['lobby: hi', 'lobby: bye'],
      result.stdout + result.stderr,
    );
    assert.match(result.stdout, /^connecting {3}\nconnected {3}\n/);
  } finally {
    readmeServer.kill('SIGTERM');
    if (readmeServer.exitCode === null) await new Promise((r) => readmeServer.once('exit', r));
  }
});

test('a TypeScript file, and the README example, type-check against the installed types (strict, skipLibCheck off)', async () => {
  const app = join(dir, 'app');
  writeFileSync(join(app, 'readme-example.ts'), readmeExample().code);
  writeFileSync(
    join(app, 'check.ts'),
    `import { createServer } from 'node:http';
import { HeraldClient, HeraldError, type HeraldMessage } from 'herald/client';
import { createHerald, type Config } from 'herald';

const client = new HeraldClient('ws://127.0.0.1:1/ws/x', { backoff: { minMs: 100 } });
client.on('message', (m: HeraldMessage) => console.log(m.offset.toFixed(0)));
const alerts = client.subscribe<{ level: string }>('alerts');
alerts.on('message', (m) => console.log(m.data?.level.toUpperCase()));
client.publish('chat.lobby', { text: 'hi' }).catch((err: unknown) => console.log(err instanceof HeraldError && err.code));

const settings: Partial<Config> = { clientPublish: ['chat.*'], heartbeatMs: 25_000 };
const herald = await createHerald(settings);
herald.attach(createServer(), { prefix: '/realtime' });
const { offset }: { offset: number } = await herald.publish('news', { a: 1 }, { userId: 42 });
console.log(offset);
// @ts-expect-error: a topic is a string (were the types \`any\`, this would be an unused directive)
await herald.publish(42, 'x');
// @ts-expect-error: the subscription's data is typed
alerts.on('message', (m) => m.data?.nope);
await herald.close();
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(repoRoot, 'node_modules/@types')] },
      files: ['check.ts', 'readme-example.ts'],
    }),
  );
  const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
  const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((err: { stdout: string; code: number }) => err);
  assert.equal('code' in result ? result.code : 0, 0, result.stdout);
});
