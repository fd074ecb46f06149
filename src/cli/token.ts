import { Option, type Command } from 'commander';
import { SignJWT } from 'jose';
import { duration } from '../config.js';
import { CliError, ExitCode, cliCommand, parseTopics, runAction } from './http-client.js';

interface TokenOptions {
  user: string;
  topics?: string;
  grants?: string;
  ttl: string;
  secret?: string;
  audience?: string;
  issuer?: string;
}

/**
 * `herald token`: prints a connection token signed with HERALD_TOKEN_SECRET (HS256), for trying
 * things out. Production backends sign their own (any JWT library; see the README).
 */
export function tokenCommand(): Command {
  const cmd = cliCommand('token', 'print a connection token (JWT, HS256) signed with HERALD_TOKEN_SECRET, for trying things out')
    .requiredOption('--user <id>', 'the user id (the token\'s `sub`)')
    .option('--topics <list>', 'comma-separated topics joined at connect (the token\'s `topics`)')
    .option('--grants <list>', 'comma-separated topic patterns the client may subscribe to (`grants`)')
    .option('--ttl <duration>', 'lifetime: 30s, 10m, 1h, 7d', '1h')
    .addOption(new Option('--secret <secret>', 'the HS256 secret').env('HERALD_TOKEN_SECRET'))
    .addOption(new Option('--audience <aud>', 'the `aud` claim').env('HERALD_TOKEN_AUDIENCE'))
    .addOption(new Option('--issuer <iss>', 'the `iss` claim').env('HERALD_TOKEN_ISSUER'))
    .addHelpText('after', `\nExample:\n  HERALD_TOKEN_SECRET=... herald token --user 42 --topics news --grants 'team.7.*' --ttl 1h\n  websocat "ws://127.0.0.1:8000/ws?token=$(herald token --user 42 --topics news)"\n\nExit codes:\n  0  success\n  2  bad arguments (no --secret / HERALD_TOKEN_SECRET, a bad --ttl)`)
    .action(
      runAction('token', async (opts: TokenOptions) => {
        if (!opts.secret) throw new CliError('no secret: set HERALD_TOKEN_SECRET (the server\'s) or pass --secret', ExitCode.usage);
        if (opts.secret.length < 32) throw new CliError('the secret must be at least 32 characters, as the server requires', ExitCode.usage);
        let ttlMs: number;
        try {
          ttlMs = duration(opts.ttl, '--ttl');
        } catch (err) {
          throw new CliError((err as Error).message, ExitCode.usage);
        }
        const claims: Record<string, unknown> = {};
        if (opts.topics) claims.topics = parseTopics(opts.topics);
        if (opts.grants) claims.grants = parseTopics(opts.grants);
        const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(opts.user).setIssuedAt().setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000));
        if (opts.audience) jwt.setAudience(opts.audience);
        if (opts.issuer) jwt.setIssuer(opts.issuer);
        process.stdout.write(`${await jwt.sign(new TextEncoder().encode(opts.secret))}\n`);
      }),
    );
  return cmd;
}
