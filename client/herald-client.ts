import { Backoff } from './backoff.js';
import { CloseCode, describeCloseCode, finalHandshakeFailure, isFinalCloseCode } from './close-codes.js';
import { Emitter } from './emitter.js';
import { HeraldError } from './herald-error.js';
import { toMessage, toRecovery } from './message.js';
import { Positions } from './positions.js';
import { Requests } from './requests.js';
import { defaultSocketFactory } from './socket.js';
import { defaultSseFactory } from './sse-stream.js';
import { Subscription } from './subscription.js';
import { TopicPlan } from './topic-plan.js';
import { SUBPROTOCOL, parseFrames } from './wire.js';
import type { CloseInfo, ConnectionState, HeraldClientConfig, HeraldClientEvents, HeraldClientOptions, PresenceInfo, StateChange, Transport, Welcome } from './client-types.js';
import type { Reply } from './requests.js';
import type { Listener } from './emitter.js';
import type { SocketFactory, SocketLike } from './socket.js';
import type { SseFactory, SseStream } from './sse-stream.js';
import type { SubscriptionControl } from './subscription.js';
import type { ClientRequest, JsonValue, Position, ServerFrame, WelcomeFrame } from './wire.js';

interface Entry {
  subscription: Subscription<never>;
  control: SubscriptionControl<unknown>;
}

const DEFAULTS = { requestTimeoutMs: 10_000, connectTimeoutMs: 10_000 };
/** Token refreshes are at least this far apart, whatever the token says. */
const MIN_REFRESH_GAP_MS = 1_000;
/** A device clock this close to a fresh token's `iat` is trusted to time its expiry. */
const CLOCK_TRUST_MS = 5_000;
/**
 * A connection attempt given up before its welcome may still reach an overloaded server later
 * and replace the connection that followed it (4000): for this long, such a 4000 is taken for
 * the client's own stale attempt and retried, once per attempt given up.
 */
const STALE_ATTEMPT_MS = 60_000;
/** setTimeout fires at once past 2^31 - 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A herald.v1 connection to one registration URL (from `POST /register`). It reconnects on
 * its own with exponential backoff and jitter, resubscribes with `since` so no message is lost
 * or repeated, and stops for good when the server says so (4001 unregistered, 4000 replaced).
 *
 * @example
 * const { url } = await (await fetch('http://127.0.0.1:8000/register', {
 *   method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: 1 }),
 * })).json();
 * const client = new HeraldClient(url);
 * client.on('state', ({ state, reason }) => console.log(state, reason ?? ''));
 * await client.connect();
 * const news = client.subscribe('news');
 * news.on('message', (m) => console.log(m.data));
 * await news.ready();
 * await client.publish('chat.lobby', { text: 'hi' }); // where the server allows client publishing
 * await client.close();
 *
 * @example
 * // With connection tokens: no registration round trip; refreshed ahead of expiry on its own.
 * const client = new HeraldClient({
 *   url: 'ws://127.0.0.1:8000/ws',
 *   getToken: async () => (await (await fetch('/my-backend/herald-token')).json()).token,
 * });
 *
 * @example
 * // Where WebSockets are refused (some proxies), receive over Server-Sent Events instead.
 * const client = new HeraldClient(url, { transports: ['websocket', 'sse'] });
 * client.on('state', ({ state }) => console.log(state, client.transport));
 * client.subscribe('news').on('message', (m) => console.log(m.data)); // publish() needs a WebSocket
 */
export class HeraldClient {
  /** The registration URL, `ws://HOST/ws/ID`. */
  readonly url: string;
  readonly #options: typeof DEFAULTS;
  readonly #events = new Emitter<HeraldClientEvents>();
  readonly #backoff: Backoff;
  readonly #positions = new Positions();
  readonly #requests = new Requests();
  readonly #subscriptions = new Map<string, Entry>();
  readonly #topics = new TopicPlan();
  #factory: SocketFactory | undefined;
  #state: ConnectionState = 'idle';
  #socket: SocketLike | null = null;
  #welcome: Welcome | undefined;
  #closeInfo: CloseInfo | undefined;
  #finalError: HeraldError | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #lastFrameAt = 0;
  readonly #getToken: (() => string | Promise<string>) | undefined;
  /** The token of the current connection (token mode). */
  #token: string | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #transports: readonly Transport[];
  #transport: Transport;
  #sseFactory: SseFactory | undefined;
  #sse: SseStream | null = null;
  /** The last SSE event id: where an SSE stream resumes (every topic of it). */
  #lastEventId: string | undefined;
  /** The current WebSocket attempt reached its welcome (a refused one falls back to SSE). */
  #opened = false;
  /** When recent attempts were given up before their welcome (at most a few kept). */
  #abandonedAt: number[] = [];

