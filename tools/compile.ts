/**
 * Builds the single `octane` binary with `deno compile` into dist/ (`deno task compile [--target T]`).
 * Deno downloads its runtime (denort) from its release host on first use; where that host cannot be
 * reached, this says so in one line and exits 1. DENORT_BIN may point at a local denort instead.
 * @module
 */
import { parseArgs } from "node:util";

const PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
  "--allow-run",
];

const { values } = parseArgs({
  args: Deno.args,
  options: { target: { type: "string" }, output: { type: "string" } },
  strict: true,
});
const root = new URL("..", import.meta.url).pathname;
const suffix = values.target?.includes("windows") || (!values.target && Deno.build.os === "windows")
  ? ".exe"
  : "";
const output = values.output ?? `${root}dist/octane${values.target ? `-${values.target}` : ""}${suffix}`;
const args = [
  "compile",
  "--quiet",
  ...PERMISSIONS,
  "--output",
  output,
  ...(values.target ? ["--target", values.target] : []),
  `${root}main.ts`,
];
const result = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "piped" }).output();
if (result.code !== 0) {
  const stderr = new TextDecoder().decode(result.stderr);
  if (/denort|dl\.deno\.land|error sending request|dns error/i.test(stderr)) {
    console.error(
      "compile: Deno's runtime (denort) could not be downloaded from Deno's release host: build on a machine that reaches it, or set DENORT_BIN to a local denort binary",
    );
  } else {
    console.error(`compile: deno compile failed: ${stderr.trim().split("\n").slice(-3).join(" ")}`);
  }
  Deno.exit(1);
}
console.log(`compile: wrote ${output}; copy it to every node and run "octane info" there`);
