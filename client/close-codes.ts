import { CloseCode as ServerCloseCode, finalCloseCodes } from '../src/protocol/close-codes.js';

/** WebSocket close codes Herald uses (src/protocol/close-codes.ts, DESIGN.md section 2), plus 1006, which only a client sees. */
export const CloseCode = { ...ServerCloseCode, abnormal: 1006 } as const;

const DESCRIPTIONS: Record<number, string> = {
  1000: 'closed normally',
  1001: 'server shutting down',
  1006: 'connection lost',
  1007: 'invalid UTF-8 sent to the server',
  1008: 'policy violation (rate limit or forbidden)',
  1009: 'frame too large',
  1011: 'server internal error',
  4000: 'replaced by a newer connection of the same client',
  4001: 'unregistered (or the user was revoked)',
  4003: 'token expired: reconnect with a new token',
  4008: 'slow consumer: the client did not read fast enough',
};

/**
 * Whether a server close means "do not come back": the registration was deleted (4001) or
 * another connection took it over (4000). Every other code is worth a reconnect.
 */
export function isFinalCloseCode(code: number): boolean {
  return finalCloseCodes.has(code);
}

/** A short human description of a close code, for logs and the CLI. */
export function describeCloseCode(code: number): string {
  return DESCRIPTIONS[code] ?? `close code ${code}`;
}

// Node's `ws` reports the HTTP status of a refused upgrade; a registration that does not exist
// (404), a refused origin (403) or subprotocol (400) will not get better by retrying. Browsers
// hide the status, so there the client keeps retrying with backoff.
export function finalHandshakeFailure(reason: string): string | undefined {
  const status = /Unexpected server response: (\d{3})/.exec(reason)?.[1];
  if (status === '404') return 'unknown_registration';
  if (status === '403') return 'forbidden';
  if (status === '400') return 'bad_request';
  return undefined;
}
