import { configure, getConsoleSink } from "@logtape/logtape";

/** Sends the library's logs (category "octane") to stderr: warnings and errors, or everything with debug. */
export async function setupLogging(options: { debug?: boolean; verbose?: boolean } = {}): Promise<void> {
  await configure({
    reset: true,
    sinks: { console: getConsoleSink() },
    loggers: [
      {
        category: ["octane"],
        lowestLevel: options.debug ? "debug" : options.verbose ? "info" : "warning",
        sinks: ["console"],
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}
