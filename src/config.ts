// One typed config object. Every setting is described once in `settings`: its env variable,
// its `herald serve` flag, its default and how it is parsed, so --help and README agree.

export interface Config {
  port: number;
  host: string;
  publicUrl: string | undefined;
  trustProxy: boolean;
  redisUrl: string | undefined;
  redisCluster: boolean;
  apiKey: string | undefined;
  tokenSecret: string | undefined;
  tokenPublicKey: string | undefined;
  tokenAudience: string | undefined;
  tokenIssuer: string | undefined;
  revocationTtlMs: number;
  allowedOrigins: string[];
  registrationTtlMs: number;
  historySize: number;
  historyTtlMs: number;
  historyMaxBytes: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  maxFrameBytes: number;
  maxTopics: number;
  maxTopicLength: number;
  maxBufferedBytes: number;
  maxJsonDepth: number;
  maxRecoveryBytes: number;
  heartbeatMs: number;
  clientPublish: string[];
  publicTopics: string[];
  clientRate: number;
  clientPublishTopics: number;
  maxConnections: number;
  overloadDelayMs: number;
  maxPendingConnects: number;
  maxRegistrationsPerUser: number;
  maxRegistrations: number;
  registerRate: number;
  defaultTopics: string[];
  flushWindowMs: number;
  cursorSaveMs: number;
  presenceTopics: string[];
  presenceTtlMs: number;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  webhookMaxPending: number;
  webhookBatch: number;
  webhookTimeoutMs: number;
  logLevel: string;
  nodeId: string | undefined;
}

type Parser<T> = (raw: string, name: string) => T;

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  flag: string;
  help: string;
  default: Config[K];
  parse: Parser<Config[K]>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> => (raw, name) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
};

/** A parser that can also print a value back in the form it reads (for --help and the docs). */
type Shown<T> = Parser<T> & { show: (value: T) => string };
const shown = <T>(parse: Parser<T>, show: (value: T) => string): Shown<T> => Object.assign(parse, { show });

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A duration in its largest exact unit: 25000 -> "25s", 86400000 -> "24h", 2 -> "2ms". */
export const showDuration = (n: number): string => {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (n !== 0 && n % size === 0) return `${n / size}${unit}`;
  return `${n}ms`;
};
/**
 * "500ms", "30s", "10m", "24h", "7d". A bare number is refused (except 0): heartbeats are
 * thought of in seconds and flush windows in ms, so a number alone would mean what the reader
 * did not expect.
 */
export const duration: Shown<number> = shown((raw, name) => {
  const text = raw.trim();
  if (/^0+$/.test(text)) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!m) {
    const bare = /^\d+(?:\.\d+)?$/.test(text) ? `; a bare number has no unit: write ${text}ms or ${text}s` : '';
    throw new ConfigError(`${name} must be a duration with a unit, like 500ms, 30s, 10m or 24h, got "${raw}"${bare}`);
  }
  return Math.round(Number(m[1]) * units[m[2]!]!);
}, showDuration);

/** A size in its largest exact binary unit: 1048576 -> "1mb", 65536 -> "64kb", 100 -> "100". */
export const showBytes = (n: number): string => (n !== 0 && n % 1048576 === 0 ? `${n / 1048576}mb` : n !== 0 && n % 1024 === 0 ? `${n / 1024}kb` : `${n}`);
/** "1048576" (bytes), "64kb", "1mb", "1gb" (binary units). */
export const bytes: Shown<number> = shown((raw, name) => {
  const m = /^(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(raw.trim());
  if (!m) throw new ConfigError(`${name} must be a size like 65536, 64kb or 1mb, got "${raw}"`);
  const mult: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2, gb: 1024 ** 3, gib: 1024 ** 3 };
  return Number(m[1]) * mult[(m[2] ?? 'b').toLowerCase()]!;
}, showBytes);

/** A duration or size parser with bounds, so a value that would break the server is refused at start. */
const within = (parse: Shown<number>, min: number, max: number): Shown<number> =>
  shown((raw, name) => {
    const n = parse(raw, name);
    if (n < min || n > max) throw new ConfigError(`${name} must be between ${parse.show(min)} and ${parse.show(max)}, got "${raw}"`);
    return n;
  }, parse.show);
const DAY = 86_400_000;
const GIB = 1024 ** 3;

