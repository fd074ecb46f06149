import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { HeraldError } from '../errors.js';

/** Where `npm run build` puts the dashboard (scripts/build-web.mjs): dist/web/. */
export const webRoot = new URL('../../web/', import.meta.url);

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// The page talks only to this server (HTTP and WebSocket, possibly via HERALD_PUBLIC_URL's host).
const csp = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface Asset {
  type: string;
  body: Buffer;
}

/** Reads the built files once: a handful of small files, served from memory. */
function loadAssets(dir: URL): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return assets;
  }
  for (const name of names) {
    const type = types[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(new URL(name, dir)) });
  }
  return assets;
}

/**
 * The dashboard: the page at `/`, its assets at /dashboard/:file. With HERALD_API_KEY the page
 * needs the key, as a Bearer header or, since a browser navigation cannot send one, as `?key=`
 * (auth.ts checks it). The page then keeps the key in sessionStorage, removes it from the address
 * bar, and sends it as a Bearer header on its API calls; no cookie, so no other site can ever
 * make the browser act with the key (no CSRF). Without the key, browsers get a login page (401).
 */
export const dashboardRoutes: FastifyPluginAsync<{ apiKey: string | undefined; dir?: URL }> = async (app, { apiKey, dir = webRoot }) => {
  const assets = loadAssets(dir);

  const send = (reply: FastifyReply, name: string, status = 200): FastifyReply => {
    const a = assets.get(name);
    if (!a) throw new HeraldError('not_found', 'The dashboard is not built: run `npm run build` (it writes dist/web/).');
    return reply
      .code(status)
      .type(a.type)
      .header('cache-control', 'no-store')
      .header('content-security-policy', csp)
      .header('referrer-policy', 'no-referrer')
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .send(a.body);
  };

  app.get('/', async (request, reply) => {
    if (apiKey !== undefined && !request.authorized) {
      if (!(request.headers.accept ?? '').includes('text/html')) throw new HeraldError('unauthorized');
      void reply.header('www-authenticate', 'Bearer realm="herald"');
      return send(reply, 'login.html', 401);
    }
    return send(reply, 'index.html');
  });

  app.get<{ Params: { file: string } }>('/dashboard/:file', async (request, reply) => {
    const { file } = request.params;
    if (file.endsWith('.html') || !assets.has(file)) throw new HeraldError('not_found', `No dashboard asset ${file}.`);
    return send(reply, file).header('cache-control', 'no-cache');
  });
};