  constructor(target: string | HeraldClientConfig, options: HeraldClientOptions = {}) {
    const config: HeraldClientConfig = typeof target === 'string' ? { ...options, url: target } : { ...options, ...target };
    const { url } = config;
    if (typeof url !== 'string' || !/^wss?:\/\//i.test(url)) throw new TypeError(`HeraldClient needs a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
    this.url = url;
    this.#getToken = config.getToken;
    this.#options = {
      requestTimeoutMs: config.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    };
    this.#backoff = new Backoff(config.backoff);
    this.#factory = config.socketFactory;
    this.#sseFactory = config.sseFactory;
    const transports = config.transports ?? ['websocket'];
    if (transports.length === 0 || transports.some((t) => t !== 'websocket' && t !== 'sse')) throw new TypeError(`transports must list 'websocket' and/or 'sse', got ${JSON.stringify(transports)}`);
    this.#transports = [...transports];
    this.#transport = transports[0] as Transport;
  }

  /** How this client receives now: `websocket`, or `sse` (receive only) after WebSockets were refused. */
  get transport(): Transport {
    return this.#transport;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The last welcome, once connected. */
  get welcome(): Welcome | undefined {
    return this.#welcome;
  }

  /** Why the client is closed, once it is. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  on<K extends keyof HeraldClientEvents>(event: K, listener: Listener<HeraldClientEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  once<K extends keyof HeraldClientEvents>(event: K, listener: Listener<HeraldClientEvents[K]>): () => void {
    return this.#events.once(event, listener);
  }

  off<K extends keyof HeraldClientEvents>(event: K, listener: Listener<HeraldClientEvents[K]>): void {
    this.#events.off(event, listener);
  }

  /**
   * Starts connecting (if not already) and resolves with the welcome once connected. It keeps
   * retrying through failures; it rejects only when the client closes for good first, with a
   * {@link HeraldError} whose code says why: `unregistered`, `replaced`, `unknown_registration`
   * (Node only: the server answered 404), or `closed` (close() was called).
   */
  connect(): Promise<Welcome> {
    if (this.#state === 'idle') void this.#open();
    const connected = this.#whenConnected(Infinity).then(() => this.#welcome as Welcome);
    connected.catch(() => {}); // the state event reports it too; an unawaited connect() must not crash Node
    return connected;
  }

  /**
   * Receives a topic. Works before `connect()` resolves and across reconnects; calling it
   * twice for one topic returns the same subscription. `since` starts from a known position
   * (the messages after it are replayed first, as far as the server's history reaches).
   */
  subscribe<T = JsonValue>(topic: string, options: { since?: Position } = {}): Subscription<T> {
    if (this.#state === 'closed') throw new HeraldError('closed', `the client is closed (${this.#closeInfo?.reason ?? 'closed'})`);
    if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('subscribe needs a non-empty topic');
    const existing = this.#subscriptions.get(topic);
    if (existing) return existing.subscription as unknown as Subscription<T>;
    if (options.since && !this.#positions.get(topic)) this.#positions.set(topic, options.since);
    let control: SubscriptionControl<T> | undefined;
    const subscription = new Subscription<T>(topic, { unsubscribe: (t) => this.#unsubscribe(t) }, (c) => (control = c));
    this.#subscriptions.set(topic, {
      subscription: subscription as unknown as Subscription<never>,
      control: control as unknown as SubscriptionControl<unknown>,
    });
    this.#topics.want(topic);
    if (this.#state === 'connected') {
      if (this.#transport === 'sse') this.#restartSse();
      else void this.#subscribeTopics([topic]);
    }
    return subscription;
  }

  /** Stops receiving a topic: one subscribed with {@link subscribe} or one of the registration's. */
  unsubscribe(topic: string): Promise<void> {
    return this.#unsubscribe(topic);
  }

  /**
   * Publishes from this client; resolves with the message's offset. The server allows it only
   * for the topics its HERALD_CLIENT_PUBLISH setting names; otherwise this rejects with a
   * {@link HeraldError} of code `forbidden`. While disconnected it waits for the connection
   * (within the request timeout); if the connection drops before the reply, it rejects with
   * `disconnected` and the message may or may not have been published.
   */
  async publish(topic: string, data: unknown): Promise<{ offset: number }> {
    if (data === undefined) throw new TypeError('publish needs data (any JSON value)');
    const reply = await this.#request({ type: 'publish', topic, data });
    return { offset: reply.type === 'ok' && typeof reply.offset === 'number' ? reply.offset : 0 };
  }

  /**
   * Who holds a presence topic (one matching the server's HERALD_PRESENCE_TOPICS), across every
   * node: counts and members per user. Other topics reject with code `presence_disabled`.
   * Follow changes with the `join` and `leave` events while subscribed to the topic.
   *
   * @example
   * const room = client.subscribe('room.42');
   * await room.ready();
   * const { members } = await client.presence('room.42');
   * client.on('join', ({ topic, user }) => console.log(user, 'joined', topic));
   */
  async presence(topic: string): Promise<PresenceInfo> {
    const reply = await this.#request({ type: 'presence', topic });
    if (reply.type !== 'presence') throw new HeraldError('protocol', `expected a presence reply, got ${reply.type}`);
    return { topic: reply.topic, clients: reply.clients, users: reply.users, members: reply.members ?? [] };
  }

  /** Round trip to the server, in ms. */
  async ping(): Promise<number> {
    const started = Date.now();
    await this.#request({ type: 'ping' });
    return Date.now() - started;
  }

  /** The last position seen for a topic (what `since` would ask for). */
  position(topic: string): Position | undefined {
    return this.#positions.get(topic);
  }

  /** Closes for good (code 1000); resolves once the socket is closed. */
  close(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    this.#sse?.close();
    this.#sse = null;
    const socket = this.#socket;
    this.#finish({ code: CloseCode.normal, reason: 'closed by the client' }, undefined);
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate?.();
        resolve();
      }, 1000);
      socket.onclose = () => {
        clearTimeout(timer);
        resolve();
      };
      socket.onerror = () => {};
      try {
        socket.close(CloseCode.normal, 'client closed');
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  async #open(): Promise<void> {
    this.#setState({ state: 'connecting' });
    if (this.#transport === 'sse') {
      this.#openSse();
      return;
    }
    this.#opened = false;
    try {
      this.#factory ??= await defaultSocketFactory();
    } catch (err) {
      this.#finish({ code: 0, reason: `no WebSocket implementation: ${errorText(err)}` }, 'no_websocket');
      return;
    }
    if (this.#state !== 'connecting') return; // closed while loading
    if (this.#getToken) {
      try {
        this.#token = await this.#getToken();
      } catch (err) {
        if (this.#state === 'connecting') this.#retryLater(0, `getToken() failed: ${errorText(err)}`);
        return;
      }
      if (this.#state !== 'connecting') return;
    }
    let socket: SocketLike;
    try {
      socket = this.#factory(this.#resumeUrl(), [SUBPROTOCOL]);
    } catch (err) {
      this.#finish({ code: 0, reason: `cannot open ${this.url}: ${errorText(err)}` }, 'bad_url');
      return;
    }
    this.#socket = socket;
    let lastError = '';
    this.#connectTimer = setTimeout(() => {
      // The server may still finish this handshake later (it was queued, not refused).
      this.#abandonedAt = [...this.#abandonedAt.slice(-7), Date.now()];
      this.#drop(socket, `no welcome within ${this.#options.connectTimeoutMs} ms`);
    }, this.#options.connectTimeoutMs);
    socket.onopen = () => {
      if (socket.protocol !== SUBPROTOCOL) this.#drop(socket, `the server did not accept ${SUBPROTOCOL} (got ${JSON.stringify(socket.protocol)})`);
    };
    socket.onmessage = (event) => this.#onData(event.data);
    socket.onerror = (event) => {
      lastError = event.message ?? errorText(event.error);
    };
    socket.onclose = (event) => this.#onClose(socket, event.code, event.reason || lastError);
  }

  // The registration URL plus `?since=` with this client's positions, so the server rejoins
  // the registration's topics from what this client received, not from what it last wrote.
  #resumeUrl(): string {
    const since = this.#positions.since(this.#topics.wanted());
    if (!since && this.#token === undefined) return this.url;
    const url = new URL(this.url);
    if (this.#token !== undefined) url.searchParams.set('token', this.#token);
    if (since) url.searchParams.set('since', JSON.stringify(since));
    return url.toString();
  }

  // Token mode: a fresh token is sent ahead of the current one's expiry (a third of its life
  // before, between 0.5 s and 60 s), so the connection never closes with 4003 (token expired).
  // The time left comes from this device's clock when it agrees with the token's `iat` (within
  // a few seconds); when the clock is off, from the token's own life (exp - iat), counting it as
  // issued a second before it arrived. Refreshes are at least a second apart, and a delay past
  // setTimeout's 24.8-day limit is re-armed rather than firing at once.
  #scheduleRefresh(receivedAt = Date.now()): void {
    clearTimeout(this.#refreshTimer);
    if (!this.#getToken || this.#token === undefined) return;
    const claims = jwtClaims(this.#token);
    if (!claims) return;
    const sane = claims.iat === undefined || Math.abs(receivedAt - claims.iat * 1000) < CLOCK_TRUST_MS;
    const life = claims.iat !== undefined ? (claims.exp - claims.iat) * 1000 : claims.exp * 1000 - receivedAt;
    const left = sane ? claims.exp * 1000 - receivedAt : life - 1000;
    const lead = Math.min(60_000, Math.max(500, life / 3));
    const due = receivedAt + Math.max(MIN_REFRESH_GAP_MS, left - lead);
    const arm = (): void => {
      const wait = due - Date.now();
      this.#refreshTimer = wait > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(() => void this.#refresh(), Math.max(0, wait));
    };
    arm();
  }

  async #refresh(): Promise<void> {
    const socket = this.#socket;
    if (!this.#getToken || this.#state !== 'connected' || !socket) return;
    try {
      const token = await this.#getToken();
      await this.#request({ type: 'refresh', token }, false);
      if (this.#socket !== socket) return;
      this.#token = token;
      this.#scheduleRefresh();
    } catch (err) {
      if (this.#socket !== socket || this.#state !== 'connected') return;
      // A refused refresh (or none): reconnect, which asks for a new token; `since` keeps every message.
      this.#drop(socket, `token refresh failed: ${errorText(err)}`);
    }
  }

  #onData(data: unknown): void {
    this.#lastFrameAt = Date.now();
    if (typeof data !== 'string') {
      this.#events.emit('error', new HeraldError('protocol', 'unexpected binary frame on a herald.v1 connection'));
      return;
    }
    const { frames, invalid } = parseFrames(data);
    for (const line of invalid) this.#events.emit('error', new HeraldError('protocol', `unreadable frame from the server: ${line.slice(0, 200)}`));
    for (const frame of frames) this.#onFrame(frame);
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        return this.#onWelcome(frame);
      case 'message': {
        if (this.#topics.isStale(frame.topic)) return;
        if (!this.#positions.accept(frame.topic, frame.offset, frame.epoch)) return;
        const message = toMessage<JsonValue>(frame);
        this.#events.emit('message', message);
        this.#subscriptions.get(frame.topic)?.control.deliver(message);
        return;
      }
      case 'recovered': {
        // A topic being left: its seam no longer concerns this client.
        if (this.#topics.isStale(frame.topic)) return;
        this.#positions.seam(frame.topic, frame.offset, frame.epoch);
        const recovery = toRecovery(frame);
        this.#events.emit('recovered', recovery);
        this.#subscriptions.get(frame.topic)?.control.recovered(recovery);
        return;
      }
      case 'join':
      case 'leave':
        if (this.#topics.isStale(frame.topic)) return;
        this.#events.emit(frame.type, { topic: frame.topic, user: frame.user });
        return;
      case 'presence':
        this.#requests.settle(frame);
        return;
      case 'ok':
      case 'pong':
        this.#topics.replied(frame.id);
        this.#requests.settle(frame);
        return;
      case 'error':
        this.#topics.replied(frame.id);
        if (!this.#requests.settle(frame)) this.#events.emit('error', new HeraldError(frame.code, frame.message));
        return;
      case 'subscribed':
        this.#topics.want(frame.topic);
        this.#events.emit('subscribed', frame.topic);
        return;
      case 'unsubscribed': {
        // Gone on the server's side: not asked for again, and its subscription ends.
        this.#topics.drop(frame.topic, true);
        this.#positions.delete(frame.topic);
        const entry = this.#subscriptions.get(frame.topic);
        this.#subscriptions.delete(frame.topic);
        entry?.control.end(new HeraldError(frame.reason === 'forbidden' ? 'forbidden' : 'unsubscribed', `the server left ${frame.topic} (${frame.reason})`));
        this.#events.emit('unsubscribed', frame.topic, frame.reason);
        return;
      }
    }
  }

  #onWelcome(frame: WelcomeFrame): void {
    this.#opened = true;
    clearTimeout(this.#connectTimer);
    this.#welcome = { client: frame.client, user: frame.user, topics: frame.topics ?? [], heartbeatMs: frame.heartbeat_ms };
    this.#backoff.reset();
    this.#startHeartbeat(frame.heartbeat_ms > 0 ? frame.heartbeat_ms : 25_000);
    this.#scheduleRefresh();
    this.#setState({ state: 'connected' });
    this.#events.emit('welcome', this.#welcome);
    this.#resume(this.#welcome.topics);
  }

  // See TopicPlan: registration topics dropped while away are left, then everything wanted is
  // subscribed with `since`; the two requests are answered in order.
  #resume(joined: string[]): void {
    const { leave, subscribe } = this.#topics.resume(joined);
    if (leave.length > 0) {
      const { id, reply } = this.#requests.open(this.#options.requestTimeoutMs);
      this.#topics.staleUntil(leave, id);
      reply.catch(() => {}); // the subscribe below reports failures
      this.#socket?.send(JSON.stringify({ type: 'unsubscribe', topics: leave, id }));
    }
    // The server joined `joined` from this client's own positions (?since= at connect): asking
    // again with `since` would have it replay the same messages twice.
    if (subscribe.length > 0) void this.#subscribeTopics(subscribe, new Set(joined));
  }

  // One request for all topics; if the server refuses it, one per topic, so only the topic
  // at fault fails.
  async #subscribeTopics(topics: string[], joined?: ReadonlySet<string>): Promise<void> {
    const entries = topics.map((t) => this.#subscriptions.get(t));
    const since = this.#positions.since(joined ? topics.filter((t) => !joined.has(t)) : topics);
    try {
      await this.#request({ type: 'subscribe', topics, ...(since ? { since } : {}) }, false);
      topics.forEach((t, i) => {
        const entry = this.#subscriptions.get(t);
        if (entry && entry === entries[i]) entry.control.subscribed();
      });
    } catch (err) {
      const error = err instanceof HeraldError ? err : new HeraldError('internal', errorText(err));
      if (['disconnected', 'closed', 'not_connected'].includes(error.code)) return; // the next welcome resubscribes
      if (error.code === 'timeout') {
        if (this.#socket) this.#drop(this.#socket, 'subscribe got no reply');
        return;
      }
      if (topics.length > 1) {
        await Promise.all(topics.map((t) => this.#subscribeTopics([t], joined)));
        return;
      }
      const topic = topics[0] as string;
      const entry = this.#subscriptions.get(topic);
      if (entry === entries[0]) {
        this.#topics.drop(topic, true);
        if (entry) {
          this.#subscriptions.delete(topic);
          entry.control.end(error);
        }
      }
      this.#events.emit('error', error);
    }
  }

  async #unsubscribe(topic: string): Promise<void> {
    const entry = this.#subscriptions.get(topic);
    const connected = this.#state === 'connected';
    if (!this.#topics.drop(topic, connected) && !entry) return;
    this.#subscriptions.delete(topic);
    this.#positions.delete(topic); // subscribing again starts from now, not from here
    entry?.control.end();
    if (!connected) return;
    if (this.#transport === 'sse') {
      this.#restartSse();
      return;
    }
    try {
      await this.#request({ type: 'unsubscribe', topics: [topic] }, false);
    } catch (err) {
      if (err instanceof HeraldError && ['disconnected', 'closed'].includes(err.code)) return;
      throw err;
    }
  }

  // Sends a request and waits for its reply. `wait`: while disconnected, wait for the
  // connection (within the same deadline) instead of failing at once.
  async #request(frame: ClientRequest, wait = true): Promise<Reply> {
    const deadline = Date.now() + this.#options.requestTimeoutMs;
    if (this.#transport === 'sse') throw new HeraldError('websocket_required', `${frame.type} needs a WebSocket: this client receives over Server-Sent Events, which carry nothing from the client`);
    if (this.#state === 'idle') throw new HeraldError('not_connected', 'the client is not connected: call connect() first');
    if (this.#state !== 'connected') {
      if (!wait) throw new HeraldError('not_connected', 'the client is not connected');
      await this.#whenConnected(deadline - Date.now());
    }
    const socket = this.#socket as SocketLike;
    const { id, reply } = this.#requests.open(Math.max(1, deadline - Date.now()));
    try {
      socket.send(JSON.stringify({ ...frame, id }));
    } catch (err) {
      this.#requests.cancel(id, new HeraldError('disconnected', `send failed: ${errorText(err)}`));
    }
    return reply;
  }

  #whenConnected(timeoutMs: number): Promise<void> {
    if (this.#state === 'connected') return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            off();
            reject(new HeraldError('timeout', `not connected within ${Math.round(timeoutMs)} ms`));
          }, Math.max(0, timeoutMs))
        : undefined;
      const off = this.#events.on('state', ({ state }) => {
        if (state !== 'connected' && state !== 'closed') return;
        off();
        clearTimeout(timer);
        if (state === 'connected') resolve();
        else reject(this.#closedError());
      });
    });
  }

  #startHeartbeat(intervalMs: number): void {
    clearInterval(this.#heartbeatTimer);
    // The server's pings are WebSocket-level and invisible in browsers; a quiet connection
    // is probed with an application ping, and dropped if that goes unanswered.
    this.#heartbeatTimer = setInterval(() => {
      if (this.#state !== 'connected' || Date.now() - this.#lastFrameAt < intervalMs) return;
      const socket = this.#socket;
      this.#request({ type: 'ping' }, false).catch((err: unknown) => {
        if (err instanceof HeraldError && err.code === 'timeout' && socket && socket === this.#socket) this.#drop(socket, 'heartbeat: no pong from the server');
      });
    }, intervalMs);
  }

  // Gives up on a socket without waiting for a closing handshake that may never come.
  #drop(socket: SocketLike, reason: string): void {
    if (socket !== this.#socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.onerror = () => {};
    if (socket.terminate) socket.terminate();
    else socket.close(CloseCode.normal, reason.slice(0, 120));
    this.#onClose(socket, CloseCode.abnormal, reason);
  }

  #onClose(socket: SocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#socket = null;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#refreshTimer);
    clearInterval(this.#heartbeatTimer);
    this.#requests.rejectAll(new HeraldError('disconnected', `the connection closed (${code} ${reason || describeCloseCode(code)})`));
    if (this.#state === 'closed') return;
    const text = reason || describeCloseCode(code);
    if (code === CloseCode.replaced && this.#replacedByOwnAttempt()) {
      this.#retryLater(code, `${text} (probably by an attempt of this client that timed out; reconnecting)`);
      return;
    }
    if (isFinalCloseCode(code)) {
      this.#finish({ code, reason: text }, code === CloseCode.unregistered ? 'unregistered' : 'replaced');
      return;
    }
    const refusal = socket.refusal;
    const final = finalHandshakeFailure(refusal ? `Unexpected server response: ${refusal.status}` : reason);
    if (final) {
      this.#finish({ code, reason: text }, final);
      return;
    }
    // An overloaded server (503, 429) is busy, not refusing WebSockets: back off and ask again,
    // no sooner than its Retry-After. Refused before it ever opened for another reason (a proxy
    // that breaks WebSockets, often with 502): receive over SSE instead.
    const busy = refusal !== undefined && (refusal.status === 503 || refusal.status === 429);
    if (!this.#opened && !busy && this.#transports.includes('sse')) this.#transport = 'sse';
    this.#retryLater(code, text, refusal);
  }

  // Whether a 4000 may come from this client's own attempt given up within STALE_ATTEMPT_MS (each
  // such attempt excuses one 4000): under a reconnect storm a server finishes handshakes late,
  // and the late one replaces the newer connection. Another tab replacing this one for real is
  // still final once these are used up, so two tabs never take turns for long.
  #replacedByOwnAttempt(): boolean {
    const since = Date.now() - STALE_ATTEMPT_MS;
    this.#abandonedAt = this.#abandonedAt.filter((t) => t >= since);
    if (this.#abandonedAt.length === 0) return false;
    this.#abandonedAt.shift();
    return true;
  }

  #retryLater(code: number, reason: string, refusal?: { status: number; retryAfterMs?: number }): void {
    for (const entry of this.#subscriptions.values()) entry.control.resubscribing();
    const retryInMs = this.#backoff.next(refusal?.retryAfterMs);
    this.#setState({ state: 'disconnected', code, reason, retryInMs, ...(refusal ? { status: refusal.status } : {}) });
    this.#reconnectTimer = setTimeout(() => void this.#open(), retryInMs);
  }

  // Ends the client for good. `errorCode` set: the server ended it, and subscription
  // iterators throw that error so the reason reaches `for await` loops.
  #finish(info: CloseInfo, errorCode: string | undefined): void {
    this.#sse?.close();
    this.#sse = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket) socket.onopen = socket.onmessage = socket.onclose = null;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#refreshTimer);
    clearInterval(this.#heartbeatTimer);
    this.#closeInfo = info;
    const error = errorCode ? new HeraldError(errorCode, `connection closed for good: ${info.reason} (${info.code})`) : undefined;
    this.#finalError = error;
    this.#requests.rejectAll(error ?? this.#closedError());
    for (const entry of this.#subscriptions.values()) entry.control.end(error);
    this.#subscriptions.clear();
    this.#setState({ state: 'closed', code: info.code, reason: info.reason });
  }

  // http(s)://HOST/sse/ID from the registration URL, with the topics wanted (once known) and
  // the last event id, so the stream resumes exactly where this client stands.
  #sseUrl(topics: string[] | undefined): string {
    const url = new URL(this.url.replace(/^ws/i, 'http'));
    url.pathname = url.pathname.replace(/\/ws\/([^/]+)$/, '/sse/$1');
    url.search = '';
    if (topics && topics.length > 0) url.searchParams.set('topics', topics.join(','));
    if (this.#lastEventId) url.searchParams.set('last_event_id', this.#lastEventId);
    return url.toString();
  }

  #openSse(topics?: string[]): void {
    const factory = (this.#sseFactory ??= defaultSseFactory());
    // The first stream takes the registration's topics; its welcome says which, then the
    // stream is reopened with everything wanted if that differs (see #onSseWelcome).
    const wanted = topics ?? (this.#welcome ? this.#topics.wanted() : undefined);
    const stream = factory(this.#sseUrl(wanted), {
      onOpen: () => {},
      onEvent: (type, data, id) => {
        if (stream !== this.#sse) return;
        this.#lastFrameAt = Date.now();
        this.#onSseEvent(stream, type, data, id);
      },
      onEnd: (reason, status, retryAfterMs) => {
        if (stream === this.#sse) this.#onSseEnd(reason, status, retryAfterMs);
      },
    });
    this.#sse = stream;
    this.#connectTimer = setTimeout(() => {
      if (stream !== this.#sse) return;
      stream.close();
      this.#onSseEnd(`no welcome within ${this.#options.connectTimeoutMs} ms`);
    }, this.#options.connectTimeoutMs);
  }

  #onSseEvent(stream: SseStream, type: string, data: string, id: string | undefined): void {
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      this.#events.emit('error', new HeraldError('protocol', `unreadable event from the server: ${data.slice(0, 200)}`));
      return;
    }
    if (type === 'welcome') {
      this.#onSseWelcome(stream, frame as WelcomeFrame);
      return;
    }
    if (type === 'close') {
      const { code, reason } = frame as { code?: number; reason?: string };
      if (typeof code === 'number' && isFinalCloseCode(code)) {
        this.#finish({ code, reason: reason ?? describeCloseCode(code) }, code === CloseCode.unregistered ? 'unregistered' : 'replaced');
      }
      return; // otherwise the stream's end follows, and the client reconnects
    }
    const { frames } = parseFrames(data);
    for (const f of frames) if (f.type === 'message' || f.type === 'recovered') this.#onFrame(f);
    if (id !== undefined) this.#lastEventId = id;
  }

  #onSseWelcome(stream: SseStream, frame: WelcomeFrame): void {
    clearTimeout(this.#connectTimer);
    const joined = frame.topics ?? [];
    const { subscribe } = this.#topics.resume(joined);
    this.#welcome = { client: frame.client, user: frame.user, topics: joined, heartbeatMs: frame.heartbeat_ms };
    // Wanted topics the stream lacks (or has too many): reopen it with exactly those.
    const same = subscribe.length === joined.length && subscribe.every((t) => joined.includes(t));
    if (!same && subscribe.length > 0) {
      stream.close();
      this.#openSse(subscribe);
      return;
    }
    this.#backoff.reset();
    this.#setState({ state: 'connected' });
    this.#events.emit('welcome', this.#welcome);
    for (const topic of joined) this.#subscriptions.get(topic)?.control.subscribed();
  }

  #onSseEnd(reason: string, status?: number, retryAfterMs?: number): void {
    this.#sse = null;
    clearTimeout(this.#connectTimer);
    if (this.#state === 'closed') return;
    if (status === 404) return this.#finish({ code: 0, reason }, 'unknown_registration');
    if (status === 403) return this.#finish({ code: 0, reason }, 'forbidden');
    if (status === 400) return this.#finish({ code: 0, reason }, 'bad_request');
    // Not even SSE got through (the server may have been down, not WebSockets refused): try a WebSocket again next.
    if (this.#state !== 'connected' && this.#transports.includes('websocket')) this.#transport = 'websocket';
    this.#retryLater(CloseCode.abnormal, reason, status === undefined ? undefined : { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }

  // Topics changed while receiving over SSE: a new stream with the new list, from where this one stands.
  #restartSse(): void {
    const old = this.#sse;
    if (!old) return;
    this.#sse = null;
    old.close();
    clearTimeout(this.#connectTimer);
    this.#openSse(this.#topics.wanted());
  }

  #closedError(): HeraldError {
    return this.#finalError ?? new HeraldError('closed', `the client is closed: ${this.#closeInfo?.reason ?? 'closed'}`);
  }

  #setState(change: Omit<StateChange, 'previous'>): void {
    const previous = this.#state;
    this.#state = change.state;
    this.#events.emit('state', { ...change, previous });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `exp` and `iat` of a JWT, read without verifying it (the server verifies). */
function jwtClaims(token: string): { exp: number; iat?: number } | undefined {
  try {
    const part = token.split('.')[1] ?? '';
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const claims = JSON.parse(atob(b64)) as { exp?: unknown; iat?: unknown };
    if (typeof claims.exp !== 'number') return undefined;
    return typeof claims.iat === 'number' ? { exp: claims.exp, iat: claims.iat } : { exp: claims.exp };
  } catch {
    return undefined;
  }
}