const str: Parser<string> = (raw) => raw;
const optStr: Parser<string | undefined> = (raw) => (raw === '' ? undefined : raw);
const list: Parser<string[]> = (raw) => raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
/** Origins compare as scheme://host[:port], lower case, no trailing slash (as browsers send them). */
const origins: Parser<string[]> = (raw, name) =>
  list(raw, name).map((o) => {
    if (o === '*') return o;
    let u: URL | undefined;
    try { u = new URL(o); } catch { u = undefined; }
    // Compared exactly (scheme, host, port) with what browsers send: a bare host would match nothing.
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw new ConfigError(`${name} must list origins like https://app.example.com (scheme://host[:port]) or *, got "${o}"`);
    return o.replace(/\/+$/, '').toLowerCase();
  });
const bool: Parser<boolean> = (raw, name) => {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off|)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
};
const url = (schemes: string[]): Parser<string | undefined> => (raw, name) => {
  if (raw === '') return undefined;
  let u: URL;
  try { u = new URL(raw); } catch { throw new ConfigError(`${name} must be a URL, got "${raw}"`); }
  if (!schemes.includes(u.protocol)) throw new ConfigError(`${name} must use ${schemes.join(' or ')}, got "${raw}"`);
  return raw.replace(/\/+$/, '');
};

function s<K extends keyof Config>(key: K, env: string, flag: string, def: Config[K], parse: Parser<Config[K]>, help: string): Setting<K> {
  return { key, env, flag, default: def, parse, help };
}

