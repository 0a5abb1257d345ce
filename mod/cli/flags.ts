import type { ParseArgsConfig } from "node:util";

/** Columns every help text fits in. */
const HELP_WIDTH = 80;
/** Column where a flag's description starts. */
const DESCRIPTION_COLUMN = 24;

interface FlagBase {
  /** Long name, without the dashes. */
  name: string;
  /** One-letter alias, without the dash. */
  short?: string;
  /** What it does, in one line (help wraps it). */
  description: string;
}

/** A switch: on when given, off by default. */
export interface SwitchFlag extends FlagBase {
  /** Switches take no value. */
  value?: undefined;
}

/**
 * How the parser reads a value flag: `string` as given; `int` an integer from `min` to `max`; `positive` a
 * number above 0 (seconds and the like); `fraction` a number from 0 to 1; `non-negative` a number of 0 or
 * more. A value it cannot read is a one-line usage error naming the flag.
 */
export type FlagKind = "string" | "int" | "positive" | "fraction" | "non-negative";

interface ValueFlagBase extends FlagBase {
  /** The value's placeholder in help: N, FILE, SECONDS. */
  value: string;
  /** How the value is read (default `string`). */
  kind?: FlagKind;
  /** `int`: the least value. */
  min?: number;
  /** `int`: the largest value. */
  max?: number;
  /** May be given several times: the parsed value is the list given (empty when none). */
  multiple?: boolean;
}

/**
 * A flag that takes a value. Its default is declared once: `default` is the value the parser fills in when the
 * flag is not given, and what help shows; `defaultText` is help's words where there is no single value
 * ("none", "forever", "the scene's camera"), and then the parsed value is undefined when not given.
 */
export type ValueFlag =
  & ValueFlagBase
  & ({ default: string | number; defaultText?: undefined } | { defaultText: string; default?: undefined });

/** One command-line flag: what the parser accepts and what --help says of it. */
export type Flag = SwitchFlag | ValueFlag;

/** A titled list of flags in a command's help. */
export interface FlagGroup {
  /** Heading, e.g. "Options". */
  title: string;
  /** The flags, in the order help lists them. */
  flags: readonly Flag[];
}

/**
 * A command's contract: the parser accepts exactly the flags of its groups, and its --help lists each of
 * them, so that no flag exists without help. Declare specs `as const satisfies CommandSpec`, so that
 * {@linkcode FlagValues} knows each flag's name and type.
 */
export interface CommandSpec {
  /** The command as typed after "octane", e.g. "daemon install". */
  name: string;
  /** Synopsis lines, each starting with "octane". */
  usage: readonly string[];
  /** What the command does: paragraphs separated by blank lines; lines starting with a space are kept as typed. */
  about: string;
  /** Its flags, grouped for help. */
  groups: readonly FlagGroup[];
  /** How many positional arguments it takes (default 0). */
  maxPositionals?: number;
  /** Paragraphs after the flags. */
  notes?: string;
}

/** The flags of a spec, as a union of their (const) types. */
export type FlagOf<S extends CommandSpec> = S["groups"][number]["flags"][number];

/** The names of a spec's flags. */
export type FlagName<S extends CommandSpec> = FlagOf<S>["name"];

/** What a value flag's kind reads into. */
type KindValue<F> = F extends { kind: "int" | "positive" | "fraction" | "non-negative" } ? number : string;

/**
 * The parsed value of flag `F`: a switch is a boolean; a repeatable flag the list of values given; a value
 * flag its kind's type, or undefined when not given and it has no `default`.
 */
export type FlagValue<F> = F extends { multiple: true } ? string[]
  : F extends { value: string } ? KindValue<F> | (F extends { default: string | number } ? never : undefined)
  : boolean;

/**
 * The parsed flags of a command, typed from its spec: `values.spp` is a number where `--spp` is an `int`
 * flag, and a name the spec lacks (`values.sppp`) does not compile.
 */
export type FlagValues<S extends CommandSpec> = { readonly [F in FlagOf<S> as F["name"]]: FlagValue<F> };

/** The flags every command takes: --help (-h), --verbose, --debug. */
export const COMMON_FLAGS = [
  { name: "help", short: "h", description: "print this help and exit" },
  { name: "verbose", description: "also log informational lines (joins, leaves, scans)" },
  { name: "debug", description: "log everything and print stack traces with errors" },
] as const satisfies readonly SwitchFlag[];

/** Every flag of a command, in help order. */
export function flagsOf(spec: CommandSpec): Flag[] {
  return spec.groups.flatMap((g) => g.flags);
}

/** The `node:util` parseArgs options for a command's flags. */
export function parserOptions(spec: CommandSpec): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const flag of flagsOf(spec)) {
    options[flag.name] = flag.value === undefined
      ? { type: "boolean", ...(flag.short ? { short: flag.short } : {}) }
      : {
        type: "string",
        ...(flag.short ? { short: flag.short } : {}),
        ...(flag.multiple ? { multiple: true } : {}),
      };
  }
  return options;
}

/** "-o, --output FILE" */
function label(flag: Flag): string {
  const long = `--${flag.name}${flag.value === undefined ? "" : ` ${flag.value}`}`;
  return flag.short ? `-${flag.short}, ${long}` : long;
}

/** Words of `text` in lines of at most 80 columns, each after `indent` spaces (the first after `first`). */
function wrap(text: string, options: { indent?: number; first?: string } = {}): string {
  const pad = " ".repeat(options.indent ?? 0);
  const lines: string[] = [];
  let line = options.first ?? pad;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const column = line.length - (line.lastIndexOf("\n") + 1);
    if (!empty && column + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = pad;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join("\n");
}

/** Paragraphs wrapped to the help width; lines starting with a space are kept as they are. */
function paragraphs(text: string): string {
  return text.trim().split(/\n\s*\n/).map((p) =>
    p.startsWith(" ") || p.includes("\n ") ? p.replace(/^\n+|\n+$/g, "") : wrap(p)
  ).join("\n\n");
}

/** What help says a value flag's default is: its `default` value, else its `defaultText`. */
export function defaultShown(flag: ValueFlag): string {
  return flag.default !== undefined ? String(flag.default) : flag.defaultText;
}

/** One flag's help line(s): label, description, "(repeatable)", "[default: X]", wrapped at 80 columns. */
function flagHelp(flag: Flag): string {
  const head = `  ${label(flag)}`;
  const text = [
    flag.description,
    ...(flag.value !== undefined && flag.multiple ? ["(repeatable)"] : []),
    ...(flag.value !== undefined ? [`[default: ${defaultShown(flag)}]`] : []),
  ].join(" ");
  const fits = head.length < DESCRIPTION_COLUMN - 1;
  const first = fits ? head.padEnd(DESCRIPTION_COLUMN) : `${head}\n${" ".repeat(DESCRIPTION_COLUMN)}`;
  return wrap(text, { indent: DESCRIPTION_COLUMN, first });
}

/** The command's --help text, at most 80 columns wide. */
export function helpText(spec: CommandSpec): string {
  const usage = spec.usage.map((u, i) => `${i === 0 ? "Usage: " : "       "}${u}`).join("\n");
  const groups = spec.groups.map((g) => `${g.title}:\n${g.flags.map(flagHelp).join("\n")}`);
  return [usage, paragraphs(spec.about), ...groups, ...(spec.notes ? [paragraphs(spec.notes)] : [])].join(
    "\n\n",
  );
}

/** Prints the command's help on stdout; returns exit code 0. */
export function printHelp(spec: CommandSpec): number {
  console.log(helpText(spec));
  return 0;
}
