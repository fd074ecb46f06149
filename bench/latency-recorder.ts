// Collects latency samples (ms) into a growable Float64Array: no per-sample allocation.
import type { LatencySummary } from './loadgen-protocol.js';
import { percentileSorted } from './stats.js';

export class LatencyRecorder {
  #samples = new Float64Array(1 << 16);
  #count = 0;

  record(ms: number): void {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  summary(): LatencySummary | null {
    if (this.#count === 0) return null;
    const sorted = this.#samples.slice(0, this.#count).sort();
    return {
      samples: this.#count,
      p50Ms: percentileSorted(sorted, 50),
      p99Ms: percentileSorted(sorted, 99),
      maxMs: sorted[this.#count - 1] as number,
    };
  }
}
