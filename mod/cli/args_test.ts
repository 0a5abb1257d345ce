import assert from "node:assert/strict";
import { checkWritableDir, type ParsedArgs, parseFlags, UsageError } from "./args.ts";
import type { CommandSpec } from "./flags.ts";

const spec = {
  name: "render",
  usage: ["octane render [SCENE]"],
  about: "Renders.",
  maxPositionals: 1,
  groups: [{
    title: "Options",
    flags: [
      { name: "spp", value: "N", kind: "int", min: 1, max: 10, default: 4, description: "samples per pixel" },
      { name: "output", short: "o", value: "FILE", default: "render.png", description: "the PNG" },
      { name: "time-limit", value: "S", kind: "positive", defaultText: "none", description: "seconds" },
      { name: "verify", value: "F", kind: "fraction", default: 0.5, description: "a fraction" },
      { name: "gain", value: "X", kind: "non-negative", default: 1, description: "at least 0" },
      { name: "subnet", value: "CIDR", defaultText: "none", multiple: true, description: "repeatable" },
      { name: "quiet", description: "no status line" },
      { name: "help", description: "help" },
    ],
  }],
} as const satisfies CommandSpec;

/** The parsed flags of `args` (not a help request). */
function parse(args: string[]): ParsedArgs<typeof spec> {
  const r = parseFlags(args, spec);
  assert.equal(r.help, false);
  return r as ParsedArgs<typeof spec>;
}

Deno.test("parseFlags reads flags by their kind and one positional, and fills in the declared defaults", () => {
  const r = parse(["cornell", "--spp", "8", "--quiet", "--subnet", "a", "--subnet", "b", "--verify", "1"]);
  assert.deepEqual(r.positionals, ["cornell"]);
  assert.equal(r.values.spp, 8);
  assert.equal(r.values.quiet, true);
  assert.deepEqual(r.values.subnet, ["a", "b"]);
  assert.equal(r.values.verify, 1);
  assert.deepEqual([...r.given].sort(), ["quiet", "spp", "subnet", "verify"]);
  // not given: the spec's default, or undefined where it has none; a switch is false, a list empty
  const d = parse([]);
  assert.deepEqual(
    { ...d.values },
    {
      spp: 4,
      output: "render.png",
      "time-limit": undefined,
      verify: 0.5,
      gain: 1,
      subnet: [],
      quiet: false,
      help: false,
    },
  );
  assert.equal(d.given.size, 0);
});

Deno.test("parseFlags answers --help before it reads any value", () => {
  assert.deepEqual(parseFlags(["--spp", "x", "--help", "a", "b"], spec), { help: true });
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
  assert.throws(
    () => parseFlags(["--spp", "-5"], spec),
    /Invalid --spp "-5": must be an integer from 1 to 10/,
  );
});

Deno.test("each kind accepts good values and refuses the rest with a line naming the flag and the rule", () => {
  assert.equal(parse(["--spp", "10"]).values.spp, 10);
  for (const bad of ["0", "11", "1.5", "abc", "", "1e3"]) {
    assert.throws(() => parse(["--spp", bad]), (e: unknown) => e instanceof UsageError);
  }
  assert.equal(parse(["--time-limit", "2.5"]).values["time-limit"], 2.5);
  for (const bad of ["0", "-1", "x", ""]) {
    assert.throws(
      () => parse(["--time-limit", bad]),
      /^UsageError: Invalid --time-limit ".*": must be a number above 0$/,
    );
  }
  assert.equal(parse(["--verify", "0"]).values.verify, 0);
  for (const bad of ["-0.1", "1.5", "x", ""]) {
    assert.throws(() => parse(["--verify", bad]), /must be a number from 0 to 1$/);
  }
  assert.equal(parse(["--gain", "0"]).values.gain, 0);
  for (const bad of ["-1", "Infinity", "x", " "]) {
    assert.throws(
      () => parse(["--gain", bad]),
      /^UsageError: Invalid --gain ".*": must be a number of 0 or more$/,
    );
  }
});

Deno.test("a misspelt flag name does not compile", () => {
  const r = parse([]);
  // @ts-expect-error: the spec has no --sppp
  assert.equal(r.values.sppp, undefined);
  // @ts-expect-error: --spp is an int flag with a default: a number, never a string
  const text: string = r.values.spp;
  assert.equal(typeof text, "number");
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
