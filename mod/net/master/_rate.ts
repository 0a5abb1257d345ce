/**
 * A slave's speed, as the master sees it. One answer's own time misleads: a slave whose GPU hogs its CPU
 * sends two results together, the second seemingly rendered in no time, and a rate from that would hand it
 * every remaining sample. So each unit is rated by the throughput over the last few answers.
 */
export class RateWindow {
  #window: { busy: number; samples: number }[] = [];
  #size: number;

  /** Rates over the last `size` answers. */
  constructor(size = 4) {
    this.#size = size;
  }

  /**
   * Adds an answer of `samples` pixel samples that kept the node busy `busy` seconds (from when it was sent,
   * or the previous answer came); returns the seconds to rate it by.
   */
  add(busy: number, samples: number): number {
    this.#window.push({ busy, samples });
    if (this.#window.length > this.#size) this.#window.shift();
    const span = this.#window.reduce((n, w) => n + w.busy, 0);
    const all = this.#window.reduce((n, w) => n + w.samples, 0);
    return span > 0 ? samples * span / all : busy;
  }

  /** Forgets the past (the render changed). */
  clear(): void {
    this.#window = [];
  }
}
