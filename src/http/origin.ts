import type { FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';

/** Origins compare as scheme://host[:port], lower case, without a trailing slash. */
const normalize = (origin: string): string => origin.trim().replace(/\/+$/, '').toLowerCase();

/**
 * Decides whether a WebSocket upgrade may proceed. Browsers always send Origin, so this is what
 * stops a page on another site from opening sockets with a user's registration URL. Requests
 * without Origin come from non-browser clients (backends, the CLI) and pass. The server's own
 * origin (the dashboard) always passes.
 */
export function originAllowed(allowed: readonly string[], request: FastifyRequest): boolean {
  if (allowed.includes('*')) return true;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const o = normalize(origin);
  if (allowed.some((a) => normalize(a) === o)) return true;
  try {
    return new URL(o).host === request.host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file://) or garbage
  }
}

/**
 * HERALD_ALLOWED_ORIGINS for WebSocket upgrades: 403 origin_not_allowed before the upgrade,
 * as a plain HTTP answer. Called by the /ws route only, so other requests pay nothing for it.
 * (CORS for the HTTP API is @fastify/cors, configured in app.ts.)
 */
export function checkOrigin(allowed: readonly string[], request: FastifyRequest): void {
  if (originAllowed(allowed, request)) return;
  throw new HeraldError('origin_not_allowed', `The Origin ${JSON.stringify(request.headers.origin)} is not in HERALD_ALLOWED_ORIGINS (${allowed.join(', ')}); add it there to let pages on that site connect.`);
}
