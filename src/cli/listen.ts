import { HeraldClient } from '../../client/index.js';
import { CliError, ExitCode, EXIT_CODES_HELP, HeraldHttp, addServerOptions, cliCommand, parseTopics, parseUserId, runAction } from './http-client.js';
import type { Command } from 'commander';
import type { HeraldMessage } from '../../client/index.js';
import type { ServerOptions } from './http-client.js';

interface ListenOptions extends ServerOptions {
  user?: string;
  topics?: string;
  json?: boolean;
  count?: string;
  quiet?: boolean;
}

/**
 * `herald listen URL | --user U [--topics a,b]`: prints messages as they arrive, reconnecting
 * (and recovering what it missed) through the SDK until a final close or Ctrl-C.
 */
export function listenCommand(): Command {
  const cmd = cliCommand('listen', 'print the messages of a registration as they arrive (reconnects on its own)')
    .argument('[url]', 'a registration URL (ws://HOST/ws/ID from `herald register`)')
    .option('--user <id>', 'register a new client for this user first (instead of URL); it is unregistered on exit')
    .option('--topics <list>', 'comma-separated topics: registered with --user, or subscribed on URL')
    .option('--json', 'print each message as a JSON line {topic, offset, epoch, ts, data | binary}')
    .option('--count <n>', 'exit (code 0) after this many messages')
    .option('--quiet', 'no connection status on stderr');
  addServerOptions(cmd)
    .addHelpText(
      'after',
      `\nMessages go to stdout, one per line: text as is, JSON data as JSON, binary as base64.\nConnection status goes to stderr.\n\nExamples:\n  herald listen --user 42 --topics news,alerts\n  herald listen ws://127.0.0.1:8000/ws/5f2c...e1 --json\n${EXIT_CODES_HELP}\n  5  the registration was deleted (close code 4001) or does not exist\n  6  another connection took over this registration (close code 4000)`,
    )
    .action(runAction('listen', listen));
  return cmd;
}

async function listen(url: string | undefined, opts: ListenOptions): Promise<void> {
  if ((url === undefined) === (opts.user === undefined)) throw new CliError('give a registration URL or --user (one of them; see --help)', ExitCode.usage);
  if (url !== undefined && !/^wss?:\/\//i.test(url)) throw new CliError(`the URL must be ws:// or wss:// (from \`herald register\`), got ${JSON.stringify(url)}`, ExitCode.usage);
  let count: number | undefined;
  if (opts.count !== undefined) {
    count = Number(opts.count);
    if (!Number.isSafeInteger(count) || count < 1) throw new CliError('--count must be a positive integer', ExitCode.usage);
  }
  const topics = opts.topics === undefined ? [] : parseTopics(opts.topics);
  const status = (line: string): void => {
    if (!opts.quiet) process.stderr.write(`herald listen: ${escapeControls(line)}\n`);
  };

  let ownId: string | undefined;
  const http = new HeraldHttp(opts);
  if (opts.user !== undefined) {
    const reg = await http.register(parseUserId(opts.user), topics);
    ownId = reg.id;
    url = reg.url;
    status(`registered ${reg.id} (user ${opts.user}); url ${reg.url}`);
  }

  const client = new HeraldClient(url as string);
  let received = 0;
  let finishing = false;
  const finish = async (code: number, message?: string): Promise<void> => {
    if (finishing) return;
    finishing = true;
    await client.close();
    // A registration this command made is its own to clean up.
    if (ownId && code !== ExitCode.unregistered) await http.unregister(ownId).catch(() => undefined);
    if (message) process.stderr.write(`herald listen: ${message}\n`);
    process.stdout.write('', () => process.exit(code));
  };

  process.stdout.on('error', (err: NodeJS.ErrnoException) => void finish(err.code === 'EPIPE' ? ExitCode.ok : ExitCode.failure));
  process.once('SIGINT', () => void finish(ExitCode.ok));
  process.once('SIGTERM', () => void finish(ExitCode.ok));

  client.on('message', (m) => {
    if (finishing) return;
    process.stdout.write(`${opts.json ? jsonLine(m) : textLine(m)}\n`);
    if (count !== undefined && ++received >= count) void finish(ExitCode.ok);
  });
  client.on('state', (change) => {
    if (change.state === 'connected') status(`connected as ${client.welcome?.client}; topics ${[...new Set([...(client.welcome?.topics ?? []), ...topics])].join(',') || '(none)'}`);
    if (change.state === 'disconnected') status(`disconnected (${change.code} ${change.reason ?? ''}); reconnecting in ${((change.retryInMs ?? 0) / 1000).toFixed(1)} s`);
  });
  client.on('recovered', (r) => {
    if (!r.complete) status(`some messages of ${r.topic} were lost while away (older than the server's history); continuing from offset ${r.offset}`);
  });
  client.on('error', (err) => status(`server error: ${err.code}: ${err.message}`));

  // A close the server made final ends the command, with a code that says why.
  client.on('state', (change) => {
    if (change.state !== 'closed' || finishing) return;
    if (change.code === 4001) void finish(ExitCode.unregistered, 'connection closed for good: the registration was deleted (4001); register again');
    else if (change.code === 4000) void finish(ExitCode.replaced, 'connection closed for good: replaced by a newer connection of the same client (4000); another listener or app uses this URL');
    else if (/response: 404/.test(change.reason ?? '')) void finish(ExitCode.unregistered, 'no registration has this id (HTTP 404); register again with `herald register`');
    else void finish(ExitCode.failure, `connection closed for good: ${change.reason ?? ''} (${change.code})`);
  });

  if (url !== undefined && ownId === undefined) for (const topic of topics) client.subscribe(topic);
  await client.connect().catch(() => undefined); // the state listener above reports a final close
}

function textLine(m: HeraldMessage): string {
  if (m.binary) return Buffer.from(m.binary).toString('base64');
  return typeof m.data === 'string' ? escapeControls(m.data) : JSON.stringify(m.data ?? null);
}

/**
 * Anyone who may publish chooses these bytes: written raw, ESC sequences would drive the
 * terminal (retitle it, hide text, move the cursor) and a newline would forge a second
 * message. Control characters (C0, DEL, C1) and the Unicode line separators are written as
 * \n, \r, \t or \u00XX, so one message is one line; --json gives the exact text.
 */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function jsonLine(m: HeraldMessage): string {
  const base = { topic: m.topic, offset: m.offset, epoch: m.epoch, ts: m.ts };
  return JSON.stringify(m.binary ? { ...base, binary: Buffer.from(m.binary).toString('base64') } : { ...base, data: m.data ?? null });
}
