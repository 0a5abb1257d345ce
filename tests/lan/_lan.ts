/** Helpers for tests on a namespace LAN: every LAN and every process in it is gone when `fn` ends. */

import { Lan, type LanHost, type LanOptions, lanUnavailable } from "../../mod/lan/mod.ts";
import { octane, type Running } from "../_harness.ts";

/** Starts octane with `args` inside a host, with extra environment `env`. */
export type StartOn = (host: LanHost, args: string[], env?: Record<string, string>) => Running;

/**
 * Builds a LAN of `count` hosts for `fn` and removes it afterwards (also when `fn` throws), killing every
 * octane it started first. Where namespaces cannot be made (not root), throws one line that says why: these
 * tests never skip.
 */
export async function withLan<T>(
  count: number,
  options: LanOptions,
  fn: (lan: Lan, start: StartOn) => Promise<T>,
): Promise<T> {
  const why = lanUnavailable();
  if (why) throw new Error(`${why}; these tests need it and do not skip`);
  const lan = await Lan.create(count, options);
  const all: Running[] = [];
  try {
    return await fn(lan, (host, args, env = {}) => {
      const p = octane(args, env, { prefix: lan.command(host, []) });
      all.push(p);
      return p;
    });
  } finally {
    for (const p of all) p.kill("SIGKILL");
    await Promise.allSettled(all.map((p) => p.exit(10_000)));
    await lan.close();
  }
}

/** Runs `code` with Deno inside `host` (permissions: net); resolves with its exit code and output. */
export async function denoOn(
  lan: Lan,
  host: LanHost,
  code: string,
  ms = 20_000,
): Promise<{ code: number; out: string }> {
  const [command, ...args] = lan.command(host, [Deno.execPath(), "eval", "--quiet", "--no-config", code]);
  const out = await new Deno.Command(command!, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(ms),
  }).output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout) + d.decode(out.stderr) };
}
