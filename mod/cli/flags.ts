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

/** A flag that takes a value: its placeholder and default are part of its help. */
export interface ValueFlag extends FlagBase {
  /** The value's placeholder in help: N, FILE, SECONDS. */
  value: string;
  /** The default as help shows it ("64", "none", "forever"). */
  default: string;
  /** May be given several times. */
  multiple?: boolean;
}

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
 * them, so that no flag exists without help.
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

/** The flags every command takes: --help (-h), --debug, --verbose. */
export const COMMON_FLAGS = [
  { name: "help", short: "h", description: "print this help and exit" },
  { name: "verbose", description: "also log informational lines (joins, leaves, scans)" },
  { name: "debug", description: "log everything and print stack traces with errors" },
] as const satisfies readonly Flag[];

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

/** One flag's help line(s): label, description, "(repeatable)", "[default: X]", wrapped at 80 columns. */
function flagHelp(flag: Flag): string {
  const head = `  ${label(flag)}`;
  const text = [
    flag.description,
    ...(flag.value !== undefined && flag.multiple ? ["(repeatable)"] : []),
    ...(flag.value !== undefined ? [`[default: ${flag.default}]`] : []),
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
