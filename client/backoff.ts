/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** The first delay, and the floor of every delay (ms). Default 500. */
  minMs?: number;
  /** The ceiling no delay exceeds (ms). Default 30 000. */
  maxMs?: number;
  /** Growth of the ceiling per attempt. Default 2. */
  factor?: number;
  /** Source of randomness in [0, 1); injectable for tests. Default Math.random. */
  random?: () => number;
}

const DEFAULTS: Required<BackoffOptions> = { minMs: 500, maxMs: 30_000, factor: 2, random: Math.random };

/**
 * Exponential backoff with full jitter: attempt n waits a delay drawn uniformly from
 * [minMs, min(maxMs, minMs * factor^n)]. The jitter spreads the reconnects of many clients
 * that lost the same server, so they do not all come back in the same millisecond.
 *
 * @example
 * const backoff = new Backoff({ minMs: 100, maxMs: 5000 });
 * setTimeout(reconnect, backoff.next()); // 100, then 100..200, then 100..400, ...
 * backoff.reset();                       // after a successful connection
 */
export class Backoff {
  readonly #options: Required<BackoffOptions>;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#options = { ...DEFAULTS, ...options };
    const { minMs, maxMs, factor } = this.#options;
    if (!(minMs >= 0) || !Number.isFinite(minMs)) throw new RangeError(`backoff minMs must be a finite number >= 0, got ${minMs}`);
    if (!(maxMs >= minMs)) throw new RangeError(`backoff maxMs (${maxMs}) must be >= minMs (${minMs})`);
    if (!(factor >= 1)) throw new RangeError(`backoff factor must be >= 1, got ${factor}`);
  }

  /** How many delays were handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * The delay before the next attempt (ms); each call grows the ceiling. `floorMs` (a server's
   * `Retry-After`) is waited first and the jittered delay added on top, so clients the server
   * turned away together do not all come back at the same moment.
   */
  next(floorMs = 0): number {
    const { minMs, maxMs, factor, random } = this.#options;
    const ceiling = Math.min(maxMs, minMs * factor ** this.#attempt);
    this.#attempt++;
    const floor = floorMs > 0 && Number.isFinite(floorMs) ? floorMs : 0;
    return Math.round(floor + minMs + random() * (ceiling - minMs));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
