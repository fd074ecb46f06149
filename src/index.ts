// The `herald` package entry: Herald embedded in a Node program. `createHerald(config)` builds
// the same app `herald serve` runs (buildApp), ready to mount into an existing Fastify app or
// node:http server under a prefix, or to listen on its own port.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp, type Herald } from './app.js';
import { loadConfig, type Config } from './config.js';
import { HeraldError, type ErrorCode } from './errors.js';
import type { Message, UserId } from './core/message.js';
import type { Relay } from './core/relay.js';
import { forwardRequest, forwardUpgrade, normalizePrefix, underPrefix } from './embed/forward.js';

export type { Config } from './config.js';
export { ConfigError, defaults } from './config.js';
export { HeraldError } from './errors.js';
export type { ErrorCode } from './errors.js';

export interface HeraldOptions extends Partial<Config> {
  /** A pino logger to log into (default: a new one at `logLevel`, which is `warn` when embedded, not `info`). */
  logger?: Logger;
}

export interface AttachOptions {
  /** Path Herald answers under, e.g. "/realtime" (default: every path). */
  prefix?: string;
}

/** The body of POST /register. */
export interface RegisterBody {
  user_id: UserId;
  topics?: string[];
  [more: string]: unknown;
}

/** The answer of POST /register: the client's WebSocket URL and id, its topics and grants. */
export interface Registered {
  url: string;
  id: string;
  topics: string[];
  grants?: string[];
}

/** What publish() sends: text, any JSON value, or bytes (a binary message). */
export type PublishData = string | Uint8Array | null | boolean | number | readonly unknown[] | { readonly [key: string]: unknown };

export interface EmbeddedHerald {
  readonly config: Config;
  /** Herald's own Fastify instance (never listens unless you call listen()). */
  readonly app: FastifyInstance;
  readonly relay: Relay;
  /**
   * A Fastify plugin: `await app.register(herald.plugin, { prefix: '/realtime' })` serves
   * Herald's HTTP API and WebSockets under /realtime on your app's server.
   */
  readonly plugin: FastifyPluginAsync;
  /**
   * Serves Herald under `prefix` on a node:http server: its requests and WebSocket upgrades go
   * to Herald, everything else to the server's own listeners.
   */
  attach(server: Server, options?: AttachOptions): void;
  /**
   * Registers a client from this process, as POST /register does (same validation, limits and
   * answer). `host` is the Host the client reaches your server by (in a request handler:
   * `req.headers.host`), `secure` gives a wss:// URL; the `url` goes through the mount prefix.
   * Rejects with a HeraldError (`invalid_body`, `too_many_registrations`, ...).
   */
  register(body: RegisterBody, options: { host: string; secure?: boolean }): Promise<Registered>;
  /** Publishes from this process, as POST /publish does. A string is a text message, bytes a binary one, anything else JSON. */
  publish(topic: string, data: PublishData, options?: { userId?: UserId }): Promise<{ id: string; offset: number }>;
  /** Runs Herald on its own port; resolves with its address (http://HOST:PORT). */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  /** Closes Herald's sockets (1001) and its engine; your server stays up. */
  close(): Promise<void>;
}

/**
 * Builds Herald for embedding. `options` takes the settings of `herald serve` as typed values
 * (`{ port: 0, clientPublish: ['chat.*'], redisUrl: 'redis://...' }`); HERALD_* variables are
 * not read (pass `loadConfig(process.env)` values yourself to use them).
 */
export async function createHerald(options: HeraldOptions = {}): Promise<EmbeddedHerald> {
  const { logger, ...overrides } = options;
  const config = loadConfig({}, {}, { logLevel: 'warn', ...overrides });
  const herald: Herald = await buildApp(config, { logger: logger ?? pino({ level: config.logLevel }) });
  await herald.app.ready();
  const { app, relay } = herald;

  // Where this Herald was last mounted, for the URLs register() hands out.
  let mounted = '';

  const plugin: FastifyPluginAsync = async (instance) => {
    // Its upgrade listener would route Herald's upgrades through the app too: two handlers, one socket.
    if (instance.hasDecorator('websocketServer')) {
      throw new Error('herald.plugin cannot share a Fastify app with @fastify/websocket (both would take the WebSocket upgrades): mount Herald on its own node:http server with attach(), or run it with listen()');
    }
    const prefix = normalizePrefix(instance.prefix);
    mounted = prefix;
    // Herald parses its own bodies (with its own limits): leave the stream unread here.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const handler = (request: FastifyRequest, reply: FastifyReply): void => {
      reply.hijack();
      forwardRequest(app, prefix, request.raw, reply.raw);
    };
    instance.all('/', { schema: { hide: true } }, handler);
    instance.all('/*', { schema: { hide: true } }, handler);
    const onUpgrade = upgradeListener(app, prefix, instance.server);
    instance.server.on('upgrade', onUpgrade);
    instance.addHook('onClose', async () => {
      instance.server.removeListener('upgrade', onUpgrade);
      await herald.close();
    });
  };

  return {
    config,
    app,
    relay,
    plugin,
    attach(server, attachOptions = {}) {
      const prefix = normalizePrefix(attachOptions.prefix);
      mounted = prefix;
      // Herald answers its paths first; the server's own request listeners get the rest.
      const others = server.listeners('request') as Array<(...args: unknown[]) => void>;
      server.removeAllListeners('request');
      server.on('request', (req, res) => {
        if (underPrefix(req.url, prefix)) forwardRequest(app, prefix, req, res);
        else if (others.length === 0) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        else for (const listener of others) listener.call(server, req, res);
      });
      server.on('upgrade', upgradeListener(app, prefix, server));
      server.once('close', () => void herald.close());
    },
    async register(body, { host, secure = false }) {
      const headers: Record<string, string> = { host };
      if (config.apiKey !== undefined) headers.authorization = `Bearer ${config.apiKey}`;
      const res = await app.inject({ method: 'POST', url: '/register', headers, payload: body });
      const answer = res.json<Registered & { error?: ErrorCode; message?: string }>();
      if (res.statusCode !== 200) throw new HeraldError(answer.error ?? 'internal', answer.message);
      // The route built the URL for an unmounted Herald; the client comes in through the prefix.
      let url = mounted === '' ? answer.url : answer.url.replace(/\/ws\/([^/]+)$/, `${mounted}/ws/$1`);
      if (secure && config.publicUrl === undefined) url = url.replace(/^ws:/, 'wss:');
      return { ...answer, url };
    },
    async publish(topic, data, publishOptions = {}) {
      const base = { topic, userId: publishOptions.userId };
      const m: Message = await relay.publish(
        typeof data === 'string' ? { ...base, kind: 'text', body: data } : data instanceof Uint8Array ? { ...base, kind: 'binary', body: Buffer.from(data).toString('base64') } : { ...base, kind: 'json', body: JSON.stringify(data) },
      );
      return { id: m.id, offset: m.offset };
    },
    listen(listenOptions = {}) {
      return app.listen({ port: listenOptions.port ?? config.port, host: listenOptions.host ?? config.host, backlog: 65_535 });
    },
    close: () => herald.close(),
  };
}

/** Upgrades under the prefix go to Herald; others are left to the server's other listeners, if any. */
function upgradeListener(app: FastifyInstance, prefix: string, server: Server) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (underPrefix(req.url, prefix)) forwardUpgrade(app, prefix, req, socket, head);
    // Nobody else takes upgrades: answer rather than leave the socket hanging.
    else if (server.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  };
}
