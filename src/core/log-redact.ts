// Registration ids are credentials (whoever holds one can connect as that client), and query
// strings carry `?key=` (the dashboard's API key), `?token=` and `?since=`: none of them is ever
// written to a log. A short hash still lets an operator follow one client through the log.
import { createHash } from 'node:crypto';
import { stdSerializers, type LoggerOptions } from 'pino';

/** 12 hex digits of the id's SHA-256: enough to tell clients apart, useless to connect with. */
export function clientTag(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

/** Routes whose next path segment is a registration id. */
const idRoutes = new Set(['ws', 'sse', 'register']);
/**
 * The first two path segments, as the router reads them: after the scheme and authority of an
 * absolute-form target (`GET http://host/ws/ID`), the route name possibly percent-encoded (`%77s`).
 */
const idSegment = /^((?:[a-z][a-z\d+.-]*:\/\/[^/?#]*)?\/([^/?#]*)\/)([^/?#]+)/i;

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A request URL fit for a log: the id in /ws/:id (and kin) hashed, the query string's values dropped. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  path = path.replace(idSegment, (m, prefix: string, route: string, id: string) => (idRoutes.has(decoded(route)) ? `${prefix}${clientTag(id)}` : m));
  if (q < 0) return path;
  const names = url
    .slice(q + 1)
    .split('&')
    .map((p) => p.split('=')[0]!)
    .filter((n) => n.length > 0 && n.length <= 32 && /^[\w.-]+$/.test(n));
  return `${path}?${names.map((n) => `${n}=…`).join('&')}`;
}

/** pino serializers: every log line that names a client, a URL or a request goes through them. */
export const redactingSerializers: NonNullable<LoggerOptions['serializers']> = {
  client: (id: unknown) => (typeof id === 'string' ? clientTag(id) : id),
  url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
  req: (req: { method?: string; url?: string }) => ({ method: req.method, url: typeof req.url === 'string' ? redactUrl(req.url) : undefined }),
  // ioredis puts the failed command on its errors, and its arguments name registration keys ({r:ID}).
  err: (err: unknown) => {
    if (!(err instanceof Error)) return err;
    const out = stdSerializers.err(err) as unknown as Record<string, unknown>;
    delete out['command'];
    return out;
  },
};
