// `herald serve --help` tells the truth: every default is printed in the form the setting
// reads, so passing the printed value back gives the same config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, settings } from '../../src/config.js';
import { runCli } from './run-cli.js';

test('every default printed by serve --help, passed back as its flag, gives the default config', async () => {
  const help = await runCli(['serve', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const text = help.stdout.replace(/\s+/g, ' ');
  const raw: Record<string, string> = {};
  for (const x of settings) {
    // The option's own description: up to the next option, which starts with " --".
    const own = new RegExp(` --${x.flag} (?:<value>|\\[bool\\]) ((?:(?! --[a-z]).)*)`).exec(text);
    assert.ok(own, `--${x.flag} is missing from serve --help`);
    const printed = /\(default: ([^)\s]+)\)/.exec(own[1]!)?.[1];
    if (printed !== undefined) raw[x.key] = printed;
  }
  assert.deepEqual(
    { heartbeat: raw.heartbeatMs, flushWindow: raw.flushWindowMs, registrationTtl: raw.registrationTtlMs, maxBodyBytes: raw.maxBodyBytes },
    { heartbeat: '25s', flushWindow: '2ms', registrationTtl: '24h', maxBodyBytes: '1mb' },
  );
  assert.ok(Object.keys(raw).length >= 20, `only ${Object.keys(raw).length} defaults printed`);
  assert.deepEqual(loadConfig({}, raw), loadConfig());
});

test('a bare number for a duration is refused at start with the fix (exit 2)', async () => {
  const r = await runCli(['serve', '--port', '0', '--heartbeat', '25000']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'herald serve: --heartbeat must be a duration with a unit, like 500ms, 30s, 10m or 24h, got "25000"; a bare number has no unit: write 25000ms or 25000s\n');
});
