import type { Message, StreamPosition } from './message.js';
import { joinFrames, Outgoing } from './outgoing.js';
import type { Link, Session } from './session.js';
import { otherEntries, sseRecovered, sseRun } from './sse-frames.js';
import type { Recovery } from '../engines/history.js';
import { CloseCode } from '../protocol/close-codes.js';
import { textFrame } from '../protocol/frame.js';
import { encodeRecovered } from '../protocol/v1.js';

/** This process's subscribers of one topic, and the frames waiting for the next flush. */
interface TopicState {
  readonly name: string;
  readonly live: Set<Session>;
  readonly pending: Set<Session>;
  queue: Outgoing[];
  unicast: boolean;
  /** Position of the last message flushed to the live sessions, and the flush that wrote it. */
  flushed: StreamPosition | undefined;
  flushedSeq: number;
}

export interface HubOptions {
  /** Called when no session of this process wants `topic` any more. */
  onTopicIdle: (topic: string) => void;
  /** A session started holding a topic (pending or live): for presence and the cluster view. */
  onHold?: (session: Session, topic: string) => void;
  /** A session stopped holding a topic (left it, or closed). */
  onRelease?: (session: Session, topic: string) => void;
  /** Longest coalescing window while bursts pile up (ms). */
  flushWindowMs: number;
  /**
   * After each flush that wrote something: deliveries made, socket writes (a socket written
   * more than once in one flush: its first write, then one corked write for the rest), and the
   * oldest message's publish time.
   */
  onFlush?: (deliveries: number, writes: number, firstTs: number) => void;
}

/**
 * Traffic is heavy when a flush carried at least this many messages, or when a message comes
 * within the flush window of the previous flush (messages trickling in from Redis a few per
 * tick never fill one flush, but they arrive back to back).
 */
const BUSY_MESSAGES = 8;

/** A live link's queue: live links are never held for (frozen, so a mistake would throw). */
const NO_MESSAGES: Outgoing[] = Object.freeze([]) as unknown as Outgoing[];

/**
 * Who is connected to this process: topic -> sessions, user -> sessions, client id -> session.
 * Messages of a topic are queued and flushed together: each frame is encoded once, the frames
 * of one topic are joined into one Buffer, and that Buffer is written once to every subscriber.
 */
export class Hub {
  readonly #topics = new Map<string, TopicState>();
  readonly #clients = new Map<string, Session>();
  /** A user's sessions: the session itself while there is one (most users), a Set beyond. */
  readonly #users = new Map<string, Session | Set<Session>>();
  readonly #dirty: TopicState[] = [];
  readonly #options: HubOptions;
  #scheduled = false;
  #busy = false;
  /** performance.now() at the end of the last flush. */
  #flushedAt = -Infinity;
  #seq = 0;
  /** Numbers each flush, so a session can tell its first write of a flush from later ones. */
  #flushId = 0;
  /** Socket writes since the last onFlush report. */
  #writes = 0;
  #onFlushImmediate = (): void => this.flush();

  constructor(options: HubOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#clients.size;
  }

  get topicCount(): number {
    return this.#topics.size;
  }

  /** The `limit` topics with the most local subscribers, most first (read-only; for /stats). */
  topTopics(limit: number): Array<{ topic: string; subscribers: number }> {
    const top: Array<{ topic: string; subscribers: number }> = [];
    if (limit <= 0) return top;
    for (const st of this.#topics.values()) {
      const subscribers = st.live.size + st.pending.size;
      if (top.length === limit && subscribers <= top[top.length - 1]!.subscribers) continue;
      let i = top.length;
      while (i > 0 && top[i - 1]!.subscribers < subscribers) i--;
      top.splice(i, 0, { topic: st.name, subscribers });
      if (top.length > limit) top.pop();
    }
    return top;
  }

  sessions(): IterableIterator<Session> {
    return this.#clients.values();
  }

  get(clientId: string): Session | undefined {
    return this.#clients.get(clientId);
  }

  /** The sessions of one user (a copy: closing them changes the index). */
  sessionsOfUser(userKey: string): Session[] {
    const mine = this.#users.get(userKey);
    if (mine === undefined) return [];
    return mine instanceof Set ? [...mine] : [mine];
  }

  /** Adds a session, removing an older session of the same client from every index. */
  add(session: Session): void {
    const old = this.#clients.get(session.id);
    if (old) this.remove(old);
    this.#clients.set(session.id, session);
    const mine = this.#users.get(session.userKey);
    if (mine === undefined) this.#users.set(session.userKey, session);
    else if (mine instanceof Set) mine.add(session);
    else this.#users.set(session.userKey, new Set([mine, session]));
  }

