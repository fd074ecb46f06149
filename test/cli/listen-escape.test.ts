// Issue 11 (low): `herald listen` wrote control characters raw to the terminal, so a publisher
// could send ESC sequences to a reader's terminal or forge lines. In text mode every message
// is now one line with its control characters escaped; --json stays exact.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { escapeControls } from '../../src/cli/listen.js';
import { publish, register } from '../helpers/http.js';
import { startHerald, type TestServer } from '../helpers/server.js';
import { LiveCli } from './run-cli.js';

let server: TestServer;
before(async () => {
  server = await startHerald();
});
after(() => server.close());

const hostile = 'line1\nforged line\r\u001b]0;pwned\u0007\u001b[2J\u009b31m\u2028end\tok';

test('listen (text mode) prints each message on one line with control characters escaped; --json is exact', async () => {
  const reg = await register(server.base, 'reader', ['esc']);
  const text = new LiveCli(['listen', reg.url, '--count', '2'], { HERALD_SERVER: server.base });
  const reg2 = await register(server.base, 'reader2', ['esc']);
  const json = new LiveCli(['listen', reg2.url, '--count', '2', '--json'], { HERALD_SERVER: server.base });
  try {
    await text.waitFor('stderr', /connected as/);
    await json.waitFor('stderr', /connected as/);
    await publish(server.base, { topic: 'esc', message: hostile });
    await publish(server.base, { topic: 'esc', message: 'plain é ü 😀' });
    assert.equal(await text.exitCode(), 0);
    assert.equal(text.stdout, 'line1\\nforged line\\r\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u2028end\\tok\nplain é ü 😀\n');
    assert.doesNotMatch(text.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028]/, 'no raw control character but the line ends');
    assert.equal(await json.exitCode(), 0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { data: string });
    assert.deepEqual(lines.map((l) => l.data), [hostile, 'plain é ü 😀']);
  } finally {
    text.kill();
    json.kill();
  }
});

test('escapeControls leaves ordinary text alone', () => {
  assert.equal(escapeControls('a b/c\\d "e" 😀'), 'a b/c\\d "e" 😀');
  assert.equal(escapeControls('\u0000\u007f'), '\\u0000\\u007f');
});
