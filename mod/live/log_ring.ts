import type { LogRecord } from "@logtape/logtape";

/** One log line as the live view shows it. */
export interface LogLine {
  /** Its number since the process started (for a client to ask for newer lines only). */
  seq: number;
  /** "info", "warning", "error", ... */
  level: string;
  /** The formatted line. */
  text: string;
}

/** The last `size` log lines, for the live view's log panel. */
export class LogRing {
  #lines: LogLine[] = [];
  #seq = 0;
  #size: number;

  /** A ring of `size` lines. */
  constructor(size: number) {
    this.#size = size;
  }

  /** Adds one record, formatted by `format`. */
  add(record: LogRecord, format: (record: LogRecord) => string): void {
    this.#lines.push({ seq: ++this.#seq, level: record.level, text: format(record).trimEnd() });
    if (this.#lines.length > this.#size) this.#lines.splice(0, this.#lines.length - this.#size);
  }

  /** The lines after number `after` (all of them by default). */
  since(after = 0): LogLine[] {
    return this.#lines.filter((l) => l.seq > after);
  }
}

/** The process's recent log lines (the CLI's logging setup feeds it). */
export const recentLog: LogRing = new LogRing(500);
