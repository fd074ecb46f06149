import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactingSerializers } from '../../../src/core/log-redact.js';

test('an error logged with the Redis command that failed loses the command (its keys name registration ids)', () => {
  const err = Object.assign(new Error('OOM command not allowed'), { command: { name: 'hgetall', args: ['herald:{r:0123456789abcdef0123456789abcdef}'] } });
  const out = redactingSerializers.err!(err) as Record<string, unknown>;
  assert.equal(out['message'], 'OOM command not allowed');
  assert.equal(out['command'], undefined);
  assert.ok(!JSON.stringify(out).includes('0123456789abcdef'));
});
