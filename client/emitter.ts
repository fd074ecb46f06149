/** Maps each event name to the tuple of arguments its listeners receive. */
export type EventMap<Events> = { [K in keyof Events]: unknown[] };

/** A listener for one event of an {@link EventMap}. */
export type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * A tiny typed event emitter that runs in browsers and Node alike (no `node:events`).
 *
 * A listener that throws does not stop the others or the client's read loop: the error goes
 * to `onListenerError`, by default rethrown on a fresh microtask, where the host reports it
 * like any uncaught error (as EventTarget does).
 *
 * @example
 * const events = new Emitter<{ tick: [n: number] }>();
 * const off = events.on('tick', (n) => console.log(n));
 * events.emit('tick', 1);
 * off();
 */
export class Emitter<Events extends EventMap<Events>> {
  // Stored untyped: the map cannot say that the set under K holds listeners of Events[K].
  #listeners = new Map<keyof Events, Set<unknown>>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = rethrowLater) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    // Copy: a listener may remove itself (once) while we iterate.
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(...args);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  removeAll(): void {
    this.#listeners.clear();
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
