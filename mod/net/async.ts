/**
 * Async helpers written once for every role: a deadline on a promise, and a delay that an abort ends.
 * @module
 */

/** Raised by {@linkcode deadline} when the time is up. */
export class DeadlineError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "DeadlineError";
  }
}

/** Awaits `work`, or fails with a DeadlineError saying `o.message` after `ms` milliseconds. */
export async function deadline<T>(work: Promise<T>, ms: number, o: { message: string }): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(o.message)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms` milliseconds, or at once when `signal` aborts (never rejects). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
