import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { type CommandSpec, flagsOf, parserOptions } from "./flags.ts";

/** A mistake in how the command was called: the CLI prints its message and exits 2. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Parsed flags and positionals. */
export interface ParsedArgs {
  /** Flag values by long name. */
  values: Record<string, string | boolean | undefined>;
  /** Positional arguments. */
  positionals: string[];
  /** Values of repeatable flags (`multiple: true`), by long name; empty when not given. */
  lists: Record<string, string[]>;
}

/**
 * Parses `args` strictly by the command's flag table: unknown flags, missing values and surplus positionals
 * are one-line {@linkcode UsageError}s naming the command's help.
 */
export function parseFlags(args: string[], spec: CommandSpec): ParsedArgs {
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
  const max = spec.maxPositionals ?? 0;
  if (parsed.positionals.length > max) {
    throw new UsageError(
      `Unexpected argument "${parsed.positionals[max]}" for "octane ${spec.name}": ${help}`,
    );
  }
  const values: ParsedArgs["values"] = {};
  const lists: ParsedArgs["lists"] = {};
  for (const [name, option] of Object.entries(options)) {
    const v = (parsed.values as Record<string, unknown>)[name];
    if (option.multiple) lists[name] = Array.isArray(v) ? v.map(String) : [];
    else values[name] = v as string | boolean | undefined;
  }
  return { values, positionals: parsed.positionals, lists };
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

/** Reads an integer flag within [min, max], or the fallback when absent. */
export function intFlag(
  value: string | boolean | undefined,
  name: string,
  range: { min: number; max: number; fallback: number },
): number {
  if (value === undefined) return range.fallback;
  const n = typeof value === "string" && /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new UsageError(
      `Invalid --${name} "${value}": must be an integer from ${range.min} to ${range.max}`,
    );
  }
  return n;
}

/** Reads a positive number flag (seconds and the like), or undefined when absent. */
export function numberFlag(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`Invalid --${name} "${value}": must be a number above 0`);
  }
  return n;
}

/** Reads a fraction flag in [0, 1], or undefined when absent. */
export function fractionFlag(value: string | boolean | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  if (!(n >= 0 && n <= 1)) throw new UsageError(`Invalid --${name} "${value}": must be a number from 0 to 1`);
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
