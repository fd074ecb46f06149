// The reconnect storm's SDK client: the project's HeraldClient with its defaults (its own
// backoff with full jitter, 500 ms doubling to 30 s; resume with `since`), over `ws` from one of
// the loopback source addresses.
import { HeraldClient } from '../client/index.js';
import type { HeraldClientConfig, SocketFactory } from '../client/index.js';
import type { StormEvents, StormMember } from './storm-member.js';

export class SdkStormClient implements StormMember {
  readonly index: number;
  connected = false;
  gone = false;
  readonly #target: string | HeraldClientConfig;
  readonly #topic: string;
  readonly #factory: SocketFactory;
  readonly #events: StormEvents;
  #client: HeraldClient | null = null;

  /** `target`: a registration URL, or the token endpoint with getToken. */
  constructor(index: number, target: string | HeraldClientConfig, topic: string, factory: SocketFactory, events: StormEvents) {
    this.index = index;
    this.#target = target;
    this.#topic = topic;
    this.#factory = factory;
    this.#events = events;
  }

  start(): void {
    const client = new HeraldClient(this.#target, { socketFactory: this.#factory });
    this.#client = client;
    client.on('state', (change) => {
      if (change.state === 'connecting') {
        this.#events.attempt(this);
      } else if (change.state === 'connected') {
        this.connected = true;
      } else if (change.state === 'disconnected' || change.state === 'closed') {
        if (change.state === 'closed' && !this.gone) {
          this.gone = true;
          this.#events.gaveUp(this, change.code ?? 0);
        }
        if (change.previous === 'connected') this.#events.drop(this);
        else if (change.status !== undefined) this.#events.refused(this, change.status);
        else if (change.state === 'disconnected') this.#events.failedTcp(this);
        this.connected = false;
      }
    });
    client.on('welcome', () => this.#events.welcome(this));
    client.on('message', (m) => {
      if (m.topic === this.#topic) this.#events.data(this, typeof m.data === 'string' ? m.data : '');
    });
    client.on('recovered', (r) => {
      if (r.topic === this.#topic) this.#events.recovered(this);
    });
    void client.connect();
  }

  close(): void {
    this.gone = true;
    void this.#client?.close();
  }
}
