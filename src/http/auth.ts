import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors.js';

/**
/**
 * Routes anyone may call even with HERALD_API_KEY set: health checks, the WebSocket and SSE
 * endpoints (the unguessable registration id, or a signed token, is the client's credential;
 * EventSource cannot send headers), the dashboard's static assets (code with no data; the page
 * and every API call it makes need the key) and /openapi.json (the API's description, the same
 * for every server).
 * Everything else, including routes added later and unknown paths, needs the key: closed by default.
 */
const open = new Set(['GET /health', 'HEAD /health', 'GET /ws/:id', 'GET /ws', 'GET /sse/:id', 'GET /sse', 'GET /dashboard/:file', 'HEAD /dashboard/:file', 'GET /openapi.json']);

/** The dashboard page also takes the key as `?key=`: a browser navigation cannot send a header. */
const queryKeyRoutes = new Set(['GET /', 'HEAD /']);

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Compares a presented key with the configured one in constant time: both are hashed first,
 * so neither the content nor the length of the key leaks through timing.
 */
export function keyMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  return timingSafeEqual(digest(expected), digest(presented));
}

/** The token of an `Authorization: Bearer <token>` header, if that is what was sent. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S.*?)\s*$/i.exec(h);
  return m?.[1];
}

/** The key a request presents: its Bearer token, or `?key=` where the route allows it. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const bearer = bearerToken(request);
  if (bearer !== undefined) return bearer;
  if (!queryKeyRoutes.has(routeKey(request))) return undefined;
  const q = (request.query as Record<string, unknown> | undefined)?.key;
  return typeof q === 'string' ? q : undefined;
}

function routeKey(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? '(none)'}`;
}

/**
 * With an API key, every request except the open routes needs it; otherwise 401 with the
 * catalog's JSON body. A hook on the app (not an encapsulated plugin) so it covers every route.
 * The dashboard page answers its own 401 (a login page for browsers), see dashboard.ts.
 */
export function apiKeyAuth(app: FastifyInstance, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  // Short keys can be guessed; the check itself is constant-time, the key's length is not secret.
  if (apiKey.length < MIN_KEY_LENGTH) app.log.warn({ length: apiKey.length }, `HERALD_API_KEY is shorter than ${MIN_KEY_LENGTH} characters and could be guessed: use a long random one (openssl rand -hex 32)`);
  const refusals = new RefusalLog(app);
  app.decorateRequest('authorized', false);
  // A callback hook (no promise per request): it runs on every publish.
  app.addHook('onRequest', (request, reply, done) => {
    // CORS preflights never carry credentials; @fastify/cors answers them.
    if (request.method === 'OPTIONS') return done();
    const route = routeKey(request);
    if (open.has(route)) return done();
    const presented = presentedKey(request);
    request.authorized = keyMatches(apiKey, presented);
    // A browser opening the dashboard without a key gets the login page: not worth a warning.
    if (!request.authorized && (presented !== undefined || !queryKeyRoutes.has(route))) refusals.note(request, presented === undefined ? 'missing' : 'wrong');
    if (request.authorized || queryKeyRoutes.has(route)) return done();
    void reply.header('www-authenticate', 'Bearer realm="herald"');
    done(new HeraldError('unauthorized'));
  });
}

const MIN_KEY_LENGTH = 16;
/** At most one warning per this many ms; the ones between are counted in the next. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Logs refused keys at warn, at most one line per REFUSAL_LOG_INTERVAL_MS with the number held
 * back, so someone guessing keys shows in the log without flooding it. Never the key itself.
 */
class RefusalLog {
  readonly #app: FastifyInstance;
  #last = -Infinity;
  #held = 0;

  constructor(app: FastifyInstance) {
    this.#app = app;
  }

  note(request: FastifyRequest, why: 'missing' | 'wrong'): void {
    const now = Date.now();
    if (now - this.#last < REFUSAL_LOG_INTERVAL_MS) {
      this.#held++;
      return;
    }
    this.#app.log.warn({ ip: request.ip, method: request.method, url: request.url, key: why, alsoRefused: this.#held }, `request refused: ${why} API key${this.#held > 0 ? ` (and ${this.#held} more refusals in the last ${Math.round((now - this.#last) / 1000)} s)` : ''}`);
    this.#last = now;
    this.#held = 0;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** True once the API key was checked and matched (only set when a key is configured). */
    authorized: boolean;
  }
}
