import { defaultKeyPath, formatKey, generateKey, writeKeyFile } from "../net/key.ts";
import { COMMON_FLAGS, parseFlags, UsageError } from "./args.ts";

const HELP = `Usage: octane key generate [-o FILE] [--force]

Writes a new random 256-bit farm key (64 hex digits) to FILE with mode 0600; without -o, to this user's
default key file (~/.config/octane/key, or $XDG_CONFIG_HOME/octane/key), which master, slave and daemon read
when no --key-file is given. "-o -" prints it instead. An existing file is kept unless --force is given.

Every node of a farm needs the same key: copy the file to each (keep its mode 0600). With a key, every link
proves it in a Noise handshake (Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b) and is encrypted; a host without it
cannot join a render, start a slave or read render data.`;

/** `octane key generate`: a new farm key. */
export async function keyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "--help" || sub === "-h") {
    console.log(HELP);
    return 0;
  }
  if (sub !== "generate") {
    throw new UsageError(
      sub === undefined
        ? `Missing subcommand: run "octane key generate [-o FILE]"`
        : `Unknown subcommand "key ${sub}": run "octane key --help"`,
    );
  }
  const { values } = parseFlags(rest, {
    command: "key generate",
    options: {
      output: { type: "string", short: "o" },
      force: { type: "boolean" },
      ...COMMON_FLAGS,
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const key = generateKey();
  if (values.output === "-") {
    Deno.stdout.writeSync(new TextEncoder().encode(formatKey(key)));
    return 0;
  }
  const path = typeof values.output === "string" ? values.output : defaultKeyPath();
  if (!path) throw new UsageError("Cannot find your home folder for the default key file: pass -o FILE");
  try {
    await writeKeyFile(path, key, { overwrite: values.force === true });
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
