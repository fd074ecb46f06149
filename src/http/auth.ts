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
  app.decorateRequest('authorized', false);
  // A callback hook (no promise per request): it runs on every publish.
  app.addHook('onRequest', (request, reply, done) => {
    // CORS preflights never carry credentials; @fastify/cors answers them.
    if (request.method === 'OPTIONS') return done();
    const route = routeKey(request);
    if (open.has(route)) return done();
    request.authorized = keyMatches(apiKey, presentedKey(request));
    if (request.authorized || queryKeyRoutes.has(route)) return done();
    void reply.header('www-authenticate', 'Bearer realm="herald"');
    done(new HeraldError('unauthorized'));
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** True once the API key was checked and matched (only set when a key is configured). */
    authorized: boolean;
  }
}
