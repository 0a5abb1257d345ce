/** The command line (after any wrapper such as `taskset` or `ip netns exec`) that runs a peer script of tools/. */
export function peerCommand(script: string, ...args: string[]): string[] {
  return [Deno.execPath(), "run", "--quiet", "-A", new URL(script, import.meta.url).pathname, ...args];
}
