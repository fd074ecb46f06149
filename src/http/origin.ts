// Which pages may open WebSockets: the Origin check of every upgrade (src/http/ws.ts).
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
 * Decides whether a WebSocket upgrade may proceed (`origin`: the request's Origin header).
 * Browsers always send Origin, so this is what stops a page on another site from opening
 * sockets with a user's registration URL. Requests without Origin come from non-browser
 * clients (backends, the CLI) and pass. Otherwise scheme, host and port must match an allowed
 * origin exactly. (CORS for the HTTP API is @fastify/cors, configured in app.ts.)
 */
export function originAllowed(allowed: ReadonlySet<string>, origin: string | undefined): boolean {
  if (origin === undefined) return true;
  const o = originOf(origin);
  return o !== undefined && allowed.has(o);
}
