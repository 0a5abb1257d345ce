/** A text sink the status line writes to (Deno.stderr by default). */
export interface StatusSink {
  /** Writes bytes synchronously. */
  writeSync(bytes: Uint8Array): number;
  /** True when the sink is a terminal, where the line is redrawn in place. */
  isTerminal(): boolean;
}

/** Options of {@linkcode StatusLine}. */
export interface StatusLineOptions {
  /** Where to write; Deno.stderr by default. */
  sink?: StatusSink;
  /** Seconds between plain lines when the sink is not a terminal. */
  plainInterval?: number;
}

/**
 * A live status line: redrawn in place on a terminal, printed as plain lines at an interval otherwise
 * (logs, CI).
 */
export class StatusLine {
  #sink: StatusSink;
  #terminal: boolean;
  #interval: number;
  #lastPlain = -Infinity;
  #drawn = false;
  #encoder = new TextEncoder();

  /** Creates a status line. */
  constructor(options: StatusLineOptions = {}) {
    this.#sink = options.sink ?? Deno.stderr;
    this.#terminal = this.#sink.isTerminal();
    this.#interval = (options.plainInterval ?? 5) * 1000;
  }

  /** Shows `text` as the current status. */
  update(text: string): void {
    if (this.#terminal) {
      this.#write(`\r\x1b[K${text}`);
      this.#drawn = true;
    } else if (performance.now() - this.#lastPlain >= this.#interval) {
      this.#write(`${text}\n`);
      this.#lastPlain = performance.now();
    }
  }

  /** Removes the line drawn on a terminal (plain lines stay), so that what follows starts clean. */
  clear(): void {
    if (this.#terminal && this.#drawn) this.#write("\r\x1b[K");
    this.#drawn = false;
  }

  /** Ends the status line with a final text on a line of its own. */
  done(text: string): void {
    this.#write(this.#terminal && this.#drawn ? `\r\x1b[K${text}\n` : `${text}\n`);
    this.#drawn = false;
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    let at = 0;
    while (at < bytes.length) at += this.#sink.writeSync(bytes.subarray(at));
  }
}

/** Formats seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(r).padStart(2, "0")}`;
}

/** Formats a rate with an SI prefix: 1234567 -> "1.23 M". */
export function formatRate(value: number): string {
  const units = ["", "k", "M", "G", "T"];
  let v = value, u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) v /= 1000, u++;
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}
