import assert from "node:assert/strict";
import { checkWritableDir, intFlag, numberFlag, parseFlags, UsageError } from "./args.ts";
import type { CommandSpec } from "./flags.ts";

const spec: CommandSpec = {
  name: "render",
  usage: ["octane render [SCENE]"],
  about: "Renders.",
  maxPositionals: 1,
  groups: [{
    title: "Options",
    flags: [
      { name: "spp", value: "N", default: "64", description: "samples per pixel" },
      { name: "output", short: "o", value: "FILE", default: "render.png", description: "the PNG" },
      { name: "quiet", description: "no status line" },
    ],
  }],
};

Deno.test("parseFlags reads flags and one positional", () => {
  const r = parseFlags(["cornell", "--spp", "8", "--quiet"], spec);
  assert.deepEqual(r.positionals, ["cornell"]);
  assert.equal(r.values.spp, "8");
  assert.equal(r.values.quiet, true);
});

Deno.test("parseFlags turns unknown flags, missing values and extra arguments into UsageErrors", () => {
  assert.throws(
    () => parseFlags(["--bogus"], spec),
    (e: unknown) => e instanceof UsageError && /Unknown option "--bogus"/.test(e.message),
  );
  assert.throws(
    () => parseFlags(["--spp"], spec),
    (e: unknown) => e instanceof UsageError && /needs a value/.test(e.message),
  );
  assert.throws(() => parseFlags(["--quiet=yes"], spec), /^UsageError: Option "--quiet" takes no value/);
  assert.throws(
    () => parseFlags(["a", "b"], spec),
    (e: unknown) => e instanceof UsageError && /Unexpected argument "b"/.test(e.message),
  );
});

Deno.test("parseFlags lets negative numbers reach the value check", () => {
  const r = parseFlags(["--spp", "-5"], spec);
  assert.equal(r.values.spp, "-5");
  assert.throws(
    () => intFlag(r.values.spp, "spp", { min: 1, max: 10, fallback: 1 }),
    /Invalid --spp "-5": must be an integer from 1 to 10/,
  );
});

Deno.test("intFlag and numberFlag accept good values and reject the rest", () => {
  assert.equal(intFlag(undefined, "spp", { min: 1, max: 10, fallback: 4 }), 4);
  assert.equal(intFlag("10", "spp", { min: 1, max: 10, fallback: 4 }), 10);
  for (const bad of ["0", "11", "1.5", "abc", "", "1e3"]) {
    assert.throws(() => intFlag(bad, "spp", { min: 1, max: 10, fallback: 4 }), UsageError);
  }
  assert.equal(numberFlag("2.5", "time-limit"), 2.5);
  assert.equal(numberFlag(undefined, "time-limit"), undefined);
  for (const bad of ["0", "-1", "x"]) assert.throws(() => numberFlag(bad, "time-limit"), UsageError);
});

Deno.test("parseFlags reports a flag followed by another flag instead of its value in one line", () => {
  for (
    const [args, message] of [
      [["--spp", "--quiet"], `Option "--spp" needs a value (--spp N): run "octane render --help"`],
      [["-o", "--spp", "4"], `Option "--output" needs a value (--output FILE): run "octane render --help"`],
      [["--output"], `Option "--output" needs a value (--output FILE): run "octane render --help"`],
    ] as const
  ) {
    assert.throws(() => parseFlags([...args], spec), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("checkWritableDir refuses a folder and a missing folder, and leaves an existing file and its folder as they were", async () => {
  const dir = await Deno.makeTempDir({ prefix: "octane-args-" });
  try {
    await Deno.writeTextFile(`${dir}/old.png`, "keep me");
    await checkWritableDir(`${dir}/old.png`, "-o");
    await checkWritableDir(`${dir}/new.png`, "-o");
    assert.equal(await Deno.readTextFile(`${dir}/old.png`), "keep me");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["old.png"]);
    await assert.rejects(
      checkWritableDir(dir, "--report"),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === `Cannot write --report "${dir}": it is a folder; give a file name`,
    );
    await assert.rejects(
      checkWritableDir(`${dir}/no/r.json`, "--report"),
      (e: unknown) => e instanceof UsageError && /folder ".*\/no" does not exist$/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
