// What the register / publish / listen / unregister commands share: the server and API key
// options, HTTP calls to Herald with clear errors, and the exit codes they document.
import { Command, Option } from 'commander';

/** Exit codes of the client commands; listed in each command's --help. */
export const ExitCode = {
  ok: 0,
  /** Something unexpected (a bug): the message says what. */
  failure: 1,
  /** Bad arguments: missing, unknown or malformed. */
  usage: 2,
  /** The server could not be reached. */
  unreachable: 3,
  /** The server refused the request (its error code and message are printed). */
  refused: 4,
  /** listen: the registration was deleted (4001) or does not exist. */
  unregistered: 5,
  /** listen: another connection took over this registration (4000). */
  replaced: 6,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  unexpected failure
  2  bad arguments
  3  cannot reach the server (is \`herald serve\` running? check --server)
  4  the server refused the request (its error code and message are printed)`;

/** An error the CLI reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export interface ServerOptions {
  server: string;
  apiKey?: string;
}

/** Adds --server and --api-key (with their environment variables) to a command. */
export function addServerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--server <url>', 'Herald HTTP address').env('HERALD_SERVER').default('http://127.0.0.1:8000'))
    .addOption(new Option('--api-key <key>', 'the server\'s API key (its HERALD_API_KEY)').env('HERALD_API_KEY'));
}

/**
 * Makes a command's argument errors exit with 2 (commander's default is 1, which would be
 * indistinguishable from a failure), and runs its action with errors turned into one line.
 */
export function cliCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .showHelpAfterError('(add --help for usage and examples)')
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : ExitCode.usage);
    });
}

/** Runs an action; a CliError prints "herald NAME: message" and exits with its code. */
export function runAction<A extends unknown[]>(name: string, action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      if (err instanceof CliError) {
        process.stderr.write(`herald ${name}: ${err.message}\n`);
        process.exit(err.exitCode);
      }
      process.stderr.write(`herald ${name}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(ExitCode.failure);
    }
  };
}

/** Parses a user id as the server wants it: a non-negative integer, else a string. */
export function parseUserId(text: string): number | string {
  if (/^(0|[1-9]\d*)$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  if (text.length < 1 || text.length > 128) throw new CliError('--user must be a non-negative integer or a string of 1..128 characters', ExitCode.usage);
  return text;
}

/** Splits "a,b" into topics, dropping empty items. */
export function parseTopics(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

export interface Registration {
  url: string;
  id: string;
  topics: string[];
}

/** Server messages that speak HTTP (headers, routes), said in the CLI's terms instead. */
const cliMessages: Record<string, (keyGiven: boolean) => string> = {
  unauthorized: (keyGiven) => (keyGiven ? 'the server refused the API key: check --api-key (or HERALD_API_KEY) against the server\'s HERALD_API_KEY' : 'the server needs an API key: pass --api-key KEY or set HERALD_API_KEY'),
  unknown_client: () => 'no registration has this id: register again with `herald register`',
};

/** Herald's HTTP API, as the CLI uses it. */
export class HeraldHttp {
  readonly #base: string;
  readonly #apiKey: string | undefined;

  constructor(options: ServerOptions) {
    let base: URL;
    try {
      base = new URL(options.server);
    } catch {
      throw new CliError(`--server must be a URL like http://127.0.0.1:8000, got ${JSON.stringify(options.server)}`, ExitCode.usage);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new CliError(`--server must be an http:// or https:// URL, got ${options.server}`, ExitCode.usage);
    this.#base = base.toString().replace(/\/+$/, '');
    this.#apiKey = options.apiKey || undefined;
  }

  register(userId: number | string, topics: string[] | undefined): Promise<Registration> {
    return this.#call<Registration>('POST', '/register', topics ? { user_id: userId, topics } : { user_id: userId });
  }

  unregister(id: string): Promise<unknown> {
    return this.#call('DELETE', `/register/${encodeURIComponent(id)}`);
  }

  publish(body: Record<string, unknown>): Promise<{ id: string; offset: number }> {
    return this.#call('POST', '/publish', body);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    let response: Response;
    try {
      response = await fetch(this.#base + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach Herald at ${this.#base} (${cause?.code ?? cause?.message ?? String(err)}): is \`herald serve\` running? set --server or HERALD_SERVER`, ExitCode.unreachable);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const e = parsed as { error?: string; message?: string } | undefined;
      const message = (e?.error && cliMessages[e.error]?.(this.#apiKey !== undefined)) ?? e?.message ?? '';
      const what = e?.error ? `${message} (${e.error}, HTTP ${response.status})` : `HTTP ${response.status} ${text.slice(0, 200)}`;
      throw new CliError(what.trim(), ExitCode.refused);
    }
    return parsed as T;
  }
}
