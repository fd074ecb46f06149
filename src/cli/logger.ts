// The logger of `herald serve`: readable lines on a terminal, JSON lines (for log collectors)
// everywhere else.
import { pino, type Logger } from 'pino';

/** pino-pretty when stdout is a terminal, else pino's JSON. */
export async function startupLogger(level: string, tty: boolean = process.stdout.isTTY === true): Promise<Logger> {
  if (!tty) return pino({ level });
  // In this thread, not as a transport: a line logged just before process.exit() still shows.
  // The fields the listening line already says in words are left out, so it stays one line.
  const { default: pretty } = await import('pino-pretty');
  return pino({ level }, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,url,port,engine,node', sync: true }));
}

/** Runs `fn` with info lines held back (warnings and errors still show). */
export async function quietly<T>(log: Logger, fn: () => Promise<T>): Promise<T> {
  const level = log.level;
  if (!log.isLevelEnabled('info')) return fn();
  log.level = 'warn';
  try {
    return await fn();
  } finally {
    log.level = level;
  }
}
