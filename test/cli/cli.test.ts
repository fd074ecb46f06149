// The real `herald` binary against a real server: register, listen, publish, unregister.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, startHerald } from '../helpers/server.js';
import { LiveCli, runCli } from './run-cli.js';
import type { TestServer } from '../helpers/server.js';

let server: TestServer;
let env: Record<string, string>;
const live: LiveCli[] = [];
before(async () => {
  server = await startHerald();
  env = { HERALD_SERVER: server.base };
});
after(async () => {
  for (const l of live) l.kill();
  await server.close();
});

function listen(args: string[]): LiveCli {
  const l = new LiveCli(['listen', ...args], env);
  live.push(l);
  return l;
}

test('register prints the id and URL; --json prints the server answer; unregister deletes it', async () => {
  const text = await runCli(['register', '--user', '42', '--topics', 'a,b'], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^id {6}[0-9a-f]{32}\nurl {5}ws:\/\/127\.0\.0\.1:\d+\/ws\/[0-9a-f]{32}\ntopics {2}a,b\n$/);

  const json = await runCli(['register', '--user', 'alice', '--json'], { env });
  assert.equal(json.code, 0, json.stderr);
  const reg = JSON.parse(json.stdout) as { id: string; url: string; topics: string[] };
  assert.ok(reg.url.endsWith(`/ws/${reg.id}`));

  const gone = await runCli(['unregister', reg.id], { env });
  assert.deepEqual(gone, { code: 0, stdout: `unregistered ${reg.id}\n`, stderr: '' });
  const again = await runCli(['unregister', reg.id], { env });
  assert.equal(again.code, 4);
  assert.equal(again.stderr, 'herald unregister: no registration has this id: register again with `herald register` (unknown_client, HTTP 404)\n');
});

test('listen prints text, JSON and binary messages from publish in order, then exits after --count', async () => {
  const reg = JSON.parse((await runCli(['register', '--user', '7', '--topics', 'news', '--json'], { env })).stdout) as { url: string };
  const listener = listen([reg.url, '--count', '4']);
  await listener.waitFor('stderr', /connected as/);
  const file = join(tmpdir(), `herald-cli-${process.pid}.bin`);
  writeFileSync(file, Buffer.from([0, 1, 2, 255]));
  for (const args of [['news', 'hello world'], ['news', '--data', '{"n":1}'], ['news', '--file', file]]) {
    const r = await runCli(['publish', ...args], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^published to news at offset \d+\n$/);
  }
  // As `echo from stdin | herald publish news -` sends it: the trailing newline is not part of the message.
  const piped = await runCli(['publish', 'news', '-', '--json'], { env, stdin: 'from stdin\n' });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal((JSON.parse(piped.stdout) as { offset: number }).offset, 4);
  assert.equal(await listener.exitCode(), 0);
  assert.equal(listener.stdout, `hello world\n{"n":1}\n${Buffer.from([0, 1, 2, 255]).toString('base64')}\nfrom stdin\n`);
});

test('listen --user registers, prints JSON lines, and unregisters its registration on Ctrl-C', async () => {
  const listener = listen(['--user', 'bob', '--topics', 'alerts', '--json']);
  const [, id] = await listener.waitFor('stderr', /registered ([0-9a-f]{32})/);
  await listener.waitFor('stderr', /connected as/);
  // Addressed to another user: bob's listener must not print it.
  assert.equal((await runCli(['publish', 'alerts', '--user', 'carol', 'not for bob'], { env })).code, 0);
  assert.equal((await runCli(['publish', 'alerts', '--user', 'bob', '--data', '[1,2]'], { env })).code, 0);
  await listener.waitFor('stdout', /\n/);
  const line = JSON.parse(listener.stdout.trim()) as Record<string, unknown>;
  assert.deepEqual({ ...line, epoch: typeof line.epoch, ts: typeof line.ts }, { topic: 'alerts', offset: 2, epoch: 'string', ts: 'number', data: [1, 2] });
  listener.child.kill('SIGINT');
  assert.equal(await listener.exitCode(), 0);
  const gone = await runCli(['unregister', id as string], { env });
  assert.equal(gone.code, 4, 'listen should have deleted its own registration');
});

test('listen exits 5 with a clear message when its registration is deleted (4001)', async () => {
  const reg = JSON.parse((await runCli(['register', '--user', '8', '--json'], { env })).stdout) as { url: string; id: string };
  const listener = listen([reg.url]);
  await listener.waitFor('stderr', /connected as/);
  assert.equal((await runCli(['unregister', reg.id], { env })).code, 0);
  assert.equal(await listener.exitCode(), 5);
  assert.match(listener.stderr, /closed for good: the registration was deleted \(4001\)/);
});

