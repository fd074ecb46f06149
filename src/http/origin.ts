import type { FastifyInstance, FastifyRequest } from 'fastify';
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
 * HERALD_ALLOWED_ORIGINS for WebSocket upgrades, on every route (@fastify/websocket upgrades
 * any GET route): 403 origin_not_allowed before the upgrade, as a plain HTTP answer. A callback
 * hook, not an async one: every other request passes through it, and should pay next to
 * nothing for that. (CORS for the HTTP API is @fastify/cors, configured in app.ts.)
 */
export function originCheck(app: FastifyInstance, allowed: readonly string[]): void {
  if (allowed.includes('*')) return;
  app.addHook('onRequest', (request, _reply, done) => {
    // request.ws is set by @fastify/websocket's own onRequest hook, registered before this one.
    if (!request.ws || originAllowed(allowed, request)) {
      done();
      return;
    }
    done(new HeraldError('origin_not_allowed', `The Origin ${JSON.stringify(request.headers.origin)} is not in HERALD_ALLOWED_ORIGINS (${allowed.join(', ')}); add it there to let pages on that site connect.`));
  });
}
