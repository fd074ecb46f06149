// The reconnect storm's "no backoff" client: herald.v1 over the load generator's raw WebSocket
// (bench/raw-ws-client.ts), which reconnects the moment its connection closes and retries the
// moment an attempt fails, whatever the server answered. It resumes with `?since=` from the last
// position it saw, as any correct client must, so the server replays what it missed.
import { HandshakeError, RawSubscriber } from './raw-ws-client.js';
import type { StormEvents, StormMember } from './storm-member.js';

interface Position {
  offset: number;
  epoch: string;
}

export interface RawStormOptions {
  readonly host: string;
  readonly port: number;
  /** `/ws/ID` or `/ws?token=JWT`. */
  readonly path: string;
  readonly topic: string;
  readonly localAddress: string;
}

export class RawStormClient implements StormMember {
  readonly index: number;
  connected = false;
  /** A raw client never gives up. */
  readonly gone = false;
  readonly #options: RawStormOptions;
  readonly #events: StormEvents;
  #sub: RawSubscriber | null = null;
  #position: Position | null = null;
  #closing = false;

  constructor(index: number, options: RawStormOptions, events: StormEvents) {
    this.index = index;
    this.#options = options;
    this.#events = events;
  }

  start(): void {
    this.#attempt();
  }

  close(): void {
    this.#closing = true;
    this.#sub?.destroy();
  }

  #url(): string {
    const { path, topic } = this.#options;
    if (this.#position === null) return path;
    const since = encodeURIComponent(JSON.stringify({ [topic]: this.#position }));
    return `${path}${path.includes('?') ? '&' : '?'}since=${since}`;
  }

  #attempt(): void {
    if (this.#closing) return;
    this.#events.attempt(this);
    const { host, port, localAddress } = this.#options;
    RawSubscriber.connect({
      host,
      port,
      localAddress,
      path: this.#url(),
      protocol: 'herald.v1',
      capture: true,
      timeoutMs: 15_000,
      onMessage: (_s, payload) => {
        if (payload !== null) this.#onFrame(payload.toString('utf8'));
      },
      onClose: () => this.#onClose(),
    }).then(
      (sub) => {
        if (this.#closing) sub.destroy();
        else this.#sub = sub;
      },
      (err: unknown) => {
        const status = err instanceof HandshakeError ? err.status : 0;
        if (status > 0) this.#events.refused(this, status);
        else this.#events.failedTcp(this);
        // No backoff: straight back (on the next turn of the loop, so others get their turn too).
        setImmediate(() => this.#attempt());
      },
    );
  }

  #onClose(): void {
    this.#sub = null;
    if (this.connected) {
      this.connected = false;
      this.#events.drop(this);
    }
    if (!this.#closing) setImmediate(() => this.#attempt());
  }

  #onFrame(text: string): void {
    // herald.v1 may batch several objects in one frame, one per line.
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      let frame: { type?: unknown; topic?: unknown; data?: unknown; offset?: unknown; epoch?: unknown };
      try {
        frame = JSON.parse(line) as typeof frame;
      } catch {
        continue;
      }
      if (frame.type === 'welcome') {
        this.connected = true;
        this.#events.welcome(this);
      } else if (frame.type === 'message' && frame.topic === this.#options.topic) {
        if (typeof frame.offset === 'number' && frame.offset > 0 && typeof frame.epoch === 'string') this.#position = { offset: frame.offset, epoch: frame.epoch };
        this.#events.data(this, typeof frame.data === 'string' ? frame.data : '');
      } else if (frame.type === 'recovered' && frame.topic === this.#options.topic) {
        if (typeof frame.offset === 'number' && typeof frame.epoch === 'string') {
          const p = this.#position;
          if (p === null || p.epoch !== frame.epoch || p.offset < frame.offset) this.#position = { offset: frame.offset, epoch: frame.epoch };
        }
        this.#events.recovered(this);
      }
    }
  }
}
