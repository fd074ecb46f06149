import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Message, PublishInput, StreamPosition } from '../../core/message.js';
import { HeraldError } from '../../errors.js';
import type { Broker, ControlEvent, ControlHandler, MessageHandler } from '../broker.js';
import type { Recovery } from '../history.js';
import type { PresenceEvent } from '../presence.js';
import type { RedisClient } from './connection.js';
import { newEpoch } from './history-redis.js';
import type { RedisKeys } from './keys.js';
import type { RedisLink } from './link.js';
import { decodeMessage, encodeHead } from './message-codec.js';
import { decodePresenceEvent } from './presence-redis.js';
import { publishScript } from './publish-script.js';

/**
 * How long a fence may take to come back. Generous: a node busy with a reconnect storm reads its
 * subscriber late, and a join that fails here closes the client (which comes back into the storm).
 */
const FENCE_TIMEOUT_MS = 10_000;

export type EngineLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface RedisBrokerOptions {
  historySize: number;
  historyTtlMs: number;
  log: EngineLog;
  /** Reads what a topic missed, to fill a gap in live delivery (after a reconnect). */
  recover: (topic: string, since: StreamPosition) => Promise<Recovery>;
  /**
   * How often the subscription is proven alive: a probe published on the control channel must
   * come back on the subscriber within three intervals. Default 1 000 ms.
   */
  probeIntervalMs?: number;
}

/**
 * Cross-node delivery over Redis pub/sub: one channel per topic (sharded on Cluster),
 * subscribed on a dedicated connection only while this node wants the topic. Publishing is
 * one script (see publish-script.ts). Pub/sub is at most once, so the broker remembers the
 * last offset it delivered per topic and fills gaps from history: after a reconnect, or when
 * a message arrives whose predecessor did not.
 */
export class RedisBroker implements Broker {
  readonly #link: RedisLink;
  readonly #sub: RedisClient;
  readonly #keys: RedisKeys;
  readonly #o: RedisBrokerOptions;
  readonly #wanted = new Map<string, Promise<void>>();
  readonly #last = new Map<string, StreamPosition>();
  /** Topics being filled from history; live messages (and passed fences) wait here, in order. */
  readonly #filling = new Map<string, Array<Message | (() => void)>>();
  /** Fence tokens sent and not yet seen back; fences asked in one tick share a token. */
  readonly #fences = new Map<string, () => void>();
  readonly #fenceBatch = new Map<string, Promise<void>>();
  readonly #idPrefix = randomBytes(4).toString('hex');
  readonly #stateListeners: Array<() => void> = [];
  #counter = 0;
  #fenceCounter = 0;
  #subReady = false;
  #everSubReady = false;
  #closed = false;
  #onMessage: MessageHandler = () => {};
  #onControl: ControlHandler = () => {};
  #onPresence: (event: PresenceEvent) => void = () => {};
  /** The liveness probe in flight: its token and when it was sent. */
  #probe: { token: string; sentAt: number } | undefined;
  readonly #probeTimer: NodeJS.Timeout;

