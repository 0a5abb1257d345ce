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

/** Who asks a session to stop. */
export type StopSource = "signal" | "page";

/** Options of {@linkcode StopPolicy}. */
export interface StopPolicyOptions {
  /** The first request: stop gracefully (finish what is in flight, write what was rendered). */
  stop(source: StopSource): void;
  /**
   * A second Ctrl-C while stopping: quit at once, writing nothing. Without it a second request does nothing
   * more than the first.
   */
  quit?(): void;
  /** Listen to SIGINT and SIGTERM (default true; tests request by hand). */
  signals?: boolean;
}

/**
 * A session's stop policy, in one place: the first request (Ctrl-C, SIGTERM, the live view's stop button)
 * stops gracefully; a second Ctrl-C while stopping quits at once; the page's button never quits, however
 * often it is pressed (a second press is not a second Ctrl-C). `signal` is aborted at the first request.
 * A time limit is the engine's (it counts rendering time only) and stops as the first request does.
 */
export class StopPolicy {
  #options: StopPolicyOptions;
  #abort = new AbortController();
  #removeSignals: () => void;
  #quit = false;

  /** Starts listening for stop signals (unless `signals` is false). */
  constructor(options: StopPolicyOptions) {
    this.#options = options;
    this.#removeSignals = options.signals === false ? () => {} : onStopSignals(() => this.request("signal"));
  }

  /** Aborted at the first request. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** True once a stop was requested. */
  get stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  /** True once a second Ctrl-C asked to quit at once. */
  get quitting(): boolean {
    return this.#quit;
  }

  /** Asks to stop: see the class. */
  request(source: StopSource): void {
    if (!this.stopping) {
      this.#abort.abort();
      this.#options.stop(source);
    } else if (source === "signal" && this.#options.quit && !this.#quit) {
      this.#quit = true;
      this.#options.quit();
    }
  }

  /**
   * Stops listening for signals: once the outputs are written, a Ctrl-C ends what is left (the wait for
   * a daemon list, say) as the process's default does.
   */
  close(): void {
    this.#removeSignals();
    this.#removeSignals = () => {};
  }
}
