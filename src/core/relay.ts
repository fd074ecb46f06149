import { randomBytes } from 'node:crypto';
import { randomHex } from './ids.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Engine } from '../engines/engine.js';
import type { Recovery } from '../engines/history.js';
import type { ControlEvent } from '../engines/broker.js';
import type { CursorSave, Registration } from '../engines/registry.js';
import { HeraldError } from '../errors.js';
import { CloseCode } from '../protocol/close-codes.js';
import { checkTopics, type TopicsCheck } from '../protocol/topics.js';
import { encodePresenceLines, encodeSubscribed, encodeUnsubscribed, encodeWelcome, type PresenceBody } from '../protocol/v1.js';
import { AccessPolicy, type Rights } from './access.js';
import { Hub } from './hub.js';
import type { ClientIdentity, TokenGrant } from './identity.js';
import { RecentChanges } from './recent-changes.js';
import type { Message, PublishInput, StreamPosition, UserId } from './message.js';
import { Outgoing, type ProtocolName } from './outgoing.js';
import { presenceUser } from './presence-user.js';
import { Session, type Link } from './session.js';
import { topicMatcher } from './topic-pattern.js';
import type { RelayStats } from './relay-stats.js';
import type { Transport } from './transport.js';

/** A live session's cursors on their way to the engine. */
interface SessionCursorSave extends CursorSave {
  readonly session: Session;
}

/**
 * A client opening a connection, whatever it presented: a registration (its id, user, rights,
 * held topics and server cursors) or a signed token (a server-made id, no cursors).
 */
export interface Connecting {
  readonly id: string;
  readonly userId: UserId;
  readonly rights: Rights;
  /** The topics to join, each one the client may hold. */
  readonly topics: string[];
  /** The server's cursors (a registration's), joined from when the client names no position. */
  readonly cursors: Record<string, StreamPosition>;
  /** A stored registration: its cursors are saved, its TTL paused, an older connection replaced. */
  readonly registered: boolean;
  /** Token connections: when the token expires (ms since epoch), closed with 4003 then unless refreshed. */
  readonly expiresAt?: number | undefined;
  /** Token connections: the token's `iat` (seconds), which a revocation compares. */
  readonly issuedAt?: number | undefined;
  /**
   * When the credential was checked, before the upgrade: a rights change or revocation heard
   * since then found no connection to act on, and applies when this one joins the hub.
   */
  readonly checkedAt?: number | undefined;
}

/** Sessions looked at per tick when saving live cursors; their saves leave as one write per Redis connection. */
const CURSOR_SAVE_CHUNK = 1000;

/**
 * The use cases: register, unregister, publish, connect, change topics. HTTP routes and
 * WebSocket sessions call these; the relay talks to the engine (registry, broker, history)
 * and to this process's hub.
 */
export class Relay {
  readonly hub: Hub;
  readonly engine: Engine;
  readonly config: Config;
  readonly log: Logger;
  readonly stats: RelayStats;
  /** Who may read what: every way in asks it (DESIGN.md 6). */
  readonly access: AccessPolicy;
  /** Names this process in control events and /health. */
  readonly nodeId: string;
  /** Topics with presence (HERALD_PRESENCE_TOPICS). */
  readonly hasPresence: (topic: string) => boolean;
  #cursorTimer: NodeJS.Timeout | undefined;
  /** Rights changes and revocations heard lately, for connections accepted before they came. */
  readonly #recent = new RecentChanges();
  #localCounter = 0;
  #shuttingDown = false;
  #savingCursors = false;

