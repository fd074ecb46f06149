// docs/operations.md keeps up with the code: every setting, every Herald metric, every close code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { settings, showDefault } from '../../src/config.js';
import { CloseCode } from '../../src/protocol/close-codes.js';
import { repoRoot, startHerald, type TestServer } from '../helpers/server.js';

const doc = readFileSync(`${repoRoot}docs/operations.md`, 'utf8');

describe('docs/operations.md', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald();
  });
  after(() => srv.close());

  it('lists every setting with its variable and flag', () => {
    const missing = settings.filter((x) => !doc.includes(`| \`${x.env}\` | \`--${x.flag}\` |`)).map((x) => x.env);
    assert.deepEqual(missing, []);
  });

  it('shows every default as herald serve --help prints it', () => {
    const row = (x: (typeof settings)[number], shown: string): string => `| \`${x.env}\` | \`--${x.flag}\` | ${shown} |`;
    const wrong = settings
      .filter((x) => !doc.includes(row(x, showDefault(x) || '—')) && !doc.includes(row(x, `\`${showDefault(x)}\``)))
      .map((x) => `${x.env}: ${showDefault(x)}`);
    assert.deepEqual(wrong, []);
  });

  it('describes every herald_* metric /metrics serves', async () => {
    const text = await (await fetch(`${srv.base}/metrics`)).text();
    const names = new Set([...text.matchAll(/^# TYPE (herald_\w+) /gm)].map((m) => m[1]!));
    assert.ok(names.size >= 10, `only ${names.size} herald metrics`);
    assert.deepEqual([...names].filter((n) => !doc.includes(`\`${n}\``)), []);
  });

  it('explains every close code', () => {
    assert.deepEqual(Object.values(CloseCode).filter((c) => !doc.includes(`| ${c} |`)), []);
  });
});