test('listen exits 6 when another listener takes over the URL (4000); the newer one keeps running', async () => {
  const reg = JSON.parse((await runCli(['register', '--user', '9', '--json'], { env })).stdout) as { url: string };
  const first = listen([reg.url]);
  await first.waitFor('stderr', /connected as/);
  const second = listen([reg.url, '--count', '1']);
  assert.equal(await first.exitCode(), 6);
  assert.match(first.stderr, /replaced by a newer connection of the same client \(4000\)/);
  await second.waitFor('stderr', /connected as/);
  // The first did not come back and take the URL again: the second still receives.
  assert.equal((await runCli(['publish', 'cats', 'still here'], { env })).code, 0);
  assert.equal(await second.exitCode(), 0);
  assert.equal(second.stdout, 'still here\n');
});

test('listen on an unknown registration exits 5 at once', async () => {
  const r = await runCli(['listen', `ws://127.0.0.1:${server.port}/ws/${'0'.repeat(32)}`]);
  assert.equal(r.code, 5);
  assert.match(r.stderr, /no registration has this id/);
});

test('bad arguments exit 2 with a message that says what to fix', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['publish'], /missing required argument 'topic'/],
    [['publish', 'news'], /exactly one of MESSAGE, --data JSON or --file PATH/],
    [['publish', 'news', 'text', '--data', '1'], /exactly one of/],
    [['publish', 'news', '--data', '{nope'], /--data is not valid JSON/],
    [['publish', 'news', '--file', '/nonexistent/file'], /cannot read --file \/nonexistent\/file: ENOENT/],
    [['register'], /required option '--user <id>' not specified/],
    [['register', '--user', '1', '--bogus'], /unknown option '--bogus'/],
    [['listen'], /give a registration URL or --user/],
    [['listen', 'http://127.0.0.1:1/ws/x'], /must be ws:\/\/ or wss:\/\//],
    [['listen', '--user', '1', '--count', 'many'], /--count must be a positive integer/],
    [['unregister'], /missing required argument 'id'/],
    [['register', '--user', '1', '--server', 'not a url'], /--server must be a URL/],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(args, { env })));
  cases.forEach(([args, message], i) => {
    const r = results[i] as { code: number | null; stderr: string };
    assert.equal(r.code, 2, `herald ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, `herald ${args.join(' ')}`);
  });
});

test('no command, or a mistyped one, exits 2 and says so first (with "Did you mean")', async () => {
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^herald: give a command; `herald serve` runs the server\n\nUsage: herald/);
  const typo = await runCli(['regsiter']);
  assert.equal(typo.code, 2);
  assert.equal(typo.stdout, '');
  assert.match(typo.stderr, /^error: unknown command 'regsiter'\n\(Did you mean register\?\)\n/);
  assert.ok(typo.stderr.split('\n').length <= 4, typo.stderr);
  const flag = await runCli(['serve', '--bogus']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /^error: unknown option '--bogus'/);
});

test('--help documents every command and its exit codes', async () => {
  const commands = ['register', 'publish', 'listen', 'unregister'];
  const results = await Promise.all(commands.map((cmd) => runCli([cmd, '--help'])));
  for (const r of results) {
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--server <url>/);
    assert.match(r.stdout, /--api-key <key>/);
    assert.match(r.stdout, /Exit codes:\n {2}0 {2}success/);
  }
});

test('an unreachable server exits 3', async () => {
  const port = await freePort(); // free a moment ago: nothing listens there
  const r = await runCli(['publish', 'news', 'x', '--server', `http://127.0.0.1:${port}`]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, new RegExp(`cannot reach Herald at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
});

test('with an API key: refused without it (exit 4), accepted with --api-key or HERALD_API_KEY', async () => {
  const guarded = await startHerald({ apiKey: 'sekrit' });
  try {
    const base = { HERALD_SERVER: guarded.base };
    const without = await runCli(['register', '--user', '1'], { env: base });
    assert.equal(without.code, 4);
    assert.equal(without.stderr, 'herald register: the server needs an API key: pass --api-key KEY or set HERALD_API_KEY (unauthorized, HTTP 401)\n');
    const wrong = await runCli(['register', '--user', '1', '--api-key', 'nope'], { env: base });
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /refused the API key: check --api-key \(or HERALD_API_KEY\)/);
    assert.doesNotMatch(without.stderr + wrong.stderr, /Authorization|Bearer/);
    assert.equal((await runCli(['register', '--user', '1', '--api-key', 'sekrit'], { env: base })).code, 0);
    assert.equal((await runCli(['publish', 'news', 'x'], { env: { ...base, HERALD_API_KEY: 'sekrit' } })).code, 0);
  } finally {
    await guarded.close();
  }
});
