import type {} from '@fastify/websocket';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import type { Rights } from '../core/access.js';
import type { Relay } from '../core/relay.js';
import type { Registration } from '../engines/registry.js';
import { handlePlain } from '../core/plain-handler.js';
import { WebSocketTransport } from '../core/websocket-transport.js';
import { V1Handler, type TokenCheck } from '../core/v1-handler.js';
import type { ClientIdentity } from '../core/identity.js';
import { MAX_TOKEN_LENGTH } from './tokens.js';
import { HeraldError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import { checkSince, V1 } from '../protocol/v1.js';
import type { StreamPosition } from '../core/message.js';

export const supportedProtocols = [V1] as const;

/**
 * `?since={"topic":{"offset":N,"epoch":"E"}}`: where the client stands, so the registration's
 * topics are joined from there rather than from the server's cursor (what it last wrote, which
 * a dying connection may not have delivered).
 */
function resumeFrom(raw: string | undefined): Record<string, StreamPosition> | undefined {
  if (raw === undefined) return undefined;
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
 * After the upgrade, nothing should keep this request alive: @fastify/websocket leaves its
 * ServerResponse on the socket and an error listener closing over request and reply, which
 * together cost kilobytes per idle connection. ws closes the socket itself on protocol errors.
 * Ours is added before theirs is removed: deleting an event's only listener would turn the
 * socket's listener table into a dictionary (~250 bytes more per connection).
 */
function release(ws: WebSocket, onError: (err: Error) => void): void {
  const raw = (ws as unknown as { _socket: { _httpMessage: unknown } })._socket;
  raw._httpMessage = null;
  const theirs = ws.rawListeners('error');
  ws.on('error', onError);
  for (const listener of theirs) ws.off('error', listener as (err: Error) => void);
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
    if (!Object.hasOwn(reg.cursors, topic)) throw new HeraldError('forbidden', `this client may not read ${JSON.stringify(topic)}, named in ?since=`);
    delete since[topic];
  }
}

/** Subprotocols offered in Sec-WebSocket-Protocol. */
function offered(request: FastifyRequest): string[] {
  const h = request.headers['sec-websocket-protocol'];
  if (h === undefined) return [];
  return h.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * GET /ws/:id and GET /ws?token=: checks run before the upgrade (so failures are plain HTTP
 * answers), then the socket is handed to the relay with the negotiated protocol: none offered -> plain.
 */
export const wsRoutes: FastifyPluginAsync<{ relay: Relay; verify: TokenCheck | undefined }> = async (app, { relay, verify }) => {
  /** What preValidation decided, for the upgrade; `checkedAt`: when the credential was checked. */
  const accepted = new WeakMap<FastifyRequest, { client: ClientIdentity; since: Record<string, StreamPosition> | undefined; rights: Rights; checkedAt: number }>();
  const v1 = new V1Handler(relay, verify);

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
    if (s.protocol === 'plain') handlePlain(relay, s, data, isBinary);
    else v1.handle(s, data, isBinary);
  }

  /** Checks common to both ways in, before the upgrade: subprotocols and the connection limit. */
  function admit(request: FastifyRequest): void {
    const protocols = offered(request);
    if (protocols.length > 0 && !protocols.some((p) => (supportedProtocols as readonly string[]).includes(p))) {
      throw new HeraldError('unsupported_protocol', `None of the offered subprotocols (${protocols.join(', ')}) is supported; offer ${supportedProtocols.join(' or ')}, or none for the plain protocol.`);
    }
    if (relay.hub.size >= relay.config.maxConnections) throw new HeraldError('too_many_connections');
  }

  const wsHandler = (ws: WebSocket, request: FastifyRequest): void => {
    const found = accepted.get(request);
    if (!found) {
      ws.close(CloseCode.internal, 'connection lookup missing');
      return;
    }
    release(ws, onError);
    const protocol = ws.protocol === V1 ? 'herald.v1' : 'plain';
    const { client, since, rights, checkedAt } = found;
    relay.connect(new WebSocketTransport(ws), client, protocol, since, rights, checkedAt);
    ws.on('pong', onPong);
    ws.on('message', onMessage);
    request.log.debug({ protocol, token: client.expiresAt !== undefined }, 'socket connected');
  };
  const notAnUpgrade = async (): Promise<never> => {
    throw new HeraldError('not_websocket');
  };
  const sinceSchema = { type: 'string', maxLength: 32768 } as const;

  app.route<{ Params: { id: string }; Querystring: { since?: string } }>({
    method: 'GET',
    url: '/ws/:id',
    schema: {
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 128 } } },
      querystring: { type: 'object', properties: { since: sinceSchema } },
    },
    preValidation: async (request) => {
      if (!request.ws) return;
      admit(request);
      const since = resumeFrom(request.query.since);
      const checkedAt = Date.now();
      const reg = await relay.engine.registry.get(request.params.id);
      if (!reg) throw new HeraldError('unknown_client');
      const rights = relay.rightsOf(reg);
      if (since) checkSinceRights(since, reg, rights);
      accepted.set(request, { client: reg, since, rights, checkedAt });
    },
    handler: notAnUpgrade,
    wsHandler,
  });

  // GET /ws?token=JWT: a connection token instead of a registration (DESIGN.md 7).
  app.route<{ Querystring: { token?: string; since?: string } }>({
    method: 'GET',
    url: '/ws',
    schema: { querystring: { type: 'object', properties: { token: { type: 'string', maxLength: MAX_TOKEN_LENGTH }, since: sinceSchema } } },
    preValidation: async (request) => {
      if (!request.ws) return;
      if (!verify) throw new HeraldError('tokens_disabled');
      if (request.query.token === undefined) throw new HeraldError('invalid_token', 'Send the connection token as ?token=JWT.');
      const checkedAt = Date.now();
      const grant = await verify(request.query.token);
      await relay.checkRevoked(grant);
      admit(request);
      const since = resumeFrom(request.query.since);
      const client = relay.tokenClient(grant);
      const rights = relay.rightsOf(client);
      const forbidden = since && rights.firstForbidden(Object.keys(since));
      if (forbidden !== undefined) throw new HeraldError('forbidden', `this client may not read ${JSON.stringify(forbidden)}, named in ?since=`);
      accepted.set(request, { client, since, rights, checkedAt });
    },
    handler: notAnUpgrade,
    wsHandler,
  });
};
