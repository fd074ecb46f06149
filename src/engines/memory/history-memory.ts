import { randomBytes } from 'node:crypto';
import type { Message, PublishInput, StreamPosition } from '../../core/message.js';
import type { History, Recovery } from '../history.js';

/**
 * What one kept message is counted as against HERALD_HISTORY_MAX_BYTES: its payload and topic
 * (one byte per character) plus the object, its id and its ring slot (measured: ~100-130 bytes).
 */
export const MESSAGE_OVERHEAD_BYTES = 128;
export const footprint = (m: Message): number => m.body.length + m.topic.length + MESSAGE_OVERHEAD_BYTES;

/**
 * Keeps the newest messages of a recovery whose payloads fit in `maxBytes` (at least the newest
 * one): an older part beyond that is left out and the recovery says complete:false, as when
 * history no longer reaches back that far.
 */
export function capRecovery(recovery: Recovery, maxBytes: number): Recovery {
  const ms = recovery.messages;
  let bytes = 0;
  let i = ms.length;
  while (i > 0 && bytes + ms[i - 1]!.body.length <= maxBytes) bytes += ms[--i]!.body.length;
  if (i === ms.length && i > 0) i--; // a single message larger than the cap still goes
  return i === 0 ? recovery : { messages: ms.slice(i), position: recovery.position, complete: false };
}

/** One topic's stream: a ring of its last `size` messages, its offset counter and epoch. */
class TopicStream {
  readonly epoch = randomBytes(6).toString('base64url');
  offset = 0;
  bytes = 0;
  expiresAt = 0;
  readonly #ring: Message[] = [];
  /** Index of the oldest kept message, and how many are kept. */
  #head = 0;
  #count = 0;

  constructor(readonly size: number) {}