export const settings = [
  s('port', 'HERALD_PORT', 'port', 8000, int(0, 65535), 'TCP port to listen on (0 picks a free one)'),
  s('host', 'HERALD_HOST', 'host', '127.0.0.1', str, 'address to listen on (0.0.0.0 for all interfaces)'),
  s('publicUrl', 'HERALD_PUBLIC_URL', 'public-url', undefined, url(['http:', 'https:', 'ws:', 'wss:']), 'base URL clients use, for the ws:// URL returned by /register (when not set: from the Host header)'),
  s('trustProxy', 'HERALD_TRUST_PROXY', 'trust-proxy', false, bool, 'trust X-Forwarded-* headers from a reverse proxy'),
  s('redisUrl', 'HERALD_REDIS_URL', 'redis-url', undefined, url(['redis:', 'rediss:']), 'Redis URL: use the redis engine (cluster mode) instead of memory'),
  s('redisCluster', 'HERALD_REDIS_CLUSTER', 'redis-cluster', false, bool, 'the Redis URL points at a Redis Cluster (sharded pub/sub)'),
  s('apiKey', 'HERALD_API_KEY', 'api-key', undefined, optStr, 'bearer key required by /register, /publish, /metrics, /stats and the dashboard'),
  s('tokenSecret', 'HERALD_TOKEN_SECRET', 'token-secret', undefined, optStr, 'HS256 secret for connection tokens (GET /ws?token=JWT); at least 32 characters'),
  s('tokenPublicKey', 'HERALD_TOKEN_PUBLIC_KEY', 'token-public-key', undefined, optStr, 'PEM file with the public key for connection tokens signed with RS256, ES256 or EdDSA'),
  s('tokenAudience', 'HERALD_TOKEN_AUDIENCE', 'token-audience', undefined, optStr, 'the `aud` connection tokens must carry (default: not checked)'),
  s('tokenIssuer', 'HERALD_TOKEN_ISSUER', 'token-issuer', undefined, optStr, 'the `iss` connection tokens must carry (default: not checked)'),
  s('revocationTtlMs', 'HERALD_REVOCATION_TTL', 'revocation-ttl', 86_400_000, within(duration, 1000, 365 * DAY), 'how long DELETE /users/:user refuses the tokens the user held (set it to your longest token lifetime)'),
  s('allowedOrigins', 'HERALD_ALLOWED_ORIGINS', 'allowed-origins', ['*'], origins, 'comma-separated origins allowed for CORS and WebSocket upgrades (* = any)'),
  s('registrationTtlMs', 'HERALD_REGISTRATION_TTL', 'registration-ttl', 86_400_000, within(duration, 1000, 365 * DAY), 'how long a registration lives unconnected'),
  s('historySize', 'HERALD_HISTORY_SIZE', 'history-size', 1000, int(0, 1_000_000), 'messages kept per topic for recovery (0 = no history)'),
  s('historyTtlMs', 'HERALD_HISTORY_TTL', 'history-ttl', 3_600_000, within(duration, 1000, 365 * DAY), 'how long a topic keeps its history after its last publish'),
  s('historyMaxBytes', 'HERALD_HISTORY_MAX_BYTES', 'history-max-bytes', 256 * 1024 ** 2, within(bytes, 1024, 1024 * GIB), 'memory engine: bytes of history kept in all; past it the least recently published topics lose theirs first (Redis: set maxmemory, see docs)'),
  s('maxBodyBytes', 'HERALD_MAX_BODY_BYTES', 'max-body-bytes', 1024 * 1024, within(bytes, 1024, GIB), 'largest HTTP request body (413 beyond)'),
  s('requestTimeoutMs', 'HERALD_REQUEST_TIMEOUT', 'request-timeout', 30_000, within(duration, 100, DAY), 'longest time to receive a whole HTTP request, headers and body (408 request_timeout beyond)'),
  s('maxFrameBytes', 'HERALD_MAX_FRAME_BYTES', 'max-frame-bytes', 64 * 1024, within(bytes, 128, GIB), 'largest WebSocket frame a client may send (close 1009 beyond)'),
  s('maxTopics', 'HERALD_MAX_TOPICS', 'max-topics', 100, int(1), 'topics per client'),
  s('maxTopicLength', 'HERALD_MAX_TOPIC_LENGTH', 'max-topic-length', 256, int(1, 256), 'characters in a topic name'),
  s('maxBufferedBytes', 'HERALD_MAX_BUFFERED_BYTES', 'max-buffered-bytes', 1024 * 1024, within(bytes, 1024, GIB), 'unsent bytes per socket before it is closed as a slow consumer (4008)'),
  s('maxRecoveryBytes', 'HERALD_MAX_RECOVERY_BYTES', 'max-recovery-bytes', 16 * 1024 ** 2, within(bytes, 1024, 64 * GIB), 'largest replay of one topic for a reconnecting client; beyond it the oldest part is left out (complete: false)'),
  s('maxJsonDepth', 'HERALD_MAX_JSON_DEPTH', 'max-json-depth', 64, int(1, 1000), 'deepest nesting of arrays/objects in a JSON body or client frame (400 too_deep / herald.v1 error / plain: ignored)'),
  s('heartbeatMs', 'HERALD_HEARTBEAT', 'heartbeat', 25_000, within(duration, 100, DAY), 'ping interval; a socket silent for two rounds is dropped'),
  s('publicTopics', 'HERALD_PUBLIC_TOPICS', 'public-topics', ['*'], list, 'topic patterns any client may read (* = all, {user} = the client\'s user id, e.g. news.*,user.{user}.*); others need the registration\'s topics or grants'),
  s('clientPublish', 'HERALD_CLIENT_PUBLISH', 'client-publish', [], list, 'topic patterns herald.v1 clients may publish to, if they may also read them (e.g. chat.*, room.{user}); empty = none'),
  s('clientRate', 'HERALD_CLIENT_RATE', 'client-rate', 100, int(1), 'messages per second a client may send (close 1008 beyond)'),
  s('clientPublishTopics', 'HERALD_CLIENT_PUBLISH_TOPICS', 'client-publish-topics', 100, int(1), 'distinct topics one client may publish to per minute (herald.v1 error too_many_publish_topics beyond)'),
  s('maxConnections', 'HERALD_MAX_CONNECTIONS', 'max-connections', 200_000, int(1), 'WebSocket connections per process (503 beyond)'),
  s('overloadDelayMs', 'HERALD_OVERLOAD_DELAY', 'overload-delay', 1000, within(duration, 0, 60_000), 'once the event loop has been busy this long without a break, new connections and registrations get 503 overloaded with Retry-After until it catches up (0 = never)'),
  s('maxPendingConnects', 'HERALD_MAX_PENDING_CONNECTS', 'max-pending-connects', 5000, int(1), 'connections being set up at once (waiting on the engine or a token check); 503 overloaded beyond'),
  s('maxRegistrationsPerUser', 'HERALD_MAX_REGISTRATIONS_PER_USER', 'max-registrations-per-user', 100, int(1), 'registrations one user may hold; a new one evicts the least recently connected one without a socket (429 only when all are connected)'),
  s('maxRegistrations', 'HERALD_MAX_REGISTRATIONS', 'max-registrations', 1_000_000, int(1), 'registrations stored in all (per process on memory, per cluster on Redis; 503 beyond)'),
  s('registerRate', 'HERALD_REGISTER_RATE', 'register-rate', 100, int(0), 'registrations per second one client address may make (429 register_rate_limited beyond; 0 = no limit)'),
  s('defaultTopics', 'HERALD_DEFAULT_TOPICS', 'default-topics', ['cats'], list, 'topics of a registration that names none (the tutorial\'s "cats")'),
  s('flushWindowMs', 'HERALD_FLUSH_WINDOW', 'flush-window', 2, within(duration, 0, 1000), 'longest time frames may wait to be coalesced under heavy load'),
  s('cursorSaveMs', 'HERALD_CURSOR_SAVE', 'cursor-save', 1000, within(duration, 100, 3_600_000), 'how often live cursors are saved to the engine (redis engine)'),
  s('presenceTopics', 'HERALD_PRESENCE_TOPICS', 'presence-topics', [], list, 'topic patterns with presence (who holds them, join/leave), e.g. room.*; empty = none'),
  s('presenceTtlMs', 'HERALD_PRESENCE_TTL', 'presence-ttl', 30_000, within(duration, 1000, DAY), 'a dead node\'s presence members are gone within this time (redis engine)'),
  s('webhookUrl', 'HERALD_WEBHOOK_URL', 'webhook-url', undefined, url(['http:', 'https:']), 'POST topic.occupied/vacated and member.joined/left events here (docs/webhooks.md); needs HERALD_WEBHOOK_SECRET'),
  s('webhookSecret', 'HERALD_WEBHOOK_SECRET', 'webhook-secret', undefined, optStr, 'key of the Herald-Signature HMAC-SHA256 on every webhook body; at least 16 characters'),
  s('webhookMaxPending', 'HERALD_WEBHOOK_MAX_PENDING', 'webhook-max-pending', 100_000, int(1, 10_000_000), 'undelivered webhook events kept (per process on memory, per cluster on Redis); newer ones are dropped and counted beyond'),
  s('webhookBatch', 'HERALD_WEBHOOK_BATCH', 'webhook-batch', 100, int(1, 1000), 'most events in one webhook POST'),
  s('webhookTimeoutMs', 'HERALD_WEBHOOK_TIMEOUT', 'webhook-timeout', 10_000, within(duration, 100, 300_000), 'a webhook POST not answered within this time is retried'),
  s('logLevel', 'HERALD_LOG_LEVEL', 'log-level', 'info', str, 'fatal, error, warn, info, debug, trace or silent'),
  s('nodeId', 'HERALD_NODE_ID', 'node-id', undefined, optStr, 'name of this node in logs and /health (random when not set)'),
] as const;

