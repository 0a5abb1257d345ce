import { type FarmKey, findKey, KeyFileError } from "../net/key.ts";
import { UsageError } from "./args.ts";

/**
 * The farm key from --key-file, else OCTANE_KEY_FILE, else the default key file when it exists; undefined
 * when there is none. A file that is not a usable key is a usage error that says how to make one.
 */
export async function readKey(file: string | undefined): Promise<FarmKey | undefined> {
  try {
    return await findKey(file);
  } catch (error: unknown) {
    if (error instanceof KeyFileError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** The one-line usage error for a --bind address that no network interface of this machine has. */
export function addressNotHere(bind: string, error: unknown): UsageError {
  return new UsageError(
    `Cannot listen on "${bind}": no interface has that address: pass --bind with one of this machine's addresses, or 0.0.0.0 for all`,
    { cause: error },
  );
}

/** Parses HOST:PORT (IPv6 in brackets). */
export function hostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new UsageError(`Invalid ${flag} "${value}": expected HOST:PORT, e.g. 192.168.1.10:21000`);
  }
  return { host: m[1] ?? m[2]!, port };
}
