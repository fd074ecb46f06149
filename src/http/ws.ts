import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Admission } from '../core/admission.js';
import type { Rights } from '../core/access.js';
import type { ClientIdentity } from '../core/identity.js';
import type { StreamPosition } from '../core/message.js';
import { handlePlain } from '../core/plain-handler.js';
import type { Relay } from '../core/relay.js';
import { V1Handler, type TokenCheck } from '../core/v1-handler.js';
import { WebSocketTransport } from '../core/websocket-transport.js';
import type { Registration } from '../engines/registry.js';
import { HeraldError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import { describeValue, nestedDeeperThan } from '../protocol/json-safety.js';
import { checkSince, encodeError, V1 } from '../protocol/v1.js';
import { allowedOriginSet, originAllowed } from './origin.js';
import { answerRaw } from './raw-answer.js';
import { MAX_TOKEN_LENGTH } from './tokens.js';

export const supportedProtocols = [V1] as const;

const MAX_ID_LENGTH = 128;
const MAX_SINCE_LENGTH = 32_768;

/**
 * `?since={"topic":{"offset":N,"epoch":"E"}}`: where the client stands, so the registration's
 * topics are joined from there rather than from the server's cursor (what it last wrote, which
 * a dying connection may not have delivered).
 */
function resumeFrom(raw: string | undefined, maxDepth: number): Record<string, StreamPosition> | undefined {
  if (raw === undefined) return undefined;
  if (nestedDeeperThan(raw, maxDepth)) throw new HeraldError('too_deep', `\`since\` nests JSON deeper than ${maxDepth} levels (HERALD_MAX_JSON_DEPTH).`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new HeraldError('bad_request', '`since` must be JSON: {"topic": {"offset": N, "epoch": "E"}}');
  }
  const since = checkSince(value);
  if (typeof since === 'string') throw new HeraldError('bad_request', since);
  return since;
}

/**
 * A position in a topic is a request to read it: a topic the client may not hold is refused
 * before the upgrade. One exception keeps a client from locking itself out: a topic it held
 * before the backend revoked it while it was away (the registration still has its cursor) is
 * dropped from `since` instead; it is not joined either way.
 */
function checkSinceRights(since: Record<string, StreamPosition>, reg: Registration, rights: Rights): void {
  for (const topic of Object.keys(since)) {
    if (rights.mayHold(topic)) continue;
    if (!Object.hasOwn(reg.cursors, topic)) throw new HeraldError('forbidden', `this client may not read ${describeValue(topic, 80)}, named in ?since=`);
    delete since[topic];
  }
}

/** Subprotocols offered in Sec-WebSocket-Protocol. */
function offered(req: IncomingMessage): string[] {
  const h = req.headers['sec-websocket-protocol'];
  if (h === undefined) return [];
  return h.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

/** One query parameter, at most `maxLength` characters, given at most once. */
function queryValue(query: URLSearchParams | undefined, name: string, maxLength: number): string | undefined {
  if (query === undefined) return undefined;
  const all = query.getAll(name);
  if (all.length === 0) return undefined;
  if (all.length > 1) throw new HeraldError('invalid_body', `Invalid request: querystring/${name} must be given once.`);
  const value = all[0]!;
  if (value.length > maxLength) throw new HeraldError('invalid_body', `Invalid request: querystring/${name} must NOT have more than ${maxLength} characters.`);
  return value;
}

/** The registration id of `/ws/:id`, percent-decoded; undefined for a path that is not one. */
function registrationIdOf(path: string): string | undefined {
  const raw = path.slice('/ws/'.length);
  if (raw.includes('/')) return undefined;
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return '';
  }
}

const shuttingDown = (): HeraldError => new HeraldError('shutting_down', 'This node is shutting down: connect again (another node will take the connection).');

/**
 * The request target as a path and query: the absolute form (`GET http://host/ws/ID`, which
 * HTTP/1.1 servers must accept) loses its scheme and authority. Anything unparsable is left
 * as it is (and routed as an ordinary request).
 */
function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  try {
    const u = new URL(target);
    return `${u.pathname}${u.search}`;
  } catch {
    return target;
  }
}

/** What the checks before the upgrade decided; `checkedAt`: when the credential was checked. */
interface Accepted {
  client: ClientIdentity;
  since: Record<string, StreamPosition> | undefined;
  rights: Rights;
  checkedAt: number;
}

export interface WebSocketUpgrades {
  /** The server's 'upgrade' listener. */
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Refuse new upgrades from now on (the server is closing). */
  stop(): void;
}

/**
 * GET /ws/:id and GET /ws?token=, the WebSocket endpoints, served on the HTTP server's
 * 'upgrade' event: a handshake is the hottest path of a reconnect storm, and going through
 * Fastify's request, reply, hooks and schema for it cost more than the rest of the connect.
 * Checks run before the upgrade, in the order of their cost (overload, origin, subprotocol,
 * connection limit, then the registry or the token), so failures are plain HTTP answers in the
 * error catalog's JSON; then ws completes the handshake and the relay takes the socket with the
 * negotiated protocol (none offered: plain). Any other upgrade request goes through Fastify as
 * a normal request and the socket closes after the answer.
 */
