import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';
import { describeValue } from '../protocol/json-safety.js';

/**
 * An origin as browsers send it: scheme://host[:port], lower case, the default port left out
 * (`https://a.example:443` is `https://a.example`); ws(s) URLs name their http(s) origin.
 * Undefined for anything that is not an http(s) origin ("null", file:, ftp:, garbage).
 */
export function originOf(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return undefined;
  }
  const scheme = u.protocol === 'ws:' ? 'http:' : u.protocol === 'wss:' ? 'https:' : u.protocol;
  if (scheme !== 'http:' && scheme !== 'https:') return undefined;
  if (scheme !== u.protocol) u = new URL(`${scheme}//${u.host}`);
  return u.origin;
}

/**
 * The origins whose pages may open sockets: HERALD_ALLOWED_ORIGINS plus HERALD_PUBLIC_URL's
 * origin (where the dashboard is served). Nothing comes from the request: the Host header is
 * the client's to choose, so it cannot vouch for an Origin.
 */
export function allowedOriginSet(allowed: readonly string[], publicUrl: string | undefined): ReadonlySet<string> {
  const set = new Set<string>();
  for (const a of [...allowed, ...(publicUrl === undefined ? [] : [publicUrl])]) {
    const o = originOf(a);
    if (o !== undefined) set.add(o);
  }
  return set;
}

/**
 * Decides whether a WebSocket upgrade may proceed. Browsers always send Origin, so this is what
 * stops a page on another site from opening sockets with a user's registration URL. Requests
 * without Origin come from non-browser clients (backends, the CLI) and pass. Otherwise scheme,
 * host and port must match an allowed origin exactly.
 */
export function originAllowed(allowed: ReadonlySet<string>, request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const o = originOf(origin);
  return o !== undefined && allowed.has(o);
}

/**
 * HERALD_ALLOWED_ORIGINS for WebSocket upgrades, on every route (@fastify/websocket upgrades
 * any GET route): 403 origin_not_allowed before the upgrade, as a plain HTTP answer. A callback
 * hook, not an async one: every other request passes through it, and should pay next to
 * nothing for that. (CORS for the HTTP API is @fastify/cors, configured in app.ts.)
 */
export function originCheck(app: FastifyInstance, allowed: readonly string[], publicUrl: string | undefined): void {
  if (allowed.includes('*')) return;
  const set = allowedOriginSet(allowed, publicUrl);
  const listed = [...set].join(', ');
  app.addHook('onRequest', (request, _reply, done) => {
    // request.ws is set by @fastify/websocket's own onRequest hook, registered before this one.
    if (!request.ws || originAllowed(set, request)) {
      done();
      return;
    }
    done(new HeraldError('origin_not_allowed', `The Origin ${describeValue(request.headers.origin, 100)} is not allowed (${listed}: HERALD_ALLOWED_ORIGINS and HERALD_PUBLIC_URL); add it to HERALD_ALLOWED_ORIGINS to let pages on that site connect.`));
  });
}
