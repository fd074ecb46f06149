import { Command, Option } from 'commander';
import { ConfigError, loadConfig, settings, showDefault } from '../config.js';
import { openFileLimit } from './file-limit.js';

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
const loopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

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
  const herald = await buildApp(config);
  const { log } = herald;
  try {
    await herald.app.listen({ port: config.port, host: config.host });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    log.fatal({ err }, code === 'EADDRINUSE' ? `port ${config.port} is already in use; pick another with --port or HERALD_PORT` : 'could not listen');
    await herald.close();
    process.exit(1);
  }
  const address = herald.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const files = openFileLimit();
  // Each socket is a file descriptor: a low limit caps connections long before HERALD_MAX_CONNECTIONS.
  if (files && files.soft < config.maxConnections + 100) {
    const fix = files.soft < files.hard ? `run \`ulimit -n ${Math.min(files.hard, config.maxConnections + 1024)}\` before starting` : `the hard limit is ${files.hard}: raise it (systemd LimitNOFILE=, /etc/security/limits.conf)`;
    log.warn({ soft: files.soft, hard: files.hard, maxConnections: config.maxConnections }, `the open-file limit (${files.soft}) allows fewer sockets than HERALD_MAX_CONNECTIONS (${config.maxConnections}): ${fix}, or lower --max-connections`);
  }
  if (!config.apiKey && !loopback(config.host)) log.warn('listening on a non-loopback address without HERALD_API_KEY: anyone who can reach this port can register and publish');

  // Last, so anything warned above is already in the log when this line appears.
  log.info({ url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`, port, engine: herald.engine.name, node: herald.relay.nodeId }, 'herald listening');

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
