import assert from "node:assert/strict";
import { type ParsedArgs, parseFlags } from "./args.ts";
import { COMMANDS, MASTER, RENDER } from "./commands.ts";
import { type CommandSpec, flagsOf, helpText } from "./flags.ts";

/** The parsed flags of `args` for `spec` (not a help request). */
function parse<S extends CommandSpec>(args: string[], spec: S): ParsedArgs<S> {
  const r = parseFlags(args, spec);
  assert.equal(r.help, false);
  return r as ParsedArgs<S>;
}

Deno.test("every flag's default is one value: help shows it, the parser fills it in, and it reads back as itself", () => {
  for (const spec of COMMANDS) {
    const help = helpText(spec).replace(/\s+/g, " ");
    const defaults = parse([], spec).values as Record<string, unknown>;
    for (const flag of flagsOf(spec)) {
      if (flag.value === undefined) {
        assert.equal(defaults[flag.name], false, `${spec.name} --${flag.name}`);
        continue;
      }
      if (flag.multiple) {
        assert.deepEqual(defaults[flag.name], [], `${spec.name} --${flag.name}`);
        continue;
      }
      assert.equal(defaults[flag.name], flag.default, `${spec.name} --${flag.name}`);
      if (flag.default === undefined) continue;
      assert.ok(help.includes(`[default: ${flag.default}]`), `${spec.name} --${flag.name} shows its default`);
      const given = parse([`--${flag.name}`, String(flag.default)], spec).values as Record<string, unknown>;
      assert.equal(given[flag.name], flag.default, `${spec.name} --${flag.name} ${flag.default}`);
    }
  }
});

Deno.test("render's and master's values are typed by their flags: numbers for numbers, lists for repeatable flags", () => {
  const r = parse(["--spp", "8", "--time-limit", "1.5", "-o", "x.png"], RENDER);
  assert.equal(r.values.spp, 8);
  assert.equal(r.values.width, 512);
  assert.equal(r.values["time-limit"], 1.5);
  assert.equal(r.values.output, "x.png");
  assert.ok(r.given.has("spp") && !r.given.has("width"));
  const m = parse(["--subnet", "127.0.0.0/29", "--subnet", "10.0.0.0/24", "--verify", "0"], MASTER);
  assert.deepEqual(m.values.subnet, ["127.0.0.0/29", "10.0.0.0/24"]);
  assert.equal(m.values.verify, 0);
  assert.equal(m.values.port, 21000);
  assert.equal(m.values["wait-timeout"], undefined);
});
