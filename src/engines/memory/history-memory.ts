import { randomBytes } from 'node:crypto';
import type { Message, PublishInput, StreamPosition } from '../../core/message.js';
import type { History, Recovery } from '../history.js';

/** One topic's stream: a ring of its last `size` messages, its offset counter and epoch. */
class TopicStream {
  readonly epoch = randomBytes(6).toString('base64url');
  offset = 0;
  bytes = 0;
  expiresAt = 0;
  readonly #ring: Message[] = [];
  #head = 0;

  constructor(readonly size: number) {}

  append(m: Message): void {
    if (this.size === 0) return;
    if (this.#ring.length < this.size) {
      this.#ring.push(m);
    } else {
      this.bytes -= this.#ring[this.#head]!.body.length;
      this.#ring[this.#head] = m;
      this.#head = (this.#head + 1) % this.size;
    }
    this.bytes += m.body.length;
  }

  get length(): number {
    return this.#ring.length;
  }

  /** Kept messages with offset > after, oldest first. */
  after(after: number): Message[] {
    const n = this.#ring.length;
    const first = this.offset - n + 1; // offset of the oldest kept message
    const skip = Math.max(0, after - first + 1);
    const out: Message[] = [];
    for (let i = skip; i < n; i++) out.push(this.#ring[(this.#head + i) % n]!);
    return out;
  }

  oldestOffset(): number {
    return this.offset - this.#ring.length + 1;
  }
}

/**
 * History in this process's memory. A topic's stream (and its offsets) is dropped after
 * `ttlMs` without a publish; it then starts again under a new epoch, which tells clients.
 */
export class MemoryHistory implements History {
  readonly #streams = new Map<string, TopicStream>();
  readonly #size: number;
  readonly #ttlMs: number;
  readonly #sweep: NodeJS.Timeout;
  #counter = 0;
  readonly #idPrefix = randomBytes(4).toString('hex');

  constructor(size: number, ttlMs: number) {
    this.#size = size;
    this.#ttlMs = ttlMs;
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
    };
    s.append(m);
    return m;
  }

  // Reading never creates a stream (a client could otherwise make state by naming topics): a
  // topic never published, or whose history expired, stands at offset 0 of epoch "".
  async position(topic: string): Promise<StreamPosition> {
    const s = this.#streams.get(topic);
    return s ? { offset: s.offset, epoch: s.epoch } : { offset: 0, epoch: '' };
  }

  async since(topic: string, since: StreamPosition): Promise<Recovery> {
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
    let bytes = 0;
    for (const s of this.#streams.values()) {
      messages += s.length;
      bytes += s.bytes;
    }
    return { topics: this.#streams.size, messages, bytes };
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  sweep(now = Date.now()): void {
    for (const [topic, s] of this.#streams) if (s.expiresAt <= now) this.#streams.delete(topic);
  }

  #stream(topic: string): TopicStream {
    let s = this.#streams.get(topic);
    if (!s) {
      s = new TopicStream(this.#size);
      s.expiresAt = Date.now() + this.#ttlMs;
      this.#streams.set(topic, s);
    }
    return s;
  }
}
