import { Emitter } from './emitter.js';
import { HeraldError } from './herald-error.js';
import type { Listener } from './emitter.js';
import type { HeraldMessage, Recovery } from './message.js';
import type { JsonValue } from './wire.js';

/** Where a subscription stands: waiting for the server's ok, in effect, or over. */
export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed';

/** Events of a {@link Subscription}. */
export interface SubscriptionEvents<T> {
  /** A new message of the topic (duplicates are already dropped). */
  message: [message: HeraldMessage<T>];
  /** A catch-up after a reconnect finished; see {@link Recovery}. */
  recovered: [recovery: Recovery];
  /** The server's ok arrived: messages published from now on are delivered. */
  subscribed: [];
  /** The subscription ended: unsubscribed, refused by the server, or the client closed. */
  end: [error?: HeraldError];
}

/** What the client, and only the client, does to a subscription. */
export interface SubscriptionControl<T> {
  deliver(message: HeraldMessage<T>): void;
  recovered(recovery: Recovery): void;
  subscribed(): void;
  /** The connection dropped: the subscription waits for the next ok. */
  resubscribing(): void;
  end(error?: HeraldError): void;
}

/** What a subscription asks of its client. */
export interface SubscriptionHost {
  unsubscribe(topic: string): Promise<void>;
}

/**
 * One topic a {@link HeraldClient} receives. Read it with listeners or as an async
 * iterable; it survives reconnects (the client resubscribes with `since`, so no message is
 * lost or repeated).
 *
 * @example
 * const news = client.subscribe<{ title: string }>('news');
 * news.on('message', (m) => console.log(m.offset, m.data?.title));
 * await news.ready();
 *
 * @example
 * for await (const m of client.subscribe('news')) {
 *   console.log(m.data);
 *   if (m.offset >= 10) break; // leaves the loop; the subscription stays
 * }
 */
export class Subscription<T = JsonValue> {
  readonly topic: string;
  readonly #host: SubscriptionHost;
  readonly #events = new Emitter<SubscriptionEvents<T>>();
  #state: SubscriptionState = 'subscribing';
  #endError: HeraldError | undefined;

  constructor(topic: string, host: SubscriptionHost, bind: (control: SubscriptionControl<T>) => void) {
    this.topic = topic;
    this.#host = host;
    bind({
      deliver: (message) => this.#events.emit('message', message),
      recovered: (recovery) => this.#events.emit('recovered', recovery),
      subscribed: () => {
        if (this.#state !== 'subscribing') return;
        this.#state = 'subscribed';
        this.#events.emit('subscribed');
      },
      resubscribing: () => {
        if (this.#state === 'subscribed') this.#state = 'subscribing';
      },
      end: (error) => {
        if (this.#state === 'unsubscribed') return;
        this.#state = 'unsubscribed';
        this.#endError = error;
        this.#events.emit('end', error);
        this.#events.removeAll();
      },
    });
  }

  get state(): SubscriptionState {
    return this.#state;
  }

  on<K extends keyof SubscriptionEvents<T>>(event: K, listener: Listener<SubscriptionEvents<T>[K]>): () => void {
    return this.#events.on(event, listener);
  }

  once<K extends keyof SubscriptionEvents<T>>(event: K, listener: Listener<SubscriptionEvents<T>[K]>): () => void {
    return this.#events.once(event, listener);
  }

  off<K extends keyof SubscriptionEvents<T>>(event: K, listener: Listener<SubscriptionEvents<T>[K]>): void {
    this.#events.off(event, listener);
  }

  /**
   * Resolves once the subscription is in effect (the server's ok arrived), so a message
   * published afterwards is delivered; rejects if the subscription ends first.
   */
  ready(): Promise<void> {
    if (this.#state === 'subscribed') return Promise.resolve();
    if (this.#state === 'unsubscribed') return Promise.reject(this.#endError ?? new HeraldError('unsubscribed', `not subscribed to ${this.topic}`));
    return new Promise((resolve, reject) => {
      const offOk = this.#events.once('subscribed', () => {
        offEnd();
        resolve();
      });
      const offEnd = this.#events.once('end', (error) => {
        offOk();
        reject(error ?? new HeraldError('unsubscribed', `unsubscribed from ${this.topic} before the server confirmed it`));
      });
    });
  }

  /** Stops receiving the topic; iterators over this subscription finish. */
  unsubscribe(): Promise<void> {
    return this.#host.unsubscribe(this.topic);
  }

  /**
   * Messages as an async iterable, buffered from the moment the iterator is created. The
   * loop ends when the subscription ends; it throws when the client was closed by the server
   * for good (unregistered, replaced), so the reason is not lost.
   */
  [Symbol.asyncIterator](): AsyncIterator<HeraldMessage<T>> {
    const queue: HeraldMessage<T>[] = [];
    let waiter: { resolve: (r: IteratorResult<HeraldMessage<T>>) => void; reject: (e: HeraldError) => void } | null = null;
    let finished = this.#state === 'unsubscribed';
    let failure: HeraldError | undefined = finished ? this.#endError : undefined;
    const stop = (): void => {
      finished = true;
      offMessage();
      offEnd();
    };
    const offMessage = this.#events.on('message', (message) => {
      if (waiter) {
        const w = waiter;
        waiter = null;
        w.resolve({ value: message, done: false });
      } else queue.push(message);
    });
    const offEnd = this.#events.on('end', (error) => {
      stop();
      failure = error;
      if (waiter) {
        const w = waiter;
        waiter = null;
        if (error) w.reject(error);
        else w.resolve({ value: undefined, done: true });
      }
    });
    return {
      next: () => {
        const value = queue.shift();
        if (value) return Promise.resolve({ value, done: false });
        if (finished) {
          if (failure) {
            const error = failure;
            failure = undefined; // throw once, then report done like any finished iterator
            return Promise.reject(error);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          waiter = { resolve, reject };
        });
      },
      return: () => {
        stop();
        queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
