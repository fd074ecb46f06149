import { Command } from 'commander';
import { serveCommand } from './serve.js';
import { registerCommand } from './register.js';
import { publishCommand } from './publish.js';
import { listenCommand } from './listen.js';
import { unregisterCommand } from './unregister.js';
import { tokenCommand } from './token.js';

const program = new Command('herald')
  .description('Herald: a real-time message relay. Backends publish over HTTP; clients receive over WebSockets.')
  .version('0.1.0')
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(registerCommand());
program.addCommand(publishCommand());
program.addCommand(listenCommand());
program.addCommand(unregisterCommand());
program.addCommand(tokenCommand());

await program.parseAsync(process.argv);
