import { dirname, join } from "node:path";
import { fromHex, toHex } from "../bytes.ts";

/**
 * Farm keys: 256 random bits, written as 64 hex digits in a file only its owner can read. Every node of a
 * farm holds the same key; it is the pre-shared key of every link's Noise handshake.
 */

/** Environment variable naming the key file (when --key-file is not given). */
export const KEY_ENV = "OCTANE_KEY_FILE";
/** Bytes of a farm key. */
export const KEY_BYTES = 32;

/** A key file that cannot be used: missing, malformed, or readable by others. The message says what to do. */
export class KeyFileError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyFileError";
  }
}

/** A farm key and where it came from. */
export interface FarmKey {
  /** The 32 key bytes. */
  key: Uint8Array;
  /** The file it was read from. */
  path: string;
}

type Env = (name: string) => string | undefined;

/**
 * The default key file of this user: `$XDG_CONFIG_HOME/octane/key` (else `~/.config/octane/key`),
 * `~/Library/Application Support/octane/key` on macOS, `%APPDATA%\octane\key` on Windows; undefined
 * without a home folder.
 */
export function defaultKeyPath(env: Env = (n) => Deno.env.get(n), os = Deno.build.os): string | undefined {
  if (os === "windows") {
    const appData = env("APPDATA");
    return appData ? join(appData, "octane", "key") : undefined;
  }
  const home = env("HOME");
  if (os === "darwin") {
    return home ? join(home, "Library", "Application Support", "octane", "key") : undefined;
  }
  const config = env("XDG_CONFIG_HOME") || (home ? join(home, ".config") : undefined);
  return config ? join(config, "octane", "key") : undefined;
}

/** The default key file's place as users write it, for messages. */
export function defaultKeyHint(): string {
  return Deno.build.os === "windows"
    ? "%APPDATA%\\octane\\key"
    : Deno.build.os === "darwin"
    ? "~/Library/Application Support/octane/key"
    : "~/.config/octane/key";
}

/** A new random key. */
export function generateKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(KEY_BYTES));
}

/** The key file's text: 64 lower-case hex digits and a newline. */
export function formatKey(key: Uint8Array): string {
  return `${toHex(key)}\n`;
}

/**
 * Writes `key` to `path` with mode 0600, creating its folder (mode 0700) when missing.
 * @throws {Deno.errors.AlreadyExists} when the file exists and `overwrite` is not set
 */
export async function writeKeyFile(
  path: string,
  key: Uint8Array,
  o: { overwrite?: boolean } = {},
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(path, formatKey(key), {
    mode: 0o600,
    ...(o.overwrite ? {} : { createNew: true }),
  });
  if (Deno.build.os !== "windows") await Deno.chmod(path, 0o600); // an existing file keeps its mode otherwise
}

/**
 * Reads a key file: exactly 64 hex digits (surrounding white space allowed), not readable or writable by
 * group or others.
 * @throws {KeyFileError} with a message that says how to make a good one
 */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  let info: Deno.FileInfo;
  let text: string;
  try {
    info = await Deno.stat(path);
    if (!info.isFile) {
      throw new KeyFileError(
        `Key file "${path}" is not a file: make one with "octane key generate -o ${path}"`,
      );
    }
    text = await Deno.readTextFile(path);
  } catch (error: unknown) {
    if (error instanceof KeyFileError) throw error;
    if (error instanceof Deno.errors.NotFound) {
      throw new KeyFileError(
        `Key file "${path}" does not exist: make one with "octane key generate -o ${path}"`,
        {
          cause: error,
        },
      );
    }
    const why = error instanceof Error ? error.message : String(error);
    throw new KeyFileError(`Cannot read key file "${path}": ${why}`, { cause: error });
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new KeyFileError(
      `Key file "${path}" is readable by others (mode ${mode}): run "chmod 600 ${path}" (and make a new key if others may have read it)`,
    );
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new KeyFileError(
      `Key file "${path}" is not a 256-bit key (64 hex digits): make one with "octane key generate -o ${path}"`,
    );
  }
  return fromHex(hex);
}

/**
 * The farm key this node uses: `file` (from --key-file), else the file named by OCTANE_KEY_FILE, else the
 * default key file when it exists; undefined when there is none (links are then unauthenticated).
 * @throws {KeyFileError} when a named file, or the default one that exists, is not a usable key
 */
export async function findKey(
  file?: string,
  env: Env = (n) => Deno.env.get(n),
): Promise<FarmKey | undefined> {
  const named = file ?? (env(KEY_ENV) || undefined);
  if (named !== undefined) return { key: await readKeyFile(named), path: named };
  const path = defaultKeyPath(env);
  if (!path) return undefined;
  try {
    await Deno.stat(path);
  } catch (error: unknown) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new KeyFileError(
      `Cannot read key file "${path}": ${error instanceof Error ? error.message : error}`,
    );
  }
  return { key: await readKeyFile(path), path };
}
