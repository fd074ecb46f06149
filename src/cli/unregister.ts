import { EXIT_CODES_HELP, HeraldHttp, addServerOptions, cliCommand, runAction } from './http-client.js';
import type { Command } from 'commander';
import type { ServerOptions } from './http-client.js';

/** `herald unregister ID`: DELETE /register/ID; a live socket of that client closes with 4001. */
export function unregisterCommand(): Command {
  const cmd = cliCommand('unregister', 'delete a registration; its live connection is closed (code 4001)').argument('<id>', 'the registration id (from `herald register`)');
  addServerOptions(cmd)
    .addHelpText('after', `\nExample:\n  herald unregister 5f2c...e1\n${EXIT_CODES_HELP}\n  (4 also when no registration has this id)`)
    .action(
      runAction('unregister', async (id: string, opts: ServerOptions) => {
        await new HeraldHttp(opts).unregister(id);
        process.stdout.write(`unregistered ${id}\n`);
      }),
    );
  return cmd;
}
