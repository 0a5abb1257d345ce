import { UsageError } from "./args.ts";

/** The shared secret from --secret-file or OCTANE_SECRET, if any. */
export async function readSecret(file: string | boolean | undefined): Promise<string | undefined> {
  if (typeof file === "string") {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error: unknown) {
      if (error instanceof Deno.errors.NotFound) {
        throw new UsageError(`Cannot read secret file "${file}": no such file`, { cause: error });
      }
      throw error;
    }
    const secret = text.trim();
    if (!secret) throw new UsageError(`Secret file "${file}" is empty: put a shared passphrase in it`);
    return secret;
  }
  const env = Deno.env.get("OCTANE_SECRET")?.trim();
  return env || undefined;
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
