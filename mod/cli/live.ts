import { getLogger } from "@logtape/logtape";
import {
  LIVE_VIEW_PORT,
  type LiveSource,
  type LiveView,
  newToken,
  recentLog,
  serveLiveView,
} from "../live/mod.ts";
import { UsageError } from "./args.ts";
import { addressNotHere } from "./net_args.ts";

const log = getLogger(["octane", "live"]);

/**
 * Where the live view listens: `--ui [ADDR:]PORT` (port 0: any free one), off with `--no-ui`, else 127.0.0.1
 * from port 8420.
 */
export function uiSettings(
  values: { readonly ui?: string | undefined; readonly "no-ui"?: boolean },
): { hostname: string; port: number; firstFree: boolean } | undefined {
  if (values["no-ui"] === true) {
    if (values.ui !== undefined) throw new UsageError("Pass --ui [ADDR:]PORT or --no-ui, not both");
    return undefined;
  }
  const text = values.ui;
  if (text === undefined) return { hostname: "127.0.0.1", port: LIVE_VIEW_PORT, firstFree: true };
  const m = text.match(/^(?:\[([0-9a-fA-F:.]+)\]:|([^:[\]]+):)?(\d{1,5})$/);
  const port = Number(m?.[3]);
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`Invalid --ui "${text}": expected PORT or ADDR:PORT, e.g. 8420 or 0.0.0.0:8420`);
  }
  return { hostname: m[1] ?? m[2] ?? "127.0.0.1", port, firstFree: false };
}

/**
 * Serves the live view over a session's source (see the session's `liveSource`) and prints its URL (token
 * included) on stderr; a non-loopback address is warned about.
 * @throws {UsageError} when its port is taken or its address is not this machine's
 */
export function startLiveView(
  where: { hostname: string; port: number; firstFree: boolean },
  source: LiveSource,
): LiveView {
  let view: LiveView;
  try {
    view = serveLiveView(source, {
      ...where,
      token: Deno.env.get("OCTANE_UI_TOKEN") || newToken(),
      log: recentLog,
    });
  } catch (error: unknown) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(
        where.firstFree
          ? `Ports ${where.port} to ${where.port + 100} are all in use: pass --ui PORT, or --no-ui`
          : `Port ${where.port} for --ui is in use: pass another --ui PORT, or --no-ui`,
        { cause: error },
      );
    }
    if (error instanceof Deno.errors.AddrNotAvailable) throw addressNotHere(where.hostname, error);
    throw error;
  }
  if (!/^(127\.|localhost$|::1$)/.test(where.hostname)) {
    log.warn(
      "The live view listens on {host}: whoever reaches it and has the URL's token can watch and control this render",
      { host: where.hostname },
    );
  }
  console.error(`Live view: ${view.url}`);
  return view;
}
