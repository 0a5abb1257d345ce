import { fileURLToPath as fromFileUrl } from "node:url";

/** The permissions octane runs with (the same as the `octane` launcher's). */
export const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
];

const root = new URL("../../", import.meta.url);

/**
 * How to run this very octane again (a daemon's slaves, the demo's daemons): the compiled binary itself,
 * or the Deno running now with this main.ts, config and permissions.
 * @returns the executable and the arguments that come before the subcommand
 */
export function selfCommand(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-prompt",
    ...PERMISSIONS,
    "--config",
    fromFileUrl(new URL("deno.json", root)),
    fromFileUrl(new URL("main.ts", root)),
  ];
}

/**
 * The command a start-up entry runs: the compiled binary, else the project's `octane` launcher (it finds
 * Deno and sets up the environment), else Deno with main.ts as in {@linkcode selfCommand}.
 */
export function installedCommand(): string[] {
  if (Deno.build.standalone) return [Deno.execPath()];
  const launcher = fromFileUrl(new URL(Deno.build.os === "windows" ? "octane.cmd" : "octane", root));
  try {
    if (Deno.statSync(launcher).isFile) return [launcher];
  } catch {
    // no launcher beside main.ts: run Deno directly
  }
  return selfCommand();
}
