import { Command } from 'commander';
import { serveCommand } from './serve.js';
import { registerCommand } from './register.js';
import { publishCommand } from './publish.js';
import { listenCommand } from './listen.js';
import { unregisterCommand } from './unregister.js';
import { ExitCode } from './http-client.js';
import { HERALD_VERSION } from '../version.js';
import { tokenCommand } from './token.js';

const program = new Command('herald')
  .description('Herald: a real-time message relay. Backends publish over HTTP; clients receive over WebSockets.')
  .version(HERALD_VERSION)
  // The error and its "Did you mean ...?" first, then one line on where to look, not a page of help.
  .showHelpAfterError('(run `herald --help` for the commands, `herald COMMAND --help` for their options)')
  // Usage errors exit 2, as every command documents (commander's default is 1, a failure).
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : ExitCode.usage));

program.addCommand(serveCommand());
program.addCommand(registerCommand());
program.addCommand(publishCommand());
program.addCommand(listenCommand());
program.addCommand(unregisterCommand());
program.addCommand(tokenCommand());

if (process.argv.length <= 2) {
  process.stderr.write('herald: give a command; `herald serve` runs the server\n\n');
  process.stderr.write(program.helpInformation());
  process.exit(ExitCode.usage);
}

await program.parseAsync(process.argv);
