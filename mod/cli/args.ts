import { dirname } from "node:path";
import { parseArgs } from "node:util";
import {
  type CommandSpec,
  type FlagName,
  flagsOf,
  type FlagValues,
  parserOptions,
  type ValueFlag,
} from "./flags.ts";

/** A mistake in how the command was called: the CLI prints its message and exits 2. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A command line that asks for the command's help: nothing else of it is read. */
export interface HelpAsked {
  /** --help (-h) was given. */
  help: true;
}

/** A command's parsed flags and positionals, typed from its spec. */
export interface ParsedArgs<S extends CommandSpec> {
  /** --help was not given. */
  help: false;
  /**
   * Flag values by long name, each read by its kind, with its `default` filled in where it was not given:
   * `values.spp` is a number for an `int` flag, a string list for a repeatable flag.
   */
  values: FlagValues<S>;
  /** Positional arguments. */
  positionals: string[];
  /** The flags given on the command line (a default filled in is not given). */
  given: ReadonlySet<FlagName<S>>;
}

/**
 * Parses `args` strictly by the command's flag table: unknown flags, missing values, values a flag's kind
 * cannot read and surplus positionals are one-line {@linkcode UsageError}s naming the command's help. With
 * --help, nothing else is read.
 */
export function parseFlags<const S extends CommandSpec>(args: string[], spec: S): ParsedArgs<S> | HelpAsked {
  const options = parserOptions(spec);
  // Let string flags take negative numbers (`--width -5`) so that the value check, not the parser, reports them.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    const name = a.startsWith("--") ? a.slice(2) : undefined;
    if (name && options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${a}=${next}`);
      i++;
    } else joined.push(a);
  }
  const help = `run "octane ${spec.name} --help"`;
  let parsed;
  try {
    parsed = parseArgs({ args: joined, options, allowPositionals: true, strict: true });
  } catch (error: unknown) {
    throw new UsageError(`${parserProblem(error, spec)}: ${help}`, { cause: error });
  }
  const raw = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (raw.help === true) return { help: true };
  const max = spec.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    throw new UsageError(
      `Unexpected argument "${parsed.positionals[max]}" for "octane ${spec.name}": ${help}`,
    );
  }
  const values: Record<string, unknown> = {};
  const given = new Set<string>();
  for (const flag of flagsOf(spec)) {
    const v = raw[flag.name];
    if (v !== undefined) given.add(flag.name);
    values[flag.name] = flag.value === undefined
      ? v === true
      : flag.multiple
      ? (Array.isArray(v) ? v : [])
      : typeof v === "string"
      ? readValue(v, flag)
      : flag.default;
  }
  // the one place the spec's types meet the parser's: every flag of the spec was read above by its kind
  return {
    help: false,
    values: values as FlagValues<S>,
    positionals: parsed.positionals,
    given: given as ReadonlySet<FlagName<S>>,
  };
}

/** The parser's complaint (several lines, in node's words) as one clause naming the flag. */
function parserProblem(error: unknown, spec: CommandSpec): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `Unknown option "${unknown[1]}" for "octane ${spec.name}"`;
  // node names the flag "--spp", "-o" or "-o, --output"; "argument missing" at the end of the line,
  // "argument is ambiguous" when the next word is a flag
  const named =
    /Option '(?:-\w, )?(?:--([\w-]+)|-(\w))(?: <value>)?' (argument missing|argument is ambiguous|does not take an argument)/
      .exec(message);
  if (named) {
    const flag = flagsOf(spec).find((f) => f.name === named[1] || (named[2] && f.short === named[2]));
    const name = `--${flag?.name ?? named[1] ?? named[2]}`;
    if (named[3] === "does not take an argument") return `Option "${name}" takes no value`;
    return `Option "${name}" needs a value${flag?.value ? ` (${name} ${flag.value})` : ""}`;
  }
  return message.split("\n")[0]!.replace(/\.$/, "");
}

/**
 * Reads a value flag's text by its kind (see `FlagKind` in flags.ts).
 * @throws {UsageError} `Invalid --NAME "TEXT": must be ...`
 */
export function readValue(text: string, flag: ValueFlag): string | number {
  const kind = flag.kind ?? "string";
  if (kind === "string") return text;
  const invalid = (rule: string) => new UsageError(`Invalid --${flag.name} "${text}": must be ${rule}`);
  if (kind === "int") {
    const min = flag.min ?? Number.MIN_SAFE_INTEGER, max = flag.max ?? Number.MAX_SAFE_INTEGER;
    const n = /^[+-]?\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(`an integer from ${min} to ${max}`);
    return n;
  }
  const n = text.trim() === "" ? NaN : Number(text);
  if (kind === "positive" && !(Number.isFinite(n) && n > 0)) throw invalid("a number above 0");
  if (kind === "fraction" && !(n >= 0 && n <= 1)) throw invalid("a number from 0 to 1");
  if (kind === "non-negative" && !(Number.isFinite(n) && n >= 0)) throw invalid("a number of 0 or more");
  return n;
}

/**
 * Refuses an output path before any work is done: a folder, a file in a folder that does not exist, or
 * a place this process cannot write (probed by opening the file without truncating it, or by creating and
 * removing a temporary file beside it). `flag` (`-o`, `--report`…) is named in the message.
 */
export async function checkWritableDir(file: string, flag?: string): Promise<void> {
  const what = `Cannot write ${flag ? `${flag} ` : ""}"${file}"`;
  const dir = dirname(file);
  const stat = async (path: string) => {
    try {
      return await Deno.stat(path);
    } catch (error: unknown) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw new UsageError(`${what}: ${describe(error)}`, { cause: error });
    }
  };
  const existing = await stat(file);
  if (existing?.isDirectory) {
    throw new UsageError(`${what}: it is a folder; give a file name`);
  }
  const folder = await stat(dir);
  if (!folder) throw new UsageError(`${what}: folder "${dir}" does not exist`);
  if (!folder.isDirectory) throw new UsageError(`${what}: "${dir}" is not a folder`);
  try {
    if (existing) {
      (await Deno.open(file, { write: true })).close();
    } else {
      await Deno.remove(await Deno.makeTempFile({ dir, prefix: ".octane-write-probe-" }));
    }
  } catch (error: unknown) {
    const place = existing ? "the file" : `folder "${dir}"`;
    throw new UsageError(`${what}: ${place} is not writable (${describe(error)})`, { cause: error });
  }
}

/**
 * Checks before any work that folder `dir` (given with `flag`) can take files: it is made (with its parents)
 * when missing; a file there, a folder that cannot be made or is not writable is a usage error.
 * @throws {UsageError} saying which and what to do
 */
export async function checkWritableFolder(dir: string, flag: string): Promise<void> {
  const what = `Cannot write ${flag} "${dir}"`;
  let existing: Deno.FileInfo | undefined;
  try {
    existing = await Deno.stat(dir);
  } catch (error: unknown) {
    if (!(error instanceof Deno.errors.NotFound)) {
      // a file where a parent folder should be, a folder that may not be read: it cannot be made
      throw new UsageError(
        `${what}: cannot make the folder (${describe(error)}); give a folder that can be made`,
        {
          cause: error,
        },
      );
    }
  }
  if (existing && !existing.isDirectory) throw new UsageError(`${what}: it is a file; give a folder`);
  if (!existing) {
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (error: unknown) {
      throw new UsageError(
        `${what}: cannot make the folder (${describe(error)}); give a folder that can be made`,
        {
          cause: error,
        },
      );
    }
  }
  try {
    await Deno.remove(await Deno.makeTempFile({ dir, prefix: ".octane-write-probe-" }));
  } catch (error: unknown) {
    throw new UsageError(`${what}: the folder is not writable (${describe(error)})`, { cause: error });
  }
}

/** An I/O error in words: the OS's message without its error number, or Deno's refusal of a system path. */
function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) return "a system path octane does not write to";
  return (error instanceof Error ? error.message : String(error)).replace(/ \(os error \d+\).*$/, "");
}
