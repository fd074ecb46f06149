import { Command, Option } from 'commander';
import { ConfigError, loadConfig, settings, showDefault } from '../config.js';
import { openFileLimit } from './file-limit.js';
import { quietly, startupLogger } from './logger.js';

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
/** 0.0.0.0 and :: listen everywhere; a URL to open in a browser names this machine instead. */
const hostForUrl = (host: string): string => (host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host);
const loopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** Connections waiting to be accepted (the kernel caps it at net.core.somaxconn; see docs/operations.md). */
const LISTEN_BACKLOG = 65_535;

/** `herald serve`: every setting as a flag, and the same name as a HERALD_* variable. */
export function serveCommand(): Command {
  const cmd = new Command('serve')
    .description('run the Herald server (memory engine unless --redis-url is given)')
    .showHelpAfterError('(add --help for every setting)')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  for (const x of settings) {
    const isBool = typeof x.default === 'boolean';
    const shown = showDefault(x);
    const opt = new Option(`--${x.flag} ${isBool ? '[bool]' : '<value>'}`, `${x.help} [env ${x.env}]${shown === '' ? '' : ` (default: ${shown})`}`);
    if (isBool) opt.preset('true');
    cmd.addOption(opt);
  }
  cmd.addHelpText('after', '\nEvery flag can also be set with its HERALD_* environment variable; flags win.\nDurations need a unit: 500ms, 30s, 10m, 24h. Sizes: 65536 (bytes), 64kb, 1mb.');
  cmd.action(async (opts: Record<string, string | undefined>) => {
    const raw: Record<string, string | undefined> = {};
    for (const x of settings) raw[x.key] = opts[camel(x.flag)];
    await serve(raw);
  });
  return cmd;
}

async function serve(raw: Record<string, string | undefined>): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, raw);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`herald serve: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  // Loaded here, not at the top: the other commands (register, publish, listen) start faster.
  const { buildApp } = await import('../app.js');
  const log = await startupLogger(config.logLevel);
  const herald = await buildApp(config, { logger: log });
  try {
    // Fastify logs one "Server listening" line per address; Herald logs its own line below.
    // A restarted node meets all its clients at once: Node's default accept queue (511) overflowed
    // tens of thousands of times per 10,000-client storm, and each dropped SYN waits for the
    // client kernel's retransmit (1 s, 3 s, 7 s...). The kernel caps this at net.core.somaxconn.
    await quietly(log, () => herald.app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    await herald.close();
    // One line a person can act on; a stack trace here would only hide it.
    if (e.code === 'EADDRINUSE') console.error(`herald serve: port ${config.port} on ${config.host} is already in use; pick another with --port (or HERALD_PORT), or stop what is using it`);
    else if (e.code === 'EACCES') console.error(`herald serve: not allowed to listen on port ${config.port} (ports below 1024 need privileges); pick another with --port`);
    else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') console.error(`herald serve: cannot listen on --host ${config.host}: no such address on this machine`);
    else console.error(`herald serve: could not listen on ${config.host}:${config.port}: ${e.message}`);
    process.exit(1);
  }
  const address = herald.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const files = openFileLimit();
  // Each socket is a file descriptor: a low limit caps connections long before HERALD_MAX_CONNECTIONS.
  // Worth a warning only where that many sockets can arrive: a server others can reach, or one
  // given an explicit --max-connections. A laptop on 127.0.0.1 never gets near 200,000.
  const maxConnectionsSet = raw.maxConnections !== undefined || process.env.HERALD_MAX_CONNECTIONS !== undefined;
  if (files && files.soft < config.maxConnections + 100 && (maxConnectionsSet || !loopback(config.host))) {
    const fix = files.soft < files.hard ? `run \`ulimit -n ${Math.min(files.hard, config.maxConnections + 1024)}\` before starting` : `the hard limit is ${files.hard}: raise it (systemd LimitNOFILE=, /etc/security/limits.conf)`;
    log.warn({ soft: files.soft, hard: files.hard, maxConnections: config.maxConnections }, `the open-file limit (${files.soft}) allows fewer sockets than HERALD_MAX_CONNECTIONS (${config.maxConnections}): ${fix}, or lower --max-connections`);
  }
  if (!config.apiKey && !loopback(config.host)) log.warn('listening on a non-loopback address without HERALD_API_KEY: anyone who can reach this port can register and publish');

  // Last, so anything warned above is already in the log when this line appears.
  const url = `http://${hostForUrl(config.host)}:${port}`;
  log.info({ url, port, engine: herald.engine.name, node: herald.relay.nodeId }, `herald listening on ${url} (dashboard: ${url}/, engine: ${herald.engine.name})`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn('second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, connections: herald.relay.hub.size }, 'shutting down: closing sockets with 1001');
    const force = setTimeout(() => {
      log.error('shutdown took over 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    herald.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