  /** Removes a session from every index. */
  remove(session: Session): void {
    if (this.#clients.get(session.id) === session) this.#clients.delete(session.id);
    const mine = this.#users.get(session.userKey);
    if (mine === session) this.#users.delete(session.userKey);
    else if (mine instanceof Set && mine.delete(session) && mine.size === 1) this.#users.set(session.userKey, mine.values().next().value!);
    for (const topic of session.links.topics()) this.unwatch(session, topic);
  }

  /** Starts following a topic for a session: messages are queued for it until promote(). */
  watch(session: Session, topic: string): Link {
    const prev = session.links.get(topic);
    if (prev) return prev;
    const st = this.#state(topic);
    const link: Link = { live: false, queue: [], queuedBytes: 0, written: undefined, liveSince: 0, start: undefined };
    session.links.set(topic, link);
    st.pending.add(session);
    this.#options.onHold?.(session, topic);
    return link;
  }

  unwatch(session: Session, topic: string): void {
    const st = this.#topics.get(topic);
    const held = session.links.delete(topic);
    if (st) {
      st.live.delete(session);
      st.pending.delete(session);
      if (st.live.size === 0 && st.pending.size === 0) {
        this.#topics.delete(topic);
        this.#options.onTopicIdle(topic);
      }
    }
    if (held) this.#options.onRelease?.(session, topic);
  }

  /** Sessions of this process holding `topic` (joining or live). */
  subscribers(topic: string): number {
    const st = this.#topics.get(topic);
    return st ? st.live.size + st.pending.size : 0;
  }

  /**
   * Ends a recovery: writes the replay, then (when `announce`) the herald.v1 `recovered` frame,
   * then what arrived meanwhile past the seam, and makes the session live, all in one write and
   * one tick, so there is neither a gap nor a duplicate at the seam.
   */
  promote(session: Session, topic: string, recovery: Recovery, announce: boolean): void {
    const st = this.#topics.get(topic);
    const link = session.links.get(topic);
    if (!st || !link || link.live) return;
    // Frames already queued for the live sessions must go first: the new one has them in its queue.
    const touched: Session[] = [];
    this.#flushId++;
    const firstTs = st.queue[0]?.message.ts;
    const deliveries = this.#flushTopic(st, touched);
    for (const s of touched) s.uncork();
    if (firstTs !== undefined) this.#reportFlush(deliveries, firstTs);
    const frames: Buffer[] = [];
    let last = recovery.position;
    let lastReplayed = 0;
    const sse = session.protocol === 'sse' ? otherEntries(session, topic, this.#cursorOf) : undefined;
    const frame = this.framer(session, topic);
    for (const m of recovery.messages) {
      lastReplayed = m.offset;
      if (m.userId !== undefined && String(m.userId) !== session.userKey) continue;
      frames.push(frame(new Outgoing(m)));
    }
    const seam = Math.max(recovery.position.offset, lastReplayed);
    const seamAt = { offset: seam, epoch: recovery.position.epoch };
    // SSE streams hear only of gaps (`event: recovered`, complete: false); herald.v1 of every recovery.
    if (announce && sse === undefined) frames.push(textFrame(encodeRecovered(topic, seamAt, recovery.complete)));
    else if (announce && !recovery.complete && sse !== undefined) frames.push(sseRecovered(sse, topic, seamAt, false));
    for (const o of link.queue) {
      const m = o.message;
      if (o.presence !== undefined) {
        frames.push(frame(o));
        continue;
      }
      if (m.epoch === recovery.position.epoch && m.offset <= seam) continue;
      if (m.offset > 0) last = m; // offset 0: unsequenced (engine down), moves no cursor
      if (o.userKey !== undefined && o.userKey !== session.userKey) continue;
      frames.push(frame(o));
    }
    link.queue = NO_MESSAGES;
    link.queuedBytes = 0;
    link.live = true;
    // Nothing written past where the link started: it shares that position (positions are never changed in place).
    link.written = last === recovery.position && seam === last.offset ? last : { offset: last === recovery.position ? seam : last.offset, epoch: last.epoch };
    link.liveSince = this.#seq;
    st.pending.delete(session);
    st.live.add(session);
    if (frames.length > 0) session.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  /**
   * A session asks again for a topic it already holds live, from its own position (herald.v1
   * `subscribe` with `since`): it gets what it missed before this connection started in the
   * topic (everything after that was written on this socket, which loses nothing), then
   * `recovered` at what was written here. Returns how many messages were replayed.
   */
  resend(session: Session, topic: string, recovery: Recovery): number {
    const link = session.links.get(topic);
    if (!link?.live) return 0;
    const start = link.start ?? { offset: 0, epoch: recovery.position.epoch };
    const frame = this.framer(session, topic);
    const frames: Buffer[] = [];
    let bytes = 0;
    let complete = recovery.complete;
    if (start.epoch === recovery.position.epoch) {
      for (const m of recovery.messages) {
        if (m.offset > start.offset) break;
        if (m.userId !== undefined && String(m.userId) !== session.userKey) continue;
        const f = frame(new Outgoing(m));
        // A client may ask again and again: one answer never holds more than a socket may buffer.
        if (bytes + f.length > session.maxBufferedBytes) {
          frames.length = 0;
          complete = false;
          break;
        }
        bytes += f.length;
        frames.push(f);
      }
    }
    const replayed = frames.length;
    frames.push(textFrame(encodeRecovered(topic, this.cursor(session, topic) ?? recovery.position, complete)));
    session.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    return replayed;
  }

  readonly #cursorOf = (session: Session, topic: string): StreamPosition | undefined => this.cursor(session, topic);

  /**
   * Frames one topic's items for one session, in its wire format. An SSE event's id also names
   * where the stream stands in its other topics, read once here for the whole run.
   */
  framer(session: Session, topic: string): (o: Outgoing) => Buffer {
    if (session.protocol !== 'sse') return (o) => o.frame(session.protocol);
    const others = otherEntries(session, topic, this.#cursorOf);
    return (o) => sseRun(others, topic, [o]);
  }

  /** The last position written to a session for a topic, for its cursor. */
  cursor(session: Session, topic: string): StreamPosition | undefined {
    const link = session.links.get(topic);
    if (!link || !link.live) return link?.written;
    const st = this.#topics.get(topic);
    if (st?.flushed && st.flushedSeq > link.liveSince) return st.flushed;
    return link.written;
  }

  /** A message from the broker for this process. */
  deliver(message: Message): void {
    const st = this.#topics.get(message.topic);
    if (!st) return;
    this.#enqueue(st, new Outgoing(message));
  }

  /**
   * Join/leave lines (herald.v1 JSON, one object per line) from the broker: they take their
   * place in the topic's queue, so they reach each holder in order with the messages.
   */
  deliverPresence(topic: string, lines: string): void {
    const st = this.#topics.get(topic);
    if (!st) return;
    this.#enqueue(st, Outgoing.presence(topic, lines));
  }

  #enqueue(st: TopicState, out: Outgoing): void {
    for (const s of st.pending) this.#hold(s, st.name, out);
    if (st.live.size === 0) return;
    if (st.queue.length === 0) this.#dirty.push(st);
    st.queue.push(out);
    if (out.userKey !== undefined) st.unicast = true;
    this.#schedule();
  }

  /** Keeps a message for a session still joining; a join slower than the traffic is a slow consumer. */
  #hold(s: Session, topic: string, out: Outgoing): void {
    const link = s.links.get(topic);
    // Join/leave events are herald.v1's only.
    if (!link || s.closed || (out.presence !== undefined && s.protocol !== 'herald.v1')) return;
    link.queue.push(out);
    // Each entry counts for its size and a little more, so empty messages are bounded too.
    link.queuedBytes += out.message.body.length + 64;
    if (link.queuedBytes > s.maxBufferedBytes) s.close(CloseCode.slowConsumer, 'slow consumer: more arrived while joining than HERALD_MAX_BUFFERED_BYTES', 'slow');
  }

  /** Writes every queued frame now. */
  flush(): void {
    this.#scheduled = false;
    this.#flushId++;
    let messages = 0;
    let deliveries = 0;
    let firstTs = Infinity;
    const touched: Session[] = [];
    for (let i = 0; i < this.#dirty.length; i++) {
      const st = this.#dirty[i]!;
      const q = st.queue;
      if (q.length === 0) continue;
      messages += q.length;
      if (q[0]!.message.ts < firstTs) firstTs = q[0]!.message.ts;
      deliveries += this.#flushTopic(st, touched);
    }
    this.#dirty.length = 0;
    for (const s of touched) s.uncork();
    this.#busy = messages >= BUSY_MESSAGES;
    this.#flushedAt = performance.now();
    if (messages > 0) this.#reportFlush(deliveries, firstTs);
  }

  #reportFlush(deliveries: number, firstTs: number): void {
    const writes = this.#writes;
    this.#writes = 0;
    this.#options.onFlush?.(deliveries, writes, firstTs);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Light traffic: flush at the end of this tick. Bursts: wait a little to carry more per write.
    const window = this.#options.flushWindowMs;
    if (window > 0 && (this.#busy || performance.now() - this.#flushedAt < window)) setTimeout(this.#onFlushImmediate, window);
    else setImmediate(this.#onFlushImmediate);
  }

  /** Writes a topic's queue to its live sessions; returns the number of deliveries. */
  #flushTopic(st: TopicState, touched: Session[]): number {
    const q = st.queue;
    if (q.length === 0) return 0;
    st.queue = [];
    let last: Message | undefined;
    for (let i = q.length - 1; i >= 0 && !last; i--) if (q[i]!.message.offset > 0) last = q[i]!.message;
    let deliveries = 0;
    if (!st.unicast) {
      deliveries = this.#broadcast(st, q, touched);
    } else {
      st.unicast = false;
      deliveries = this.#flushMixed(st, q, touched);
    }
    if (last) {
      st.flushed = { offset: last.offset, epoch: last.epoch };
      st.flushedSeq = ++this.#seq;
    }
    return deliveries;
  }

  /** A queue with user-addressed messages: runs of broadcasts go to all, the rest to their user. */
  #flushMixed(st: TopicState, q: Outgoing[], touched: Session[]): number {
    let deliveries = 0;
    let runStart = 0;
    for (let i = 0; i <= q.length; i++) {
      const o = q[i];
      if (o !== undefined && o.userKey === undefined) continue;
      if (i > runStart) deliveries += this.#broadcast(st, q.slice(runStart, i), touched);
      runStart = i + 1;
      if (o === undefined) break;
      const mine = this.#users.get(o.userKey!);
      if (mine === undefined) continue;
      if (mine instanceof Set) {
        for (const s of mine) deliveries += this.#sendTo(s, st, o, touched);
      } else {
        deliveries += this.#sendTo(mine, st, o, touched);
      }
    }
    return deliveries;
  }

  /** One user-addressed message to one of the user's sessions, if it is live in the topic. */
  #sendTo(s: Session, st: TopicState, o: Outgoing, touched: Session[]): number {
    if (!s.links.get(st.name)?.live) return 0;
    // No framer closure per message: a WebSocket's frame is the message's own, shared bytes.
    const frame = s.protocol === 'sse' ? this.framer(s, st.name)(o) : o.frame(s.protocol);
    return this.#send(s, frame, 1, touched);
  }

  /**
   * Writes a run of messages to every live session of the topic, one Buffer per protocol (SSE:
   * one per set of positions in the streams' other topics, see sse-frames.ts).
   */
  #broadcast(st: TopicState, run: Outgoing[], touched: Session[]): number {
    let deliveries = 0;
    let plain: Buffer | undefined;
    let v1: Buffer | undefined;
    let sse: Map<string, Buffer> | undefined;
    for (const s of st.live) {
      const p = s.protocol;
      const buf = p === 'plain' ? (plain ??= joinFrames(run, 'plain')) : p === 'herald.v1' ? (v1 ??= joinFrames(run, 'herald.v1')) : this.#sseRun(s, st.name, run, (sse ??= new Map()));
      // A run of join/leave events only: nothing for plain clients and SSE streams.
      if (buf.length > 0) deliveries += this.#send(s, buf, run.length, touched);
    }
    return deliveries;
  }

  #sseRun(s: Session, topic: string, run: Outgoing[], shared: Map<string, Buffer>): Buffer {
    const others = otherEntries(s, topic, this.#cursorOf);
    let buf = shared.get(others);
    if (buf === undefined) {
      buf = sseRun(others, topic, run);
      shared.set(others, buf);
    }
    return buf;
  }

  /**
   * One write to a session. The first write of a flush goes straight out; a session written
   * again in the same flush is corked, so its later writes leave together when the flush ends.
   */
  #send(s: Session, buf: Buffer, messages: number, touched: Session[]): number {
    // Writes that reach the kernel: the first of the flush, and one more for all the corked rest.
    let newWrite = s.flushMark !== this.#flushId;
    if (newWrite) {
      s.flushMark = this.#flushId;
    } else if (s.cork()) {
      touched.push(s);
      newWrite = true;
    }
    if (!s.write(buf)) return 0;
    if (newWrite) this.#writes++;
    return messages;
  }

  #state(topic: string): TopicState {
    let st = this.#topics.get(topic);
    if (!st) {
      st = { name: topic, live: new Set(), pending: new Set(), queue: [], unicast: false, flushed: undefined, flushedSeq: 0 };
      this.#topics.set(topic, st);
    }
    return st;
  }
}