export const defaults: Config = Object.fromEntries(settings.map((x) => [x.key, x.default])) as unknown as Config;

/**
 * A setting's default as `herald serve --help` prints it: in the form the setting reads
 * (`25s`, `1mb`, `chat.*,news`), so the printed value passed back gives the same config.
 * Empty when there is no default.
 */
export function showDefault(x: (typeof settings)[number]): string {
  const value: unknown = x.default;
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  const show = (x.parse as Partial<Shown<unknown>>).show;
  return show ? show(value) : String(value);
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Builds the config from (lowest to highest precedence) defaults, env variables and explicit
 * values (CLI flags, or a test's overrides). Throws ConfigError with a message naming the setting.
 */
export function loadConfig(env: NodeJS.ProcessEnv = {}, raw: Record<string, string | undefined> = {}, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = { ...defaults };
  for (const x of settings) {
    const fromEnv = env[x.env];
    if (fromEnv !== undefined) out[x.key] = x.parse(fromEnv, x.env);
    const fromFlag = raw[x.key];
    if (fromFlag !== undefined) out[x.key] = x.parse(fromFlag, `--${x.flag}`);
  }
  const config = { ...(out as unknown as Config), ...overrides };
  if (!logLevels.includes(config.logLevel)) throw new ConfigError(`HERALD_LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${config.logLevel}"`);
  if (config.tokenSecret !== undefined && config.tokenSecret.length < 32) throw new ConfigError('HERALD_TOKEN_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)');
  if (config.webhookUrl !== undefined && (config.webhookSecret === undefined || config.webhookSecret.length < 16)) throw new ConfigError('HERALD_WEBHOOK_URL needs HERALD_WEBHOOK_SECRET of at least 16 characters (e.g. openssl rand -hex 32): the backend checks the signature with it');
  if (config.defaultTopics.length > config.maxTopics) throw new ConfigError('HERALD_DEFAULT_TOPICS has more topics than HERALD_MAX_TOPICS');
  return config;
}
