import { ExitCode, EXIT_CODES_HELP, HeraldHttp, addServerOptions, cliCommand, parseTopics, parseUserId, runAction } from './http-client.js';
import type { Command } from 'commander';
import type { ServerOptions } from './http-client.js';

interface RegisterOptions extends ServerOptions {
  user: string;
  topics?: string;
  json?: boolean;
}

/** `herald register --user U [--topics a,b]`: POST /register, prints the id and WebSocket URL. */
export function registerCommand(): Command {
  const cmd = cliCommand('register', 'register a client for a user; prints its id and WebSocket URL')
    .requiredOption('--user <id>', 'user id: a non-negative integer or a string')
    .option('--topics <list>', 'comma-separated topics the client receives from the start')
    .option('--json', 'print the server\'s JSON answer ({"url","id","topics"})');
  addServerOptions(cmd)
    .addHelpText('after', `\nExamples:\n  herald register --user 42 --topics news,alerts\n  herald listen "$(herald register --user 42 --json | jq -r .url)"\n${EXIT_CODES_HELP}`)
    .action(
      runAction('register', async (opts: RegisterOptions) => {
        const http = new HeraldHttp(opts);
        const topics = opts.topics === undefined ? undefined : parseTopics(opts.topics);
        const reg = await http.register(parseUserId(opts.user), topics);
        if (opts.json) process.stdout.write(`${JSON.stringify(reg)}\n`);
        else process.stdout.write(`id      ${reg.id}\nurl     ${reg.url}\ntopics  ${reg.topics.join(',') || '(none)'}\n`);
        process.exitCode = ExitCode.ok;
      }),
    );
  return cmd;
}
