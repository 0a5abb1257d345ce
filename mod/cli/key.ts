import { defaultKeyPath, formatKey, generateKey, writeKeyFile } from "../net/key.ts";
import { parseFlags, UsageError } from "./args.ts";
import { KEY_GENERATE } from "./commands.ts";
import { printHelp } from "./flags.ts";

/** `octane key generate`: a new farm key. */
export async function keyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h") return printHelp(KEY_GENERATE);
  if (sub !== "generate") {
    throw new UsageError(
      sub === undefined
        ? `Missing subcommand: run "octane key generate [-o FILE]"`
        : `Unknown subcommand "key ${sub}": run "octane key --help"`,
    );
  }
  const parsed = parseFlags(rest, KEY_GENERATE);
  if (parsed.help) return printHelp(KEY_GENERATE);
  const { values } = parsed;
  const key = generateKey();
  if (values.output === "-") {
    Deno.stdout.writeSync(new TextEncoder().encode(formatKey(key)));
    return 0;
  }
  const path = values.output ?? defaultKeyPath();
  if (!path) throw new UsageError("Cannot find your home folder for the default key file: pass -o FILE");
  try {
    await writeKeyFile(path, key, { overwrite: values.force });
  } catch (error: unknown) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(
        `Key file "${path}" exists already: keep it, or pass --force to replace it (every node then needs the new one)`,
        {
          cause: error,
        },
      );
    }
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
      throw new UsageError(`Cannot write key file "${path}": ${error.message}`, { cause: error });
    }
    throw error;
  }
  console.log(`Wrote a new farm key to ${path} (mode 0600): copy it to every node of the farm`);
  return 0;
}
