// A one-line progress bar on stderr (a line per phase when stderr is not a terminal).

export class Progress {
  readonly #total: number;
  readonly #started = performance.now();
  readonly #tty = process.stderr.isTTY === true;
  #done = 0;
  #label = '';

  constructor(total: number) {
    this.#total = Math.max(1, total);
  }

  /** Starts the next step (e.g. "run 2/3 fanout herald"). */
  step(label: string): void {
    this.#label = label;
    this.phase('starting');
  }

  /** Marks the current step done. */
  finish(): void {
    this.#done++;
  }

  phase(text: string): void {
    const width = 24;
    const filled = Math.round((this.#done / this.#total) * width);
    const elapsed = Math.round((performance.now() - this.#started) / 1000);
    const clock = `${Math.floor(elapsed / 60)}:${String(elapsed % 60).padStart(2, '0')}`;
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.#done}/${this.#total} ${clock} ${this.#label}: ${text}`;
    if (this.#tty) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 120) - 1)}`);
    else process.stderr.write(`${line}\n`);
  }

  end(): void {
    if (this.#tty) process.stderr.write('\n');
  }
}
