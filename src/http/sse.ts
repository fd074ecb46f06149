import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Admission } from '../core/admission.js';
import { overloadCheck } from './overload.js';
import type { Rights } from '../core/access.js';
import type { StreamPosition } from '../core/message.js';
import type { Connecting, Relay } from '../core/relay.js';
import { SseTransport } from '../core/sse-transport.js';
import { HeraldError } from '../errors.js';
import { MAX_TOKEN_LENGTH, parseToken, positionsFor, retryLine, sseEvent } from '../protocol/sse.js';
import { encodeWelcome } from '../protocol/v1.js';
import type { TokenCheck } from '../core/v1-handler.js';
import { MAX_TOKEN_LENGTH as MAX_JWT_LENGTH } from './tokens.js';

interface SseQuery {
  topics?: string | string[];
  last_event_id?: string;
}

/** Headers of ours that a plugin's (CORS) must not repeat. */
const OWN_HEADERS = new Set(['content-type', 'cache-control', 'connection', 'content-length', 'transfer-encoding', 'x-accel-buffering']);

/**
 * `?topics=a,b` (or repeated `topics=`): the stream's topics, each one the client may hold
 * (403 before the stream starts otherwise); without it, `fallback`. Topics with a comma in
 * their name cannot be picked this way; the registration's own list has no such limit.
 */
export function pickTopics(relay: Relay, raw: string | string[] | undefined, rights: Rights, fallback: string[]): string[] {
  if (raw === undefined) return fallback.filter((t) => rights.mayHold(t)).slice(0, relay.config.maxTopics);
  const named = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(','));
  const check = relay.checkTopics(named);
  if (!check.ok) throw new HeraldError(check.code, check.message);
  const forbidden = rights.firstForbidden(check.topics);
  if (forbidden !== undefined) throw new HeraldError('forbidden', `this client may not read ${JSON.stringify(forbidden)}, named in ?topics=`);
  return check.topics;
}

/**
 * Where the client stands, from `Last-Event-ID` (what EventSource sends on reconnect) or
 * `?last_event_id=`: positions for the stream's topics. A value that is not one of our tokens
 * is ignored (the stream then starts as a fresh one would): it is client input.
 */
function resumeFrom(request: FastifyRequest<{ Querystring: SseQuery }>, topics: string[]): Record<string, StreamPosition> | undefined {
  const header = request.headers['last-event-id'];
  const raw = typeof header === 'string' && header.length > 0 ? header : request.query.last_event_id;
  if (raw === undefined || raw.length === 0) return undefined;
  const token = parseToken(raw.trim());
  if (!token) {
    request.log.debug('ignored a Last-Event-ID that is not a Herald resume token');
    return undefined;
  }
  return positionsFor(token, topics);
}

/**
 * Opens an SSE stream for a client whose credential was checked (a registration here; a
 * token later, with a server-made id, its claims' user, topics and grants and no cursors): the
 * response head, the `retry:` line and a `welcome` event, then the relay joins its topics
 * and the hub writes its events.
 */
export function openStream(relay: Relay, request: FastifyRequest<{ Querystring: SseQuery }>, reply: FastifyReply, client: Connecting): void {
  const since = resumeFrom(request, client.topics);
  reply.hijack();
  const socket = request.raw.socket;
  let head = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache, no-transform\r\nConnection: close\r\nX-Accel-Buffering: no\r\n';
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined || OWN_HEADERS.has(name.toLowerCase())) continue;
    head += `${name}: ${Array.isArray(value) ? value.join(', ') : String(value)}\r\n`;
  }
  // Browsers reconnect after `retry` ms; a spread keeps a restarted node's clients from coming back at once.
  const retryMs = 1000 + Math.floor(Math.random() * 2000);
  const welcome = sseEvent(encodeWelcome(client.id, client.userId, client.topics, relay.config.heartbeatMs), undefined, 'welcome');
  socket.setNoDelay(true);
  socket.setKeepAlive(true, relay.config.heartbeatMs);
  socket.write(`${head}\r\n${retryLine(retryMs)}${welcome}`);
  relay.open(new SseTransport(socket), client, 'sse', since);
}

const querystring = {
  type: 'object',
  properties: {
    topics: { anyOf: [{ type: 'string', maxLength: 65_536 }, { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 65_536 } }] },
    last_event_id: { type: 'string', maxLength: MAX_TOKEN_LENGTH },
  },
} as const;

/**
 * GET /sse/:id: a registration's stream of Server-Sent Events (DESIGN.md 9); GET /sse?token=JWT:
 * a connection token's (DESIGN.md 7), which ends at the token's expiry (`event: close`, 4003):
 * SSE has no `refresh`, so the page opens a new EventSource with a new token.
 */
export const sseRoutes: FastifyPluginAsync<{ relay: Relay; verify: TokenCheck | undefined; admission: Admission }> = async (app, { relay, verify, admission }) => {
  const onRequest = overloadCheck(admission, relay);
  /** Counts the setup in flight (core/admission.ts) around the checks that wait. */
  async function pending<T>(work: () => Promise<T>): Promise<T> {
    admission.begin();
    try {
      return await work();
    } finally {
      admission.done();
    }
  }
  app.route<{ Params: { id: string }; Querystring: SseQuery }>({
    method: 'GET',
    url: '/sse/:id',
    exposeHeadRoute: false,
    onRequest,
    schema: { params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } } }, querystring },
    handler: async (request, reply) => {
      if (relay.hub.size >= relay.config.maxConnections) throw new HeraldError('too_many_connections');
      const checkedAt = Date.now();
      const reg = await pending(() => relay.engine.registry.get(request.params.id));
      if (!reg) throw new HeraldError('unknown_client');
      // Again after the await: requests in flight together must not pass the limit.
      if (relay.hub.size >= relay.config.maxConnections) throw new HeraldError('too_many_connections');
      const rights = relay.rightsOf(reg);
      const topics = pickTopics(relay, request.query.topics, rights, reg.held ?? reg.topics);
      openStream(relay, request, reply, { id: reg.id, userId: reg.userId, rights, topics, cursors: reg.cursors, registered: true, checkedAt });
    },
  });

  app.route<{ Querystring: SseQuery & { token?: string } }>({
    method: 'GET',
    url: '/sse',
    exposeHeadRoute: false,
    onRequest,
    schema: { querystring: { ...querystring, properties: { ...querystring.properties, token: { type: 'string', maxLength: MAX_JWT_LENGTH } } } },
    handler: async (request, reply) => {
      if (!verify) throw new HeraldError('tokens_disabled');
      if (request.query.token === undefined) throw new HeraldError('invalid_token', 'Send the connection token as ?token=JWT.');
      const checkedAt = Date.now();
      const grant = await pending(async () => {
        const g = await verify(request.query.token!);
        await relay.checkRevoked(g);
        return g;
      });
      if (relay.hub.size >= relay.config.maxConnections) throw new HeraldError('too_many_connections');
      const client = relay.tokenClient(grant);
      const rights = relay.rightsOf(client);
      const topics = pickTopics(relay, request.query.topics, rights, client.topics);
      openStream(relay, request, reply, { id: client.id, userId: client.userId, rights, topics, cursors: {}, registered: false, expiresAt: grant.expiresAt, issuedAt: grant.issuedAt, checkedAt });
    },
  });
};
