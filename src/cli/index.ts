import { Command } from 'commander';
import { serveCommand } from './serve.js';

const program = new Command('herald')
  .description('Herald: a real-time message relay. Backends publish over HTTP; clients receive over WebSockets.')
  .version('0.1.0')
  .showHelpAfterError();

program.addCommand(serveCommand());

await program.parseAsync(process.argv);
