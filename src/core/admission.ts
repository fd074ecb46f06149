// Admission of new connections under overload (issue 18). A restarted node meets every client
// of its predecessor at once; each handshake costs a few hundred µs, so ten thousand of them
// hold the event loop for seconds. Clients give up on a handshake after a while (the SDK after
// 10 s) and try again, so work finished after that is wasted and the storm feeds itself. A node
// that is behind answers new connections 503 with Retry-After at once instead (a refusal costs
// a fraction of a handshake), keeping what it accepts within what clients wait for.
import { performance } from 'node:perf_hooks';

/** How often the loop is expected to come round; the lag is measured against it. */
const TICK_MS = 50;
/** Refused clients are told to come back within this many seconds, spread at random. */
const RETRY_MIN_S = 1;
const RETRY_SPREAD_S = 4;

export interface AdmissionLimits {
  /** How long the loop may have been busy without a break before new connections are refused (0: never). */
  overloadDelayMs: number;
  /** Connection setups in flight (waiting on the engine or a token check) before new ones are refused. */
  maxPendingConnects: number;
}

/**
 * Two signals, both read when a connection or registration arrives, neither costing a syscall:
 * - the loop's lag so far: a timer ticks every TICK_MS; while the loop is busy it cannot, so
 *   the time since its last tick is how long this turn of the loop has run. Past
 *   `overloadDelayMs`, requests still waiting in this turn have waited that long too, and the
 *   rest of the turn answers them 503. The next tick lets new work in again, so a node never
 *   refuses for longer than it is behind.
 * - setups in flight: with Redis a handshake waits for the engine; past `maxPendingConnects`
 *   (each holds a socket and its request) the node refuses rather than queue more.
 */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #timer: ReturnType<typeof setInterval> | undefined;
  #tick = performance.now();
  #pending = 0;
  #late = false;
  #ticked = false;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
    if (limits.overloadDelayMs > 0) {
      this.#timer = setInterval(() => {
        const now = performance.now();
        // A tick that comes late saw a turn run past the delay before it (in this same phase,
        // which its own measure cannot see): what waits in the coming poll phase waited too.
        // (The first tick measures nothing: the node was starting.)
        this.#late = this.#ticked && now - this.#tick - TICK_MS > limits.overloadDelayMs;
        this.#ticked = true;
        this.#tick = now;
      }, TICK_MS);
      this.#timer.unref();
    }
  }

  /** Undefined when one more connection may be set up now; otherwise the seconds to tell the client to wait. */
  refusal(): number | undefined {
    if (this.#pending >= this.#limits.maxPendingConnects || this.#late || this.lagMs() > this.#limits.overloadDelayMs) {
      return RETRY_MIN_S + Math.floor(Math.random() * (RETRY_SPREAD_S + 1));
    }
    return undefined;
  }

  /** How long the current turn of the event loop has run beyond the timer's period (0 with the check off). */
  lagMs(): number {
    if (this.#timer === undefined) return 0;
    return Math.max(0, performance.now() - this.#tick - TICK_MS);
  }

  /** A setup started (call `done` exactly once when it ends, however it ends). */
  begin(): void {
    this.#pending++;
  }

  done(): void {
    this.#pending--;
  }

  get pending(): number {
    return this.#pending;
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
