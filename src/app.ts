import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { Admission } from './core/admission.js';
import { startHeartbeat } from './core/heartbeat.js';
import { redactingSerializers } from './core/log-redact.js';
import { Relay } from './core/relay.js';
import { WebhookSender } from './core/webhook-sender.js';
import { CountingStats } from './core/relay-stats.js';
import type { Engine } from './engines/engine.js';
import { HERALD_VERSION } from './version.js';
import { createMemoryEngine } from './engines/memory/engine-memory.js';
import { createRedisEngine } from './engines/redis/engine-redis.js';
import { apiKeyAuth } from './http/auth.js';
import { clientErrorHandler } from './http/client-error.js';
import { dashboardRoutes } from './http/dashboard.js';
import { errorHandling } from './http/error-handler.js';
import { healthRoutes } from './http/health.js';
import { historyRoutes } from './http/history.js';
import { jsonBodyParser } from './http/json-body.js';
import { metricsRoutes } from './http/metrics.js';
import { openapi } from './http/openapi.js';
import { presenceRoutes } from './http/presence.js';
import { publishRoutes } from './http/publish.js';
import { registerRoutes } from './http/register.js';
import { sseRoutes } from './http/sse.js';
import { statsRoutes } from './http/stats.js';
import { tokenVerifier } from './http/tokens.js';
import { userRoutes } from './http/users.js';
import { topicsRoutes } from './http/topics.js';
import { webSocketUpgrades, wsRoutes } from './http/ws.js';

export interface Herald {
  app: FastifyInstance;
  relay: Relay;
  engine: Engine;
  stats: CountingStats;
  log: Logger;
  /** Closes sockets (1001), the HTTP server and the engine. */
  close(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  engine?: Engine;
}

/** Builds Herald: engine, relay, and the Fastify app with every route. Never listens. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<Herald> {
  // Every log line goes through the redacting serializers: no registration id, no query string.
  const log = (options.logger ?? pino({ level: config.logLevel })).child({}, { serializers: redactingSerializers });
  // Before the engine: a token key that cannot be read stops the start with a clear error.
  const verify = tokenVerifier(config);
  const engine = options.engine ?? (await createEngine(config, log));
  const stats = new CountingStats();
  const relay = new Relay(engine, config, log, stats);
  const stopHeartbeat = startHeartbeat(relay.hub, config.heartbeatMs);
  const webhooks = config.webhookUrl === undefined || config.webhookSecret === undefined
    ? undefined
    : new WebhookSender(engine.webhooks, { url: config.webhookUrl, secret: config.webhookSecret, batch: config.webhookBatch, timeoutMs: config.webhookTimeoutMs }, log, stats.webhooks);
  webhooks?.start();

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Per-request logs would double the cost of a publish; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // A child logger per request (for reqId) costs a serialization and garbage on every publish;
    // Herald's logs name the client, topic or route instead.
    childLoggerFactory: (logger) => logger,
    bodyLimit: config.maxBodyBytes,
    // A slow body must not hold a connection forever; upgraded sockets are not affected. Node
    // checks the timeout every connectionsCheckingInterval, so short timeouts check more often.
    requestTimeout: config.requestTimeoutMs,
    http: {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.requestTimeoutMs / 4))),
    },
    clientErrorHandler: clientErrorHandler(config.requestTimeoutMs),
    // A user id may be 128 characters, percent-encoded up to 12 bytes each (DELETE /users/:user).
    routerOptions: { maxParamLength: 2048 },
    trustProxy: config.trustProxy,
    // Closing: after every socket and stream was told to go (preClose), cut what still hangs on.
    forceCloseConnections: true,
    ajv: { customOptions: { coerceTypes: false } },
  });
  errorHandling(app, stats);
  jsonBodyParser(app, config.maxJsonDepth);
  await app.register(cors, { origin: config.allowedOrigins.includes('*') ? true : config.allowedOrigins });
  // A node behind on its work answers new connections 503 rather than queueing them.
  const admission = new Admission(config);
  // WebSocket upgrades are served on the server's 'upgrade' event, not through Fastify (ws.ts).
  const upgrades = webSocketUpgrades(app, relay, verify, admission);
  app.server.on('upgrade', upgrades.onUpgrade);
  app.addHook('preClose', async () => {
    upgrades.stop();
    relay.shutdown();
    await waitFor(() => relay.hub.size === 0, 3000);
  });
  // App-wide: the API key (the WebSocket Origin check is part of the upgrade, in ws.ts).
  apiKeyAuth(app, config.apiKey);
  await openapi(app, HERALD_VERSION);
  await app.register(healthRoutes, { relay });
  await app.register(registerRoutes, { relay, admission });
  await app.register(publishRoutes, { relay });
  await app.register(userRoutes, { relay });
  await app.register(wsRoutes);
  await app.register(sseRoutes, { relay, verify, admission });
  await app.register(historyRoutes, { relay });
  await app.register(presenceRoutes, { relay });
  await app.register(metricsRoutes, { relay, stats });
  await app.register(statsRoutes, { relay, stats });
  await app.register(topicsRoutes, { relay });
  await app.register(dashboardRoutes, { apiKey: config.apiKey });

  let closed = false;
  return {
    app,
    relay,
    engine,
    stats,
    log,
    async close() {
      if (closed) return;
      closed = true;
      stopHeartbeat();
      admission.close();
      relay.close();
      await app.close();
      // After the sockets closed (their vacated/left events are queued), before the engine goes:
      // what is undelivered stays in Redis for the next node (memory: lost, as documented).
      await webhooks?.close();
      await engine.close();
    },
  };
}

async function createEngine(config: Config, log: Logger): Promise<Engine> {
  if (!config.redisUrl) return createMemoryEngine(config);
  return createRedisEngine(config, log);
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}
