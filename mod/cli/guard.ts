import { getLogger } from "@logtape/logtape";

/**
 * For long-running roles (master, daemon): a promise rejection nothing handled is logged with its message
 * and the process keeps serving, instead of dying with it. Returns the function that removes the guard.
 */
export function keepServing(role: string): () => void {
  const log = getLogger(["octane", role]);
  const onRejection = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    const reason = event.reason;
    log.error("Unexpected error, kept serving: {message}", {
      message: reason instanceof Error ? reason.message : String(reason),
    });
    if (reason instanceof Error && reason.stack) log.debug("{stack}", { stack: reason.stack });
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  return () => globalThis.removeEventListener("unhandledrejection", onRejection);
}
