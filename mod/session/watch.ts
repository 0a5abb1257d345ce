import { dirname } from "node:path";

/** The scene's folder cannot be watched (`--watch`). */
export class SceneWatchError extends Error {
  /** Creates the error with a one-line message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SceneWatchError";
  }
}

/** Milliseconds of quiet after a change before the scene is loaded again (an editor writes in steps). */
const DEBOUNCE_MS = 300;

/**
 * Calls `onChange` (debounced, one call at a time) when the scene file, or a file beside it (.bin, textures),
 * changes.
 * @throws {SceneWatchError} when the folder cannot be watched
 */
export function watchScene(scene: string, onChange: () => Promise<void>): { close(): void } {
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(dirname(scene) || ".");
  } catch (error: unknown) {
    throw new SceneWatchError(
      `Cannot watch "${scene}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = Promise.resolve();
  (async () => {
    for await (const event of watcher) {
      if (event.kind === "access") continue;
      clearTimeout(timer);
      timer = setTimeout(() => (running = running.then(onChange)), DEBOUNCE_MS);
    }
  })().catch(() => {});
  return {
    close: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
