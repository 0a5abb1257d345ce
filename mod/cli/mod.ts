/**
 * The command-line layer: argument parsing, console output and the subcommands.
 * @module
 */
export { type HelpAsked, type ParsedArgs, parseFlags, UsageError } from "./args.ts";
export { setupLogging } from "./logging.ts";