  /** Keeps a message; returns the change in bytes (an old one may fall off the ring). */
  append(m: Message): number {
    if (this.size === 0) return 0;
    const before = this.bytes;
    if (this.#count === this.size) this.dropOldest();
    if (this.#count === this.#ring.length) {
      // Every slot is taken (the ring grows up to `size`): unwrap it first if it wrapped.
      if (this.#head !== 0) {
        const ordered = this.after(0);
        this.#ring.length = 0;
        this.#ring.push(...ordered);
        this.#head = 0;
      }
      this.#ring.push(m);
    } else {
      this.#ring[(this.#head + this.#count) % this.#ring.length] = m;
    }
    this.#count++;
    this.bytes += footprint(m);
    return this.bytes - before;
  }

  /** Drops the oldest kept message; returns the bytes freed (0 when none is kept). */
  dropOldest(): number {
    if (this.#count === 0) return 0;
    const m = this.#ring[this.#head]!;
    this.#ring[this.#head] = undefined as unknown as Message; // let the message go
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#count--;
    const freed = footprint(m);
    this.bytes -= freed;
    return freed;
  }

  get length(): number {
    return this.#count;
  }

  /** Kept messages with offset > after, oldest first. */
  after(after: number): Message[] {
    const n = this.#count;
    const first = this.oldestOffset();
    const skip = Math.max(0, after - first + 1);
    const out: Message[] = [];
    for (let i = skip; i < n; i++) out.push(this.#ring[(this.#head + i) % this.#ring.length]!);
    return out;
  }

  oldestOffset(): number {
    return this.offset - this.#count + 1;
  }
}

/**
 * History in this process's memory. A topic's stream (and its offsets) is dropped after
 * `ttlMs` without a publish; it then starts again under a new epoch, which tells clients.
 * All streams together keep at most `maxBytes` (counted by `footprint`): past it, the topics
 * published least recently lose their history first, oldest message first; a topic left with
 * none is dropped whole (a new epoch at its next publish), so recovery says complete:false.
 */
export class MemoryHistory implements History {
  /** In order of last publish, least recent first: the eviction order. */
  readonly #streams = new Map<string, TopicStream>();
  readonly #size: number;
  readonly #ttlMs: number;
  readonly #maxBytes: number;
  readonly #sweep: NodeJS.Timeout;
  #bytes = 0;
  #counter = 0;
  /** The stream of the last publish: already last in #streams, no need to move it. */
  #last: TopicStream | undefined;
  readonly #idPrefix = randomBytes(4).toString('hex');

  constructor(size: number, ttlMs: number, maxBytes = Number.POSITIVE_INFINITY) {
    this.#size = size;
    this.#ttlMs = ttlMs;
    this.#maxBytes = maxBytes;
    this.#sweep = setInterval(() => this.sweep(), Math.min(Math.max(ttlMs / 4, 50), 60_000));
    this.#sweep.unref();
  }

  /** Assigns the topic's next offset and keeps the message. */
  append(input: PublishInput): Message {
    const s = this.#stream(input.topic);
    const now = Date.now();
    s.offset += 1;
    s.expiresAt = now + this.#ttlMs;
    const m: Message = {
      id: `${this.#idPrefix}-${(++this.#counter).toString(36)}`,
      topic: input.topic,
      userId: input.userId,
      kind: input.kind,
      body: input.body,
      offset: s.offset,
      epoch: s.epoch,
      ts: now,
      fromUser: input.fromUser,
    };
    this.#bytes += s.append(m);
    if (this.#bytes > this.#maxBytes) this.#evict(s);
    return m;
  }

  // Reading never creates a stream (a client could otherwise make state by naming topics): a
  // topic never published, or whose history expired, stands at offset 0 of epoch "".
  async position(topic: string): Promise<StreamPosition> {
    const s = this.#streams.get(topic);
    return s ? { offset: s.offset, epoch: s.epoch } : { offset: 0, epoch: '' };
  }

  async since(topic: string, since: StreamPosition, maxBytes?: number): Promise<Recovery> {
    const r = this.#since(topic, since);
    return maxBytes === undefined ? r : capRecovery(r, maxBytes);
  }

  #since(topic: string, since: StreamPosition): Recovery {
    const s = this.#streams.get(topic);
    if (!s) return { messages: [], position: { offset: 0, epoch: '' }, complete: since.offset === 0 };
    const position = { offset: s.offset, epoch: s.epoch };
    // offset 0 means "from the start", whatever epoch the client names.
    if (since.offset > 0 && since.epoch !== s.epoch) return { messages: s.after(0), position, complete: false };
    if (since.offset >= s.offset) return { messages: [], position, complete: true };
    return { messages: s.after(since.offset), position, complete: since.offset + 1 >= s.oldestOffset() };
  }

  async stats(): Promise<{ topics: number; messages: number; bytes: number }> {
    let messages = 0;
    for (const s of this.#streams.values()) messages += s.length;
    return { topics: this.#streams.size, messages, bytes: this.#bytes };
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  sweep(now = Date.now()): void {
    for (const [topic, s] of this.#streams) if (s.expiresAt <= now) this.#drop(topic, s);
  }

  /**
   * Frees history until under the bound, least recently published topics first. The topic
   * just published is last in line and keeps at least that message, so one message larger
   * than the bound is still delivered and recoverable.
   */
  #evict(current: TopicStream): void {
    for (const [topic, s] of this.#streams) {
      if (this.#bytes <= this.#maxBytes) return;
      if (s === current) {
        while (this.#bytes > this.#maxBytes && s.length > 1) this.#bytes -= s.dropOldest();
        return;
      }
      while (this.#bytes > this.#maxBytes && s.length > 0) this.#bytes -= s.dropOldest();
      if (s.length === 0) this.#drop(topic, s);
    }
  }

  #drop(topic: string, s: TopicStream): void {
    this.#bytes -= s.bytes;
    this.#streams.delete(topic);
    if (this.#last === s) this.#last = undefined;
  }

  #stream(topic: string): TopicStream {
    let s = this.#streams.get(topic);
    if (!s) {
      s = new TopicStream(this.#size);
      s.expiresAt = Date.now() + this.#ttlMs;
      this.#streams.set(topic, s);
    } else if (s !== this.#last) {
      // Moves it to the end: the map stays in order of last publish.
      this.#streams.delete(topic);
      this.#streams.set(topic, s);
    }
    this.#last = s;
    return s;
  }
}
