import { readFile } from 'node:fs/promises';
import { CliError, ExitCode, EXIT_CODES_HELP, HeraldHttp, addServerOptions, cliCommand, parseUserId, runAction } from './http-client.js';
import type { Command } from 'commander';
import type { ServerOptions } from './http-client.js';

interface PublishOptions extends ServerOptions {
  user?: string;
  data?: string;
  file?: string;
  json?: boolean;
}

/** `herald publish TOPIC [MESSAGE]`: POST /publish with a text message, JSON data or a file. */
export function publishCommand(): Command {
  const cmd = cliCommand('publish', 'publish a message to a topic (text, --data JSON, or --file bytes)')
    .argument('<topic>', 'the topic')
    .argument('[message]', 'the message text; "-" reads it from stdin (one trailing newline dropped)')
    .option('--user <id>', 'deliver only to this user\'s clients')
    .option('--data <json>', 'publish this JSON value instead of a text message')
    .option('--file <path>', 'publish the file\'s bytes as a binary message')
    .option('--json', 'print the server\'s JSON answer ({"id","offset"})');
  addServerOptions(cmd)
    .addHelpText(
      'after',
      `\nGive exactly one of MESSAGE, --data or --file.\n\nExamples:\n  herald publish news "hello"\n  herald publish alerts --user 42 --data '{"level":"high"}'\n  herald publish images --file ./logo.png\n  echo hello | herald publish news -\n${EXIT_CODES_HELP}`,
    )
    .action(
      runAction('publish', async (topic: string, message: string | undefined, opts: PublishOptions) => {
        const given = [message !== undefined, opts.data !== undefined, opts.file !== undefined].filter(Boolean).length;
        if (given !== 1) throw new CliError('give exactly one of MESSAGE, --data JSON or --file PATH (see --help)', ExitCode.usage);
        const body: Record<string, unknown> = { topic };
        if (opts.user !== undefined) body.user_id = parseUserId(opts.user);
        if (opts.data !== undefined) body.data = parseJson(opts.data);
        else if (opts.file !== undefined) body.binary = (await readInput(opts.file)).toString('base64');
        // `echo hello | herald publish news -` means "hello": the newline ends the line, it is not the message's.
        else body.message = message === '-' ? (await readStdin()).toString('utf8').replace(/\r?\n$/, '') : message;
        const result = await new HeraldHttp(opts).publish(body);
        if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else process.stdout.write(`published to ${topic} at offset ${result.offset}\n`);
      }),
    );
  return cmd;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`--data is not valid JSON (${(err as Error).message}); quote it, e.g. --data '{"a":1}'`, ExitCode.usage);
  }
}

async function readInput(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new CliError(`cannot read --file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, ExitCode.usage);
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
