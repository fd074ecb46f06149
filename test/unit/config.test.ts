import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytes, ConfigError, defaults, duration, loadConfig, settings, showBytes, showDefault, showDuration } from '../../src/config.js';

describe('config', () => {
  test('defaults: port 8000 on 127.0.0.1, memory engine, topic cats', () => {
    const c = loadConfig();
    assert.equal(c.port, 8000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.redisUrl, undefined);
    assert.deepEqual(c.defaultTopics, ['cats']);
    assert.equal(c.heartbeatMs, 25_000);
    assert.equal(c.registrationTtlMs, 24 * 3600 * 1000);
  });

  test('env variables are parsed, flags win over env', () => {
    const c = loadConfig({ HERALD_PORT: '9000', HERALD_MAX_BUFFERED_BYTES: '2mb', HERALD_CLIENT_PUBLISH: 'chat.*, news', HERALD_TRUST_PROXY: 'yes' }, { port: '9100' });
    assert.equal(c.port, 9100);
    assert.equal(c.maxBufferedBytes, 2 * 1024 * 1024);
    assert.deepEqual(c.clientPublish, ['chat.*', 'news']);
    assert.equal(c.trustProxy, true);
  });

  for (const [env, value, pattern] of [
    ['HERALD_PORT', '70000', /HERALD_PORT must be an integer in 0\.\.65535/],
    ['HERALD_PORT', 'eighty', /HERALD_PORT/],
    ['HERALD_REGISTRATION_TTL', 'forever', /duration/],
    ['HERALD_MAX_BODY_BYTES', 'big', /size/],
    ['HERALD_REDIS_URL', 'http://x', /redis: or rediss:/],
    ['HERALD_TRUST_PROXY', 'maybe', /true or false/],
    ['HERALD_LOG_LEVEL', 'loud', /HERALD_LOG_LEVEL must be one of/],
    ['HERALD_HEARTBEAT', '0', /HERALD_HEARTBEAT must be between 100ms and/],
    ['HERALD_CURSOR_SAVE', '0', /HERALD_CURSOR_SAVE must be between/],
    ['HERALD_REGISTRATION_TTL', '0', /HERALD_REGISTRATION_TTL must be between 1s and/],
    ['HERALD_MAX_FRAME_BYTES', '0', /HERALD_MAX_FRAME_BYTES must be between 128 and 1024mb/],
    ['HERALD_MAX_FRAME_BYTES', '3gb', /HERALD_MAX_FRAME_BYTES must be between/],
  ] as const) {
    test(`${env}=${value} is refused with a message naming it`, () => {
      assert.throws(() => loadConfig({ [env]: value }), (err: unknown) => err instanceof ConfigError && pattern.test(err.message));
    });
  }

  test('allowed origins are normalized like browsers send them', () => {
    assert.deepEqual(loadConfig({ HERALD_ALLOWED_ORIGINS: 'https://App.example.com/, http://localhost:3000' }).allowedOrigins, ['https://app.example.com', 'http://localhost:3000']);
  });

  test('durations and sizes', () => {
    assert.equal(duration('500ms', 'x'), 500);
    assert.equal(duration('0', 'x'), 0);
    assert.equal(duration('10m', 'x'), 600_000);
    assert.equal(duration('1.5s', 'x'), 1500);
    assert.equal(bytes('64kb', 'x'), 65536);
    assert.equal(bytes('1MiB', 'x'), 1048576);
    assert.equal(bytes('100', 'x'), 100);
  });

  test('a bare number is refused for a duration, with the two readings it could have', () => {
    assert.throws(() => loadConfig({}, { heartbeatMs: '25000' }), (err: unknown) => err instanceof ConfigError && err.message === '--heartbeat must be a duration with a unit, like 500ms, 30s, 10m or 24h, got "25000"; a bare number has no unit: write 25000ms or 25000s');
    assert.throws(() => loadConfig({ HERALD_FLUSH_WINDOW: '2' }), /HERALD_FLUSH_WINDOW must be a duration with a unit/);
    assert.equal(loadConfig({ HERALD_FLUSH_WINDOW: '0' }).flushWindowMs, 0);
  });

  test('durations and sizes print in their largest exact unit', () => {
    assert.deepEqual([25_000, 86_400_000, 3_600_000, 2, 1500, 90_000, 0].map(showDuration), ['25s', '24h', '1h', '2ms', '1500ms', '90s', '0ms']);
    assert.deepEqual([1048576, 65536, 100, 1536].map(showBytes), ['1mb', '64kb', '100', '1536']);
  });

  test('every printed default, read back, gives the default', () => {
    for (const x of settings) {
      const text = showDefault(x);
      if (text === '') continue;
      assert.deepEqual(x.parse(text, x.flag), x.default, `${x.flag}: "${text}"`);
    }
  });

  test('every setting has a HERALD_ variable, a flag and help, and a default in one place', () => {
    const envs = new Set<string>();
    for (const s of settings) {
      assert.match(s.env, /^HERALD_[A-Z_]+$/);
      assert.match(s.flag, /^[a-z-]+$/);
      assert.ok(s.help.length > 5);
      assert.ok(!envs.has(s.env));
      envs.add(s.env);
      assert.ok(s.key in defaults);
    }
  });
});