export function webSocketUpgrades(app: FastifyInstance, relay: Relay, verify: TokenCheck | undefined, admission: Admission): WebSocketUpgrades {
  const { config } = relay;
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxFrameBytes, perMessageDeflate: false, clientTracking: false, handleProtocols: (protocols) => (protocols.has(V1) ? V1 : false) });
  const origins = config.allowedOrigins.includes('*') ? undefined : allowedOriginSet(config.allowedOrigins, config.publicUrl);
  const listedOrigins = origins === undefined ? '' : [...origins].join(', ');
  const v1 = new V1Handler(relay, verify);
  let stopped = false;

  // One set of listeners for every socket (ws calls them with the socket as `this`): an idle
  // connection holds no closures of ours.
  function onError(err: Error & { code?: string }): void {
    // ws has already closed the socket with the right code (1009 here, 1007 for bad UTF-8).
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') relay.stats.dropped('too_large');
    relay.log.debug({ err }, 'websocket error');
  }
  function onPong(this: WebSocket): void {
    const s = WebSocketTransport.sessionOf(this);
    if (s) s.missed = 0;
  }
  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const s = WebSocketTransport.sessionOf(this);
    // Frames still arriving after the close began are not served (nor counted as more drops).
    if (!s || s.closed) return;
    s.missed = 0;
    if (!s.admit(Date.now())) {
      relay.stats.dropped('rate_limit');
      s.close(CloseCode.policy, 'rate limit: too many messages per second (HERALD_CLIENT_RATE)', 'rate');
      return;
    }
    // One client's bad input must end at most its own request, never the process: anything a
    // handler throws is counted, logged, and answered (herald.v1 `internal`) or ignored (plain).
    try {
      if (s.protocol === 'plain') handlePlain(relay, s, data, isBinary);
      else v1.handle(s, data, isBinary);
    } catch (err) {
      relay.stats.refused('handler_error');
      relay.log.warn({ err, client: s.id, protocol: s.protocol }, 'a client message failed; the connection stays up');
      if (s.protocol === 'herald.v1') s.reply(encodeError(undefined, 'internal', 'internal error while handling this request; see the server log'));
    }
  }
  // Node takes its own socket error listener off before 'upgrade'; until ws puts its own on,
  // a reset while the registry is asked must not become an uncaught error.
  function onEarlySocketError(this: Duplex): void {
    this.destroy();
  }

  /** Checks of every upgrade that cost nothing: origin, subprotocols, the connection limit. */
  function admit(req: IncomingMessage): void {
    if (origins !== undefined && !originAllowed(origins, req.headers.origin)) {
      throw new HeraldError('origin_not_allowed', `The Origin ${describeValue(req.headers.origin, 100)} is not allowed (${listedOrigins}: HERALD_ALLOWED_ORIGINS and HERALD_PUBLIC_URL); add it to HERALD_ALLOWED_ORIGINS to let pages on that site connect.`);
    }
    const protocols = offered(req);
    if (protocols.length > 0 && !protocols.some((p) => (supportedProtocols as readonly string[]).includes(p))) {
      throw new HeraldError('unsupported_protocol', `None of the offered subprotocols (${protocols.join(', ')}) is supported; offer ${supportedProtocols.join(' or ')}, or none for the plain protocol.`);
    }
    if (relay.hub.size >= config.maxConnections) throw new HeraldError('too_many_connections');
  }

  async function byRegistration(id: string, query: URLSearchParams | undefined): Promise<Accepted> {
    if (id.length > MAX_ID_LENGTH) throw new HeraldError('invalid_body', `Invalid request: params/id must NOT have more than ${MAX_ID_LENGTH} characters.`);
    const since = resumeFrom(queryValue(query, 'since', MAX_SINCE_LENGTH), config.maxJsonDepth);
    const checkedAt = Date.now();
    const reg = id === '' ? undefined : await relay.engine.registry.get(id);
    if (!reg) throw new HeraldError('unknown_client');
    const rights = relay.rightsOf(reg);
    if (since) checkSinceRights(since, reg, rights);
    return { client: reg, since, rights, checkedAt };
  }

  // GET /ws?token=JWT: a connection token instead of a registration (DESIGN.md 7).
  async function byToken(query: URLSearchParams | undefined): Promise<Accepted> {
    if (!verify) throw new HeraldError('tokens_disabled');
    const token = queryValue(query, 'token', MAX_TOKEN_LENGTH);
    const rawSince = queryValue(query, 'since', MAX_SINCE_LENGTH);
    if (token === undefined) throw new HeraldError('invalid_token', 'Send the connection token as ?token=JWT.');
    const checkedAt = Date.now();
    const grant = await verify(token);
    await relay.checkRevoked(grant);
    const since = resumeFrom(rawSince, config.maxJsonDepth);
    const client = relay.tokenClient(grant);
    const rights = relay.rightsOf(client);
    const forbidden = since && rights.firstForbidden(Object.keys(since));
    if (forbidden !== undefined) throw new HeraldError('forbidden', `this client may not read ${describeValue(forbidden, 80)}, named in ?since=`);
    return { client, since, rights, checkedAt };
  }

  function refuse(socket: Duplex, err: unknown, req: IncomingMessage): void {
    const e = err instanceof HeraldError ? err : new HeraldError('internal');
    if (e.status >= 500 && e.code !== 'overloaded' && e.code !== 'shutting_down' && e.code !== 'too_many_connections') relay.log.error({ err, url: req.url }, 'websocket upgrade failed');
    else relay.log.debug({ code: e.code, url: req.url }, e.message);
    answerRaw(socket, e, e.code === 'overloaded' || e.code === 'shutting_down' ? { 'Retry-After': 1 } : {});
  }

  function upgraded(ws: WebSocket, accepted: Accepted): void {
    ws.on('error', onError);
    const protocol = ws.protocol === V1 ? 'herald.v1' : 'plain';
    const { client, since, rights, checkedAt } = accepted;
    relay.connect(new WebSocketTransport(ws), client, protocol, since, rights, checkedAt);
    ws.on('pong', onPong);
    ws.on('message', onMessage);
    relay.log.debug({ protocol, token: client.expiresAt !== undefined }, 'socket connected');
  }

  /** `id`: the registration of /ws/:id; undefined for /ws?token=. */
  async function setUp(req: IncomingMessage, socket: Duplex, head: Buffer, id: string | undefined, query: URLSearchParams | undefined): Promise<void> {
    admission.begin();
    let accepted: Accepted;
    try {
      admit(req);
      accepted = id === undefined ? await byToken(query) : await byRegistration(id, query);
      // Again after the awaits: setups in flight together must not pass the limit.
      if (relay.hub.size >= config.maxConnections) throw new HeraldError('too_many_connections');
      if (stopped) throw shuttingDown();
    } finally {
      admission.done();
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', onEarlySocketError);
      upgraded(ws, accepted);
    });
  }

  /** Anything but a WebSocket endpoint: routed as a plain request, the socket closed after the answer. */
  function throughFastify(req: IncomingMessage, socket: Duplex): void {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.once('finish', () => socket.destroy());
    app.routing(req, res);
  }

  /**
   * Runs `then` once no earlier answer is being written on this connection: an upgrade pipelined
   * behind a keep-alive request is parsed while that request's answer still owns the socket.
   * Taking the socket then interleaves two answers, and a second ServerResponse on it throws
   * (ERR_HTTP_SOCKET_ASSIGNED) inside the server's 'upgrade' listener, which ends the process.
   */
  function whenIdle(socket: Duplex, then: () => void): void {
    const answering = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!answering) {
      then();
      return;
    }
    // 'close': that answer was written (or its socket closed); another queued answer may follow.
    answering.once('close', () => {
      if (!socket.destroyed) whenIdle(socket, then);
    });
  }

  function dispatch(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = originForm(req.url ?? '/');
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // The path is decoded once: the token endpoint, a registration's, or neither.
    const id = path.startsWith('/ws/') ? registrationIdOf(path) : undefined;
    const isEndpoint = path === '/ws' || id !== undefined;
    if (!isEndpoint || req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      throughFastify(req, socket);
      return;
    }
    // Before anything else: a refusal must cost as little as possible.
    const wait = admission.refusal();
    if (stopped || wait !== undefined) {
      relay.stats.refused('overloaded');
      answerRaw(socket, stopped ? shuttingDown() : new HeraldError('overloaded'), { 'Retry-After': wait ?? 1 });
      return;
    }
    const query = q < 0 ? undefined : new URLSearchParams(url.slice(q + 1));
    setUp(req, socket, head, id, query).catch((err: unknown) => refuse(socket, err, req));
  }

  return {
    onUpgrade(req, socket, head) {
      socket.on('error', onEarlySocketError);
      // Whatever one request does, it ends at most its own connection, never the process.
      whenIdle(socket, () => {
        try {
          dispatch(req, socket, head);
        } catch (err) {
          relay.log.warn({ err, url: req.url }, 'an upgrade request failed; its connection is closed');
          socket.destroy();
        }
      });
    },
    stop() {
      stopped = true;
    },
  };
}

/**
 * The same endpoints as plain GET routes, for what is not an upgrade (400 not_websocket) and
 * so that /openapi.json describes them; upgrades never reach Fastify (see above).
 */
export const wsRoutes: FastifyPluginAsync = async (app) => {
  const notAnUpgrade = async (): Promise<never> => {
    throw new HeraldError('not_websocket');
  };
  const since = { type: 'string', maxLength: MAX_SINCE_LENGTH } as const;
  app.get('/ws/:id', { schema: { params: { type: 'object', properties: { id: { type: 'string', maxLength: MAX_ID_LENGTH } } }, querystring: { type: 'object', properties: { since } } } }, notAnUpgrade);
  app.get('/ws', { schema: { querystring: { type: 'object', properties: { token: { type: 'string', maxLength: MAX_TOKEN_LENGTH }, since } } } }, notAnUpgrade);
};