  constructor(engine: Engine, config: Config, log: Logger, stats: RelayStats) {
    this.engine = engine;
    this.config = config;
    this.log = log;
    this.stats = stats;
    this.access = new AccessPolicy(config);
    this.nodeId = config.nodeId ?? randomBytes(4).toString('hex');
    const hasPresence = (this.hasPresence = topicMatcher(config.presenceTopics));
    const { presence, cluster } = engine;
    this.hub = new Hub({
      flushWindowMs: config.flushWindowMs,
      onTopicIdle: (topic) => {
        engine.broker.unsubscribe(topic).catch((err: unknown) => log.warn({ err, topic }, 'unsubscribe failed'));
      },
      onFlush: (deliveries, writes, firstTs) => stats.flushed(deliveries, writes, firstTs),
      // Every socket holding a presence topic is a member (pending ones too: they are joining).
      onHold: (s, topic) => {
        cluster.setSubscribers(topic, this.hub.subscribers(topic));
        if (hasPresence(topic)) presence.add(topic, s.userKey);
      },
      onRelease: (s, topic) => {
        if (!hasPresence(topic)) {
          cluster.setSubscribers(topic, this.hub.subscribers(topic));
          return;
        }
        presence.remove(topic, s.userKey);
        // The count goes after the leave is written, so a webhook receiver hears member.left
        // before the topic.vacated it may cause (the count is read then: a new join wins).
        void presence.flushed().then(() => cluster.setSubscribers(topic, this.hub.subscribers(topic)));
      },
    });
    presence.onEvent((e) => this.hub.deliverPresence(e.topic, encodePresenceLines(e.topic, e.joined.map(presenceUser), e.left.map(presenceUser))));
    engine.broker.onMessage((m) => this.hub.deliver(m));
    engine.broker.onControl((event) => {
      if (event.node === this.nodeId) return;
      if (event.type === 'revoke') {
        this.#recent.revocations.note(event.user, event.at);
        this.#closeUser(event.user, event.at);
        return;
      }
      if (event.type === 'rights') this.#recent.rights.note(event.clientId, { topics: event.topics, grants: event.grants });
      const s = this.hub.get(event.clientId);
      if (!s) return;
      if (event.type === 'rights') {
        this.#applyRights(s, event.topics, event.grants, true);
        return;
      }
      if (event.before !== undefined && s.connectedAt >= event.before) return;
      this.log.info({ client: s.id, code: event.code }, 'closing socket: %s', event.reason);
      s.close(event.code, event.reason, event.code === CloseCode.unregistered ? 'unregistered' : 'replaced');
    });
    engine.onStatus((status) => {
      if (status.type === 'reset') void this.#writeBack();
    });
    if (engine.name !== 'memory') {
      this.#cursorTimer = setInterval(() => {
        this.saveLiveCursors().catch((err: unknown) => this.log.warn({ err }, 'a cursor save round failed'));
      }, config.cursorSaveMs);
      this.#cursorTimer.unref();
    }
  }

  checkTopics(topics: unknown): TopicsCheck {
    return checkTopics(topics, this.config);
  }

  /** May this session read `topic` (ask its presence)? The access check of DESIGN.md 6. */
  mayRead(s: Session, topic: string): boolean {
    return s.rights.mayHold(topic);
  }

  /** Who holds a presence topic, on every node; `members: false` gives the counts alone. */
  async presence(topic: string, members: boolean): Promise<PresenceBody> {
    if (!this.hasPresence(topic)) throw new HeraldError('presence_disabled', `Topic "${topic}" has no presence: add a pattern matching it to HERALD_PRESENCE_TOPICS (now: ${this.config.presenceTopics.join(', ') || 'none'}).`);
    const p = await this.engine.presence.get(topic, members);
    const body: PresenceBody = { topic, clients: p.clients, users: p.users };
    if (members) body.members = (p.members ?? []).map((m) => ({ user: presenceUser(m.user), clients: m.clients }));
    return body;
  }

  async register(userId: UserId, topics: string[] | undefined, grants: string[] = []): Promise<Registration> {
    const reg: Registration = {
      id: randomHex(16),
      userId,
      topics: topics ?? [...this.config.defaultTopics],
      grants,
      cursors: {},
      createdAt: Date.now(),
    };
    const { evicted } = await this.engine.registry.create(reg, { perUser: this.config.maxRegistrationsPerUser, total: this.config.maxRegistrations });
    this.stats.registered();
    // The evicted registration had no live socket; one that connected meanwhile is closed as unregistered.
    if (evicted !== undefined) {
      this.log.info({ user: String(userId) }, 'evicted the least recently connected registration of the user');
      this.hub.get(evicted)?.close(CloseCode.unregistered, 'unregistered', 'unregistered');
      await this.#kick(evicted, CloseCode.unregistered, 'unregistered');
    }
    return reg;
  }

  /** A token connection's identity: a server-made id (no credential), nothing stored. */
  tokenClient(grant: TokenGrant): ClientIdentity {
    return { id: `t-${randomHex(12)}`, userId: grant.user, topics: grant.topics, grants: grant.grants, cursors: {}, expiresAt: grant.expiresAt, issuedAt: grant.issuedAt };
  }

  /** The rights of a registration or a token connection. */
  rightsOf(reg: ClientIdentity): Rights {
    return this.access.rights(reg.userId, reg.topics, reg.grants);
  }

  /**
   * PATCH /register/:id: replaces the backend's topics and/or grants, stored at once with what
   * the client will hold on its next connection; a live socket, on whichever node, follows now.
   * Undefined when the registration does not exist.
   */
  async updateRights(id: string, change: { topics?: string[] | undefined; grants?: string[] | undefined }): Promise<Registration | undefined> {
    const before = await this.engine.registry.get(id);
    if (!before) return undefined;
    const rights = this.access.rights(before.userId, change.topics ?? before.topics, change.grants ?? before.grants);
    const added = (change.topics ?? []).filter((t) => !before.topics.includes(t));
    const held = [...new Set([...(before.held ?? before.topics).filter((t) => rights.mayHold(t)), ...added])].slice(0, this.config.maxTopics);
    const reg = await this.engine.registry.update(id, { ...change, held });
    if (!reg) return undefined;
    this.#recent.rights.note(id, { topics: reg.topics, grants: reg.grants });
    const s = this.hub.get(id);
    if (s) this.#applyRights(s, reg.topics, reg.grants, true);
    const event: ControlEvent = { type: 'rights', node: this.nodeId, clientId: id, topics: reg.topics, grants: reg.grants };
    try {
      await this.engine.broker.sendControl(event);
    } catch (err) {
      this.log.warn({ err }, 'could not send a rights change to other nodes');
    }
    return reg;
  }

  /**
   * A token connection's `refresh`: same user, a valid token. Its expiry moves and its rights are
   * replaced (what it may no longer hold is left; the new token's topics are not joined).
   */
  async refresh(s: Session, grant: TokenGrant): Promise<void> {
    if (s.registered) throw new HeraldError('bad_request', 'only connections made with a token (GET /ws?token=) refresh');
    if (grant.user !== s.userKey) throw new HeraldError('forbidden', 'the new token is for another user (`sub`)');
    await this.checkRevoked(grant);
    this.#expireAt(s, grant.expiresAt);
    // Called from the session's own serialized request: change its rights in place.
    await this.#changeRights(s, grant.topics, grant.grants, false);
  }

  /** Refuses a token of a user revoked after it was issued (DELETE /users/:user). */
  async checkRevoked(grant: TokenGrant): Promise<void> {
    const at = await this.engine.registry.revokedAt(grant.user);
    if (at !== undefined && (grant.issuedAt === undefined || grant.issuedAt <= at)) throw new HeraldError('token_revoked');
  }

  /**
   * DELETE /users/:user: deletes every registration of the user, refuses its tokens issued until
   * now, and closes every socket of the user on every node (4001). Returns the registrations deleted.
   */
  async revokeUser(user: string): Promise<number> {
    const at = Math.floor(Date.now() / 1000);
    await this.engine.registry.revokeUser(user, at, this.config.revocationTtlMs);
    const ids = await this.engine.registry.deleteUser(user);
    this.#recent.revocations.note(user, at);
    this.#closeUser(user, at);
    try {
      await this.engine.broker.sendControl({ type: 'revoke', node: this.nodeId, user, at });
    } catch (err) {
      this.log.warn({ err }, 'could not send a revocation to other nodes');
    }
    return ids.length;
  }

  /**
   * Closes the user's sockets that a revocation at second `at` ends: every registration socket
   * (its registration is gone) and token sockets whose token was issued up to `at`. Judged by
   * the credential, not by when the socket connected, so no clock of another node matters.
   */
  #closeUser(user: string, at: number): void {
    for (const s of this.hub.sessionsOfUser(user)) if (this.#revokedBy(s, at)) s.close(CloseCode.unregistered, 'the user was revoked', 'unregistered');
  }

  #revokedBy(s: Session, at: number): boolean {
    return s.registered || s.issuedAt === undefined || s.issuedAt <= at;
  }

  /** Closes a token connection at its expiry with 4003, unless a refresh moves it. */
  #expireAt(s: Session, at: number): void {
    s.expiresAt = at;
    if (s.expiryTimer) clearTimeout(s.expiryTimer);
    // setTimeout fires at once past 2^31 ms; a token that long-lived is re-armed on the way.
    const wait = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
    s.expiryTimer = setTimeout(() => {
      if (Date.now() >= (s.expiresAt ?? 0)) s.close(CloseCode.tokenExpired, 'token expired: reconnect with a new one', 'expired');
      else this.#expireAt(s, s.expiresAt!);
    }, wait);
    s.expiryTimer.unref();
  }

  /**
   * A live session's rights changed: it leaves what it may no longer hold and (`join`) joins the
   * topics the backend added, from now. herald.v1 clients are told each (`unsubscribed`, `subscribed`).
   */
  #applyRights(s: Session, topics: string[], grants: string[], join: boolean): void {
    this.serialize(s, () => this.#changeRights(s, topics, grants, join)).catch((err: unknown) => {
      this.log.warn({ err, client: s.id }, 'could not apply a rights change');
    });
  }

  async #changeRights(s: Session, topics: string[], grants: string[], join: boolean): Promise<void> {
    if (s.closed) return;
    const old = s.rights;
    s.rights = this.access.rights(s.userId, topics, grants);
    const v1 = s.protocol === 'herald.v1';
    for (const t of s.links.topics()) {
      if (s.rights.mayHold(t)) continue;
      this.hub.unwatch(s, t);
      if (v1) s.reply(encodeUnsubscribed(t, 'forbidden'));
    }
    const room = Math.max(0, this.config.maxTopics - s.links.size);
    const added = join ? topics.filter((t) => !old.topics.includes(t) && !s.links.has(t)).slice(0, room) : [];
    await this.#joinAll(s, added, {}, false);
    if (v1) for (const t of added) if (s.links.has(t)) s.reply(encodeSubscribed(t));
  }

  /** Deletes a registration; its socket, on whichever node, is closed with 4001. */
  async unregister(id: string): Promise<boolean> {
    const existed = await this.engine.registry.delete(id);
    if (!existed) return false;
    this.hub.get(id)?.close(CloseCode.unregistered, 'unregistered', 'unregistered');
    await this.#kick(id, CloseCode.unregistered, 'unregistered');
    return true;
  }

  /**
   * Publishes through the engine. While the engine (Redis) is unreachable, the message still
   * reaches this node's own subscribers, unsequenced (offset 0: not in history, no cursor moves),
   * and `degraded` says so: other nodes and later recovery will not see it.
   */
  async publish(input: PublishInput): Promise<Message & { degraded?: true }> {
    if (this.#shuttingDown && this.engine.name === 'memory') throw new HeraldError('shutting_down');
    let m: Message;
    try {
      m = await this.engine.broker.publish(input);
    } catch (err) {
      // Only when the publish never reached Redis: one that timed out may still run there.
      if (!(err instanceof HeraldError) || err.code !== 'engine_unavailable' || !err.unsent) throw err;
      const local = { ...input, id: `${this.nodeId}-local-${++this.#localCounter}`, offset: 0, epoch: '', ts: Date.now() };
      this.hub.deliver(local);
      this.stats.published();
      this.log.warn({ topic: input.topic }, 'engine unavailable: delivered to local subscribers only');
      return { ...local, degraded: true };
    }
    this.stats.published();
    return m;
  }

  /** A WebSocket opened for a registration or a token: joins what its client held last time. See open(). */
  connect(transport: Transport, reg: ClientIdentity, protocol: ProtocolName, since?: Record<string, StreamPosition>, rights = this.rightsOf(reg), checkedAt = Date.now()): Session {
    // What the client held last time, less what it may no longer hold (rights change while away).
    const joined = (reg.held ?? reg.topics).filter((t) => rights.mayHold(t)).slice(0, this.config.maxTopics);
    const token = reg.expiresAt !== undefined;
    return this.open(transport, { id: reg.id, userId: reg.userId, rights, topics: joined, cursors: reg.cursors, registered: !token, expiresAt: reg.expiresAt, issuedAt: reg.issuedAt, checkedAt }, protocol, since);
  }

  /**
   * A connection opened: replaces an older connection of the same registered client (4000),
   * then joins its topics, recovering from the client's own positions (`since`, given at
   * connect) or else the server's cursors. Requests the client sends meanwhile are served after
   * that (see serialize).
   */
  open(transport: Transport, client: Connecting, protocol: ProtocolName, since?: Record<string, StreamPosition>): Session {
    const s = new Session(transport, client.id, client.userId, protocol, this.config, client.rights, client.registered);
    s.issuedAt = client.issuedAt;
    // Shared listeners, not closures per socket: an idle connection holds only what it needs.
    s.onStop = this.#onStop;
    s.onClosed = this.#onClosed;
    if (protocol === 'sse' && client.registered) s.keptCursors = keptCursors(client.cursors, client.topics);
    let cursors = client.cursors;
    const old = this.hub.get(client.id);
    if (old) cursors = { ...cursors, ...this.cursorsOf(old) };
    if (since) cursors = { ...cursors, ...since };
    this.hub.add(s);
    if (old) old.close(CloseCode.replaced, 'replaced by a newer connection', 'replaced');
    // What was decided while this connection was being accepted (its credential was checked at
    // `checkedAt`) found no socket then: it applies now.
    const checkedAt = client.checkedAt ?? Date.now();
    const revokedAt = this.#recent.revocations.since(s.userKey, checkedAt);
    if (revokedAt !== undefined && this.#revokedBy(s, revokedAt)) {
      this.stats.connected(protocol, 1);
      s.close(CloseCode.unregistered, 'the user was revoked', 'unregistered');
      return s;
    }
    const changed = this.#recent.rights.since(client.id, checkedAt);
    if (changed) s.rights = this.access.rights(client.userId, changed.topics, changed.grants);
    // The old socket may also live on another node; only sockets older than this one go.
    else if (client.registered) void this.#kick(client.id, CloseCode.replaced, 'replaced by a newer connection', s.connectedAt);
    this.stats.connected(protocol, 1);
    if (client.expiresAt !== undefined) this.#expireAt(s, client.expiresAt);
    if (client.registered) this.engine.registry.markConnected(client.id).catch((err: unknown) => this.log.warn({ err, client: s.id }, 'markConnected failed'));
    // A rights change heard while this connection was being accepted: its new topics are joined too.
    const topics = changed ? [...new Set([...client.topics.filter((t) => s.rights.mayHold(t)), ...changed.topics.filter((t) => !client.rights.topics.includes(t))])].slice(0, this.config.maxTopics) : client.topics;
    if (protocol === 'herald.v1') s.reply(encodeWelcome(client.id, client.userId, topics, this.config.heartbeatMs));
    this.#joinRegistration(s, topics, cursors);
    return s;
  }

  /** Joins a new session's topics; v1 clients are told how each recovery went, SSE ones of gaps, plain ones never. */
  #joinRegistration(s: Session, topics: string[], cursors: Record<string, StreamPosition>): void {
    this.serialize(s, () => this.#joinAll(s, topics, cursors, s.protocol !== 'plain')).catch((err: unknown) => {
      this.log.warn({ err, client: s.id }, 'could not join the registration topics');
      s.close(CloseCode.internal, 'could not join topics; reconnect', 'error');
    });
  }

  readonly #onStop = (s: Session): void => {
    s.stoppedCursors = this.cursorsOf(s);
  };

  readonly #onClosed = (s: Session): void => this.disconnect(s);

  /** Runs a session's topic changes one at a time, in arrival order. */
  serialize<T>(s: Session, task: () => Promise<T>): Promise<T> {
    const run = (s.work ?? Promise.resolve()).then(task);
    const tail = run.then(() => undefined, () => undefined);
    s.work = tail;
    // An idle session holds no settled promise.
    void tail.then(() => {
      if (s.work === tail) s.work = undefined;
    });
    return run;
  }

  /** Adds topics. `since` asks for recovery per topic; without it the topic starts now. */
  async subscribe(s: Session, topics: string[], since: Record<string, StreamPosition> = {}, announce = false): Promise<void> {
    return this.#joinAll(s, topics, since, announce);
  }

  async unsubscribe(s: Session, topics: string[]): Promise<void> {
    for (const t of topics) this.hub.unwatch(s, t);
    await this.#persistTopics(s);
    await this.#presenceWritten(topics);
  }

  /** Replaces the topic list: leaves what is gone, joins what is new (from now). */
  async setTopics(s: Session, topics: string[]): Promise<void> {
    const wanted = new Set(topics);
    const gone = s.links.topics().filter((t) => !wanted.has(t));
    for (const t of gone) this.hub.unwatch(s, t);
    await this.#joinAll(s, topics.filter((t) => !s.links.has(t)), {}, false);
    await this.#presenceWritten(gone);
  }

  /** A leave is in effect once others can see it (`ok` after it, then `presence`, shows it). */
  async #presenceWritten(left: string[]): Promise<void> {
    if (left.some(this.hasPresence)) await this.engine.presence.flushed();
  }

  /** Would adding these topics pass the per-client limit? */
  fitsTopicLimit(s: Session, add: string[]): boolean {
    let n = s.links.size;
    for (const t of add) if (!s.links.has(t)) n++;
    return n <= this.config.maxTopics;
  }

  cursorsOf(s: Session): Record<string, StreamPosition> {
    if (s.stoppedCursors) return s.stoppedCursors;
    // No prototype: a topic may be named "__proto__" or "constructor".
    const out = Object.create(null) as Record<string, StreamPosition>;
    if (s.keptCursors) Object.assign(out, s.keptCursors);
    for (const topic of s.links.topics()) {
      const c = this.hub.cursor(s, topic);
      if (c) out[topic] = c;
    }
    return out;
  }

  disconnect(s: Session): void {
    const cursors = this.cursorsOf(s);
    this.hub.remove(s);
    s.closed = true;
    this.stats.connected(s.protocol, -1);
    if (s.expiryTimer) clearTimeout(s.expiryTimer);
    if (s.closeReason === 'slow') this.stats.dropped('slow_consumer');
    this.log.debug({ client: s.id, reason: s.closeReason ?? 'client' }, 'socket closed');
    // A replaced socket's successor carries on; an unregistered one is gone; a token one was never stored.
    if (s.closeReason === 'replaced' || s.closeReason === 'unregistered' || !s.registered) return;
    const { registry } = this.engine;
    registry
      .saveCursors(s.id, cursors)
      .then(() => (this.hub.get(s.id) ? undefined : registry.markDisconnected(s.id)))
      .catch((err: unknown) => this.log.warn({ err, client: s.id }, 'could not save cursors on disconnect'));
  }

  /** Saves the changed cursors of every live session (redis engine: a node crash then loses nothing). */
  async saveLiveCursors(): Promise<void> {
    // A round still waiting on a slow engine is not overtaken: a later round could otherwise
    // land before it, and its older cursors would overwrite newer ones.
    if (this.#savingCursors) return;
    this.#savingCursors = true;
    try {
      const sessions = [...this.hub.sessions()];
      const sent: Array<Promise<number>> = [];
      // A chunk of sessions per tick, so 100,000 of them do not hold the event loop at once.
      for (let i = 0; i < sessions.length; i += CURSOR_SAVE_CHUNK) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        const chunk: SessionCursorSave[] = [];
        for (let j = i; j < Math.min(i + CURSOR_SAVE_CHUNK, sessions.length); j++) {
          const s = sessions[j]!;
          // Closed since the round began: its disconnect saves the final cursors, after this.
          if (s.closed || !s.registered) continue;
          const cursors = this.cursorsOf(s);
          const json = JSON.stringify(cursors);
          if (json === s.savedCursors) continue;
          s.savedCursors = json;
          chunk.push({ id: s.id, cursors, session: s });
        }
        if (chunk.length > 0) sent.push(this.#saveChunk(chunk));
      }
      const failed = (await Promise.all(sent)).reduce((a, b) => a + b, 0);
      if (failed > 0) this.log.debug({ failed }, 'cursor save failed for some sessions');
    } finally {
      this.#savingCursors = false;
    }
  }

  /** Saves one chunk (one write per Redis connection); returns how many failed, marked for retry. */
  async #saveChunk(chunk: SessionCursorSave[]): Promise<number> {
    const results = await this.engine.registry.saveManyCursors(chunk).catch((err: unknown) => chunk.map(() => ({ status: 'rejected' as const, reason: err })));
    let failed = 0;
    results.forEach((r, j) => {
      if (r.status === 'fulfilled') return;
      failed++;
      chunk[j]!.session.savedCursors = ''; // try again next round
    });
    return failed;
  }

  close(): void {
    if (this.#cursorTimer) clearInterval(this.#cursorTimer);
  }

  /**
   * Closes every socket with 1001 so clients reconnect elsewhere, after writing what the hub
   * still holds for them. On the memory engine, whose history ends with the process, publishes
   * are refused from now on (503 shutting_down): one answered 200 now could reach nobody.
   */
  shutdown(): void {
    this.#shuttingDown = true;
    this.hub.flush();
    for (const s of [...this.hub.sessions()]) s.close(CloseCode.goingAway, 'server shutting down', 'shutdown');
  }

  /** Asks the other nodes to close this client's socket. */
  async #kick(clientId: string, code: number, reason: string, before?: number): Promise<void> {
    try {
      await this.engine.broker.sendControl({ type: 'kick', node: this.nodeId, clientId, code, reason, ...(before === undefined ? {} : { before }) });
    } catch (err) {
      this.log.warn({ err, client: clientId }, 'could not send the kick to other nodes');
    }
  }

  async #joinAll(s: Session, topics: string[], since: Record<string, StreamPosition>, announce: boolean): Promise<void> {
    // Every join settles before the next request of this session runs, and the topics that did
    // join are persisted, even when another one failed.
    const settled = await Promise.allSettled(topics.map((t) => this.#join(s, t, Object.hasOwn(since, t) ? since[t] : undefined, announce)));
    await this.#persistTopics(s);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Joins one topic: queue what arrives, make sure the broker delivers the topic here, read
   * history from the session's position (or the topic's current position), wait until every
   * message up to that point has reached the hub, then promote: replay + queued, once each.
   */
  async #join(s: Session, topic: string, since: StreamPosition | undefined, announce: boolean): Promise<void> {
    const held = s.links.get(topic);
    if (held) {
      // Held already: a position given anyway is answered (replay up to what was written here).
      if (since && announce && held.live) {
        const recovery = await this.engine.history.since(topic, since, this.config.maxRecoveryBytes);
        if (s.closed || s.links.get(topic) !== held) return;
        this.stats.recovered(this.hub.resend(s, topic, recovery), recovery.complete);
      }
      return;
    }
    const link = this.hub.watch(s, topic);
    // Until promoted, the session stands where it starts: its cursor must not lose this topic.
    if (since) link.written = since;
    const { broker, history } = this.engine;
    try {
      await broker.subscribe(topic);
      const recovery: Recovery = since ? await history.since(topic, since, this.config.maxRecoveryBytes) : { messages: [], position: await history.position(topic), complete: true };
      await broker.fence?.(topic);
      if (s.closed || s.links.get(topic) !== link) return;
      link.start = since ?? recovery.position;
      // All but the last step of a long replay goes out as the client reads; messages published
      // meanwhile wait in the link's queue (bounded: 4008 past HERALD_MAX_BUFFERED_BYTES).
      const rest = await this.#replay(s, topic, link, recovery.messages);
      // Gone mid-replay: the link stays pending, so its cursor is what was really written.
      if (rest === undefined || s.closed || s.links.get(topic) !== link) return;
      this.hub.promote(s, topic, rest === recovery.messages ? recovery : { ...recovery, messages: rest }, announce && since !== undefined);
      if (since) this.stats.recovered(recovery.messages.length, recovery.complete);
      // The join is in effect once others can see it: a `presence` asked after `ok` shows this client.
      if (this.hasPresence(topic)) await this.engine.presence.flushed();
    } catch (err) {
      if (s.links.get(topic) === link) this.hub.unwatch(s, topic);
      throw err instanceof HeraldError ? err : new HeraldError('engine_unavailable', `could not join topic ${topic}: ${(err as Error).message}`);
    }
  }

  /**
   * Writes the head of a replay in steps of a quarter of HERALD_MAX_BUFFERED_BYTES, each once the socket has room
   * under HERALD_MAX_BUFFERED_BYTES; returns the messages left for promote() (at least the
   * last one, which carries the seam), or undefined when the socket went away.
   */
  async #replay(s: Session, topic: string, link: Link, messages: Message[]): Promise<Message[] | undefined> {
    const step = Math.max(1024, Math.floor(s.maxBufferedBytes / 4));
    let frames: Buffer[] = [];
    let bytes = 0;
    let from = 0;
    const framer = this.hub.framer(s, topic);
    for (let i = 0; i < messages.length - 1; i++) {
      const m = messages[i]!;
      if (m.userId !== undefined && String(m.userId) !== s.userKey) continue;
      const frame = framer(new Outgoing(m));
      frames.push(frame);
      bytes += frame.length;
      if (bytes < step) continue;
      if (!(await s.drained(s.maxBufferedBytes - bytes))) return undefined;
      s.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
      // A cursor saved now (the socket dies mid-replay) resumes after what was written.
      link.written = { offset: m.offset, epoch: m.epoch };
      frames = [];
      bytes = 0;
      from = i + 1;
    }
    if (from === 0) return messages;
    // The unsent tail of this step goes with promote(), after the socket has room for it.
    if (!(await s.drained(Math.max(0, s.maxBufferedBytes - bytes - step)))) return undefined;
    return messages.slice(from);
  }

  /**
   * Stores the session's topics for its next connection. Best effort: the topics are in effect
   * here already, and a failed write (slow or absent Redis) must not end a working socket. The
   * next topic change, or the write-back after a Redis reset, stores them again.
   */
  async #persistTopics(s: Session): Promise<void> {
    // An SSE stream's topics come from its URL each time: they are not what the client holds next time.
    if (s.closed || s.protocol === 'sse' || !s.registered) return;
    try {
      await this.engine.registry.setHeld(s.id, s.links.topics());
    } catch (err) {
      this.log.warn({ err, client: s.id }, 'could not store the topic list; it is in effect on this socket');
    }
  }

  /** The engine came back empty: write back what this node knows of its live clients. */
  async #writeBack(): Promise<void> {
    let n = 0;
    for (const s of this.hub.sessions()) {
      if (s.closed || !s.registered) continue;
      const reg: Registration = { id: s.id, userId: s.userId, topics: [...s.rights.topics], grants: [...s.rights.grants], held: s.links.topics(), cursors: this.cursorsOf(s), createdAt: Date.now() };
      try {
        await this.engine.registry.create(reg, { perUser: Number.MAX_SAFE_INTEGER, total: Number.MAX_SAFE_INTEGER });
        await this.engine.registry.markConnected(s.id);
        n++;
      } catch (err) {
        this.log.warn({ err, client: s.id }, 'could not write back registration');
      }
    }
    this.log.warn({ registrations: n }, 'engine came back empty: wrote back the registrations of live sockets');
  }
}

/** The cursors of topics a connection does not hold. */
function keptCursors(cursors: Record<string, StreamPosition>, held: readonly string[]): Record<string, StreamPosition> | undefined {
  let out: Record<string, StreamPosition> | undefined;
  for (const [topic, position] of Object.entries(cursors)) {
    if (held.includes(topic)) continue;
    out ??= Object.create(null) as Record<string, StreamPosition>;
    out[topic] = position;
  }
  return out;
}
