import { configure, type LogRecord } from "@logtape/logtape";
import { inspect } from "node:util";
import { recentLog } from "../live/log_ring.ts";

const encoder = new TextEncoder();
const LEVELS: Record<string, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

/** "12:00:01.234 WARN master: Slave 10.0.0.5:4711 left" (strings unquoted, other values inspected). */
export function formatLogLine(record: LogRecord): string {
  const message = record.message.map((
    part,
    i,
  ) => (i % 2 === 0 || typeof part === "string" ? String(part) : inspect(part))).join("");
  const time = new Date(record.timestamp).toISOString().slice(11, 23);
  return `${time} ${LEVELS[record.level] ?? record.level} ${
    record.category.slice(1).join(".") || "octane"
  }: ${message}\n`;
}

/** Writes log lines to stderr synchronously (nothing is lost on exit), clearing a live status line first. */
function stderrSink(record: LogRecord): void {
  const line = formatLogLine(record);
  Deno.stderr.writeSync(encoder.encode(Deno.stderr.isTerminal() ? `\r\x1b[K${line}` : line));
}

/**
 * Sends the library's logs (category "octane") to stderr: info and up (joins, leaves, fallbacks) by
 * default, warnings and errors only with quiet, everything with verbose or debug; the same lines are kept
 * for the live view's log panel.
 */
export async function setupLogging(
  options: { debug?: boolean; verbose?: boolean; quiet?: boolean } = {},
): Promise<void> {
  await configure({
    reset: true,
    sinks: { stderr: stderrSink, recent: (record) => recentLog.add(record, formatLogLine) },
    loggers: [
      {
        category: ["octane"],
        lowestLevel: options.debug || options.verbose ? "debug" : options.quiet ? "warning" : "info",
        sinks: ["stderr", "recent"],
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}