  constructor(link: RedisLink, sub: RedisClient, keys: RedisKeys, options: RedisBrokerOptions) {
    this.#link = link;
    this.#sub = sub;
    this.#keys = keys;
    this.#o = options;
    const control = keys.control();
    sub.on('error', (err: Error) => options.log.debug({ err: err.message }, 'redis subscriber connection error'));
    sub.on('message', (channel: string, payload: string) => (channel === control ? this.#control(payload) : this.#receive(payload)));
    sub.on('smessage', (_channel: string, payload: string) => this.#receive(payload));
    sub.on('ready', () => void this.#resubscribe());
    sub.on('close', () => this.#setSubReady(false));
    sub.on('end', () => this.#setSubReady(false));
    const interval = options.probeIntervalMs ?? 1_000;
    this.#probeTimer = setInterval(() => this.#checkSubscription(interval * 3), interval);
    this.#probeTimer.unref();
  }

  /**
   * Pub/sub can stop delivering while commands still work (a proxy or a network path that
   * drops one connection's traffic, a Redis that stalls one client): nothing errors, messages
   * just stop. So a probe goes out on the control channel, which every node subscribes to, and
   * must come back. When it does not in time, the subscriber is reported down (/health 503) and
   * reconnected; the resubscribe then fills every topic's gap from history.
   */
  #checkSubscription(timeoutMs: number): void {
    if (this.#closed || !this.#subReady) {
      this.#probe = undefined;
      return;
    }
    const now = Date.now();
    if (this.#probe) {
      if (now - this.#probe.sentAt < timeoutMs) return;
      this.#o.log.warn({ waitedMs: now - this.#probe.sentAt }, 'redis subscription stopped delivering (a probe never came back); reconnecting it');
      this.#probe = undefined;
      this.#setSubReady(false);
      this.#sub.disconnect(true);
      return;
    }
    const probe = { token: `${this.#idPrefix}-${(++this.#fenceCounter).toString(36)}`, sentAt: now };
    this.#probe = probe;
    // A failed publish says nothing about the subscription: the command link's own health does.
    this.#link.call((c) => c.publish(this.#keys.control(), `{"probe":"${probe.token}"}`)).catch(() => {
      if (this.#probe === probe) this.#probe = undefined;
    });
  }

  /** True while the subscriber connection is up and subscribed to what this node wants. */
  subscriberReady(): boolean {
    return this.#subReady;
  }

  onSubscriberState(listener: () => void): void {
    this.#stateListeners.push(listener);
  }

  /** Topics this node is subscribed to. */
  topics(): string[] {
    return [...this.#wanted.keys()];
  }

  async publish(input: PublishInput): Promise<Message> {
    const id = `${this.#idPrefix}-${(++this.#counter).toString(36)}`;
    const keys = [this.#keys.meta(input.topic), this.#keys.log(input.topic), this.#keys.channel(input.topic)];
    const args = [newEpoch(), encodeHead(id, input), this.#o.historySize, this.#o.historyTtlMs, this.#link.cluster ? 'SPUBLISH' : 'PUBLISH'];
    const [offset, epoch, ts] = (await this.#link.call((c) => publishScript.run(c, keys, args))) as [number, string, string];
    return { id, topic: input.topic, userId: input.userId, kind: input.kind, body: input.body, offset, epoch, ts: Number(ts), fromUser: input.fromUser };
  }

  onMessage(handler: MessageHandler): void {
    this.#onMessage = handler;
  }

  subscribe(topic: string): Promise<void> {
    let done = this.#wanted.get(topic);
    if (!done) {
      // While the subscriber is down there is nothing to wait for: no publish can happen,
      // and the subscription is restored when it comes back (by #resubscribe; on a Cluster
      // by ioredis, which queues the SSUBSCRIBE until then).
      if (this.#subReady) done = this.#command('subscribe', topic);
      else {
        if (this.#link.cluster) void this.#command('subscribe', topic);
        done = Promise.resolve();
      }
      this.#wanted.set(topic, done);
    }
    return done;
  }

  /**
   * Publishes a token on the topic's own channel and waits for it to come back: pub/sub keeps
   * a channel's order, so every message published before has then reached onMessage. Works the
   * same on a Cluster shard, unlike a PING on the subscriber connection.
   */
  fence(topic: string): Promise<void> {
    if (!this.#wanted.has(topic) || !this.#subReady) return Promise.resolve();
    let batch = this.#fenceBatch.get(topic);
    if (!batch) {
      batch = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          this.#fenceBatch.delete(topic);
          const token = `${this.#idPrefix}.${++this.#fenceCounter}`;
          // Timers run before the loop reads its sockets: after a long turn (a reconnect storm)
          // the timer would fire with the echo already waiting unread. The verdict waits for
          // the next check phase, after those reads.
          const timer = setTimeout(() => {
            setImmediate(() => {
              if (!this.#fences.delete(token)) return;
              reject(new HeraldError('engine_unavailable', `The engine (Redis) did not echo a fence on topic ${topic} in time; retry shortly.`));
            });
          }, FENCE_TIMEOUT_MS);
          this.#fences.set(token, () => {
            clearTimeout(timer);
            resolve();
          });
          const channel = this.#keys.channel(topic);
          const payload = JSON.stringify({ fence: token, topic });
          this.#link.call((c) => (this.#link.cluster ? c.spublish(channel, payload) : c.publish(channel, payload))).catch((err: unknown) => {
            clearTimeout(timer);
            this.#fences.delete(token);
            reject(err as Error);
          });
        });
      });
      this.#fenceBatch.set(topic, batch);
    }
    return batch;
  }

  async unsubscribe(topic: string): Promise<void> {
    if (!this.#wanted.delete(topic)) return;
    this.#last.delete(topic);
    if (this.#subReady) await this.#command('unsubscribe', topic);
    else if (this.#link.cluster) void this.#command('unsubscribe', topic);
  }

  async sendControl(event: ControlEvent): Promise<void> {
    await this.#link.call((c) => c.publish(this.#keys.control(), JSON.stringify(event)));
  }

  onControl(handler: ControlHandler): void {
    this.#onControl = handler;
  }

  /** Join/leave events published on topic channels (by the presence scripts). */
  onPresence(handler: (event: PresenceEvent) => void): void {
    this.#onPresence = handler;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#probeTimer);
    this.#wanted.clear();
    for (const done of this.#fences.values()) done();
    this.#fences.clear();
    try {
      await this.#sub.quit();
    } catch {
      this.#sub.disconnect();
    }
  }

  async #command(what: 'subscribe' | 'unsubscribe', topic: string): Promise<void> {
    const channel = this.#keys.channel(topic);
    const sharded = this.#link.cluster;
    try {
      if (what === 'subscribe') await (sharded ? this.#sub.ssubscribe(channel) : this.#sub.subscribe(channel));
      else await (sharded ? this.#sub.sunsubscribe(channel) : this.#sub.unsubscribe(channel));
    } catch (err) {
      // Not fatal: the connection is down and #resubscribe restores what is wanted.
      this.#o.log.debug({ topic, err: (err as Error).message }, `redis ${what} failed`);
    }
  }

  async #resubscribe(): Promise<void> {
    if (this.#closed) return;
    const topics: string[] = [];
    try {
      await this.#sub.subscribe(this.#keys.control());
      // ioredis re-sends a Cluster's SSUBSCRIBEs itself (per shard, on its slot refresh);
      // a standalone connection starts empty and gets every wanted channel again. Topics wanted
      // while these commands were on their way (a restarted node's clients join at once) sent
      // no SUBSCRIBE of their own: the loop goes on until none is left, and only then is the
      // subscriber ready (after which each new topic subscribes itself).
      if (!this.#link.cluster) {
        const sent = new Set<string>();
        for (;;) {
          const todo = this.topics().filter((t) => !sent.has(t));
          if (todo.length === 0) break;
          for (let i = 0; i < todo.length; i += 500) {
            const chunk = todo.slice(i, i + 500);
            await this.#sub.subscribe(...chunk.map((t) => this.#keys.channel(t)));
            for (const t of chunk) sent.add(t);
          }
        }
        topics.push(...sent);
      } else {
        topics.push(...this.topics());
      }
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message }, 'redis resubscribe failed; retrying on the next reconnect');
      return;
    }
    if (this.#everSubReady) this.#o.log.info({ topics: topics.length }, `redis reconnected; resubscribed ${topics.length} topics`);
    this.#everSubReady = true;
    this.#setSubReady(true);
    for (const topic of topics) if (this.#last.has(topic)) void this.#fill(topic, []);
  }

  #setSubReady(ready: boolean): void {
    if (this.#subReady === ready) return;
    this.#subReady = ready;
    for (const l of this.#stateListeners) l();
  }

  #receive(payload: string): void {
    if (payload.startsWith('{"fence":')) return this.#fenceSeen(payload);
    if (payload.startsWith('{"presence":')) return this.#presenceSeen(payload);
    const m = decodeMessage(payload);
    if (!m || !this.#wanted.has(m.topic)) return;
    const waiting = this.#filling.get(m.topic);
    if (waiting) {
      waiting.push(m);
      return;
    }
    const last = this.#last.get(m.topic);
    if (last && last.epoch === m.epoch && m.offset > last.offset + 1) {
      void this.#fill(m.topic, [m]);
      return;
    }
    this.#deliver(m);
  }

  /** Delivers what `topic` missed since the last delivered offset, then what waited. */
  async #fill(topic: string, waiting: Message[]): Promise<void> {
    if (this.#filling.has(topic)) {
      this.#filling.get(topic)!.push(...waiting);
      return;
    }
    this.#filling.set(topic, waiting);
    try {
      const last = this.#last.get(topic);
      if (last) {
        const r = await this.#o.recover(topic, last);
        for (const m of r.messages) this.#deliver(m);
        if (!r.complete) this.#o.log.warn({ topic, since: last, position: r.position }, 'messages lost between nodes: older than the history');
      }
    } catch (err) {
      this.#o.log.warn({ topic, err: (err as Error).message }, 'could not fill a delivery gap from history');
    } finally {
      const queued = this.#filling.get(topic) ?? [];
      this.#filling.delete(topic);
      for (const m of queued) {
        if (typeof m === 'function') m();
        else this.#deliver(m);
      }
    }
  }

  #fenceSeen(payload: string): void {
    const { fence, topic } = JSON.parse(payload) as { fence: string; topic: string };
    const done = this.#fences.get(fence);
    if (!done) return; // another node's fence
    this.#fences.delete(fence);
    const waiting = this.#filling.get(topic);
    if (waiting) waiting.push(done);
    else done();
  }

  /** A join/leave event keeps its place among the topic's messages, also while a gap is filled. */
  #presenceSeen(payload: string): void {
    const e = decodePresenceEvent(payload);
    if (!e || !this.#wanted.has(e.topic)) return;
    const deliver = (): void => {
      if (!this.#wanted.has(e.topic)) return;
      try {
        this.#onPresence(e);
      } catch (err) {
        this.#o.log.error({ err, topic: e.topic }, 'presence handler failed');
      }
    };
    const waiting = this.#filling.get(e.topic);
    if (waiting) waiting.push(deliver);
    else deliver();
  }

  #deliver(m: Message): void {
    if (!this.#wanted.has(m.topic)) return;
    const last = this.#last.get(m.topic);
    if (last && last.epoch === m.epoch && m.offset <= last.offset) return; // already delivered
    this.#last.set(m.topic, { offset: m.offset, epoch: m.epoch });
    try {
      this.#onMessage(m);
    } catch (err) {
      this.#o.log.error({ err, topic: m.topic }, 'message handler failed');
    }
  }

  #control(payload: string): void {
    if (payload.startsWith('{"probe":')) {
      if (this.#probe && payload === `{"probe":"${this.#probe.token}"}`) this.#probe = undefined;
      return;
    }
    let e: unknown;
    try {
      e = JSON.parse(payload);
    } catch {
      return;
    }
    const event = controlEvent(e);
    if (!event) return;
    try {
      this.#onControl(event);
    } catch (err) {
      this.#o.log.error({ err }, 'control handler failed');
    }
  }
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** A control event as received from Redis, checked field by field (other versions may share the channel). */
function controlEvent(e: unknown): ControlEvent | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const o = e as Record<string, unknown>;
  if (typeof o.node !== 'string') return undefined;
  if (o.type === 'revoke' && typeof o.user === 'string' && typeof o.at === 'number') return { type: 'revoke', node: o.node, user: o.user, at: o.at };
  if (typeof o.clientId !== 'string') return undefined;
  if (o.type === 'kick' && typeof o.code === 'number' && typeof o.reason === 'string') {
    const before = typeof o.before === 'number' ? { before: o.before } : {};
    return { type: 'kick', node: o.node, clientId: o.clientId, code: o.code, reason: o.reason, ...before };
  }
  if (o.type === 'rights' && strings(o.topics) && strings(o.grants)) return { type: 'rights', node: o.node, clientId: o.clientId, topics: o.topics, grants: o.grants };
  return undefined;
}
