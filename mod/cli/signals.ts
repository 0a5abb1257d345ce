/** The signals that ask a process to stop: SIGINT and SIGTERM (Windows has no SIGTERM listener: SIGBREAK). */
export const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT", "SIGBREAK"]
  : ["SIGINT", "SIGTERM"];

/** Calls `fn` on Ctrl-C or a stop request; returns the function that removes the listeners. */
export function onStopSignals(fn: () => void): () => void {
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, fn);
  return () => {
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, fn);
  };
}
