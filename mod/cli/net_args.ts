import { type EnableRule, interfaceSubnets, parseSubnet } from "../net/discovery/mod.ts";
import { type FarmKey, findKey, KeyFileError } from "../net/key.ts";
import type { DiscoverySettings } from "../session/mod.ts";
import { UsageError } from "./args.ts";
import type { MASTER } from "./commands.ts";
import type { FlagName, FlagValues } from "./flags.ts";

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

/**
 * Runs `listen` (a master starting), turning a taken port or an address no interface has into the one-line
 * usage error.
 */
export async function listening<T>(bind: string, port: number, listen: () => T | Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error: unknown) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`Port ${port} is in use: pass --auto-port, or another --port`, { cause: error });
    }
    if (error instanceof Deno.errors.AddrNotAvailable) throw addressNotHere(bind, error);
    throw error;
  }
}

/** This machine's non-loopback IPv4 addresses, where slaves on the LAN can reach it. */
export function lanAddresses(): string[] {
  try {
    return Deno.networkInterfaces()
      .filter((i) => i.family === "IPv4" && !i.address.startsWith("127."))
      .map((i) => i.address);
  } catch {
    return [];
  }
}

/**
 * The master's scan settings, when network rendering through daemons is on (--net, --subnet or --enable).
 * @throws {UsageError} for a bad subnet or --enable, or --daemon-port and --scan-interval without scanning
 */
export function discoveryOptions(
  values: FlagValues<typeof MASTER>,
  given: ReadonlySet<FlagName<typeof MASTER>>,
): DiscoverySettings | undefined {
  const on = values.net || values.subnet.length > 0 || given.has("enable");
  const { "daemon-port": daemonPort, "scan-interval": interval } = values;
  if (!on) {
    for (const flag of ["daemon-port", "scan-interval"] as const) {
      if (given.has(flag)) {
        throw new UsageError(`--${flag} needs scanning: add --net, --subnet CIDR or --enable`);
      }
    }
    return undefined;
  }
  const subnets = values.subnet.map((text) => {
    try {
      return parseSubnet(text);
    } catch (error: unknown) {
      throw new UsageError(`Invalid --subnet: ${error instanceof Error ? error.message : error}`);
    }
  });
  if (subnets.length === 0) {
    subnets.push(...interfaceSubnets());
    if (subnets.length === 0) {
      throw new UsageError("No network interface with an IPv4 address to scan: pass --subnet CIDR");
    }
  }
  const e = values.enable.trim();
  const names = e.split(",").map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`Invalid --enable "${e}": expected all, none or HOST,...`);
  const enable: EnableRule = e === "all" || e === "none" ? e : names;
  return { subnets, daemonPort, interval, enable };
}
