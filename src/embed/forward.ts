// Hands a request (or a WebSocket upgrade) that arrived on someone else's server to Herald's own
// Fastify instance, with the mount prefix stripped from its URL. Herald's instance never
// listens: its routes, hooks (API key) and its WebSocket upgrades run as they do standalone.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { setMountPrefix } from '../http/mount.js';

/** "/realtime/" and "realtime" -> "/realtime"; "/" and "" -> "" (everything). */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').replace(/\/+$/, '');
  return p === '' ? '' : p.startsWith('/') ? p : `/${p}`;
}

/** Whether `url` is under `prefix`: the prefix itself, or the prefix then `/` or `?`. */
export function underPrefix(url: string | undefined, prefix: string): boolean {
  if (url === undefined) return false;
  if (prefix === '') return true;
  if (!url.startsWith(prefix)) return false;
  const next = url.charAt(prefix.length);
  return next === '' || next === '/' || next === '?';
}

function strip(req: IncomingMessage, prefix: string): void {
  const rest = (req.url ?? '/').slice(prefix.length);
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
  setMountPrefix(req, prefix);
}

/** Routes a plain HTTP request through Herald. */
export function forwardRequest(app: FastifyInstance, prefix: string, req: IncomingMessage, res: ServerResponse): void {
  strip(req, prefix);
  app.routing(req, res);
}

/** Routes an upgrade through Herald (its upgrade listener is on Herald's own server, src/http/ws.ts). */
export function forwardUpgrade(app: FastifyInstance, prefix: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  strip(req, prefix);
  app.server.emit('upgrade', req, socket, head);
}
