import { hostname } from "node:os";
import { listAdapters } from "../gpu/mod.ts";
import { PROTOCOL_VERSION, VERSION } from "../version.ts";
import { parseFlags } from "./args.ts";
import { INFO } from "./commands.ts";
import { printHelp } from "./flags.ts";

/** `octane info`: what this node would report to a master. */
export async function infoCommand(args: string[]): Promise<number> {
  const parsed = parseFlags(args, INFO);
  if (parsed.help) return printHelp(INFO);
  const { values } = parsed;
  const adapters = await listAdapters();
  const info = {
    version: VERSION,
    protocolVersion: PROTOCOL_VERSION,
    host: hostname(),
    os: Deno.build.os,
    arch: Deno.build.arch,
    deno: Deno.version.deno,
    adapters,
  };
  if (values.json) {
    console.log(JSON.stringify(info, null, 2));
    return 0;
  }
  console.log(`octane ${info.version} (protocol ${info.protocolVersion})`);
  console.log(`host: ${info.host}`);
  console.log(`os/arch: ${info.os}/${info.arch} (64-bit), Deno ${info.deno}`);
  if (adapters.length === 0) {
    console.log("GPU adapters: none (run install/setup.sh, or install your GPU's Vulkan driver)");
  }
  for (const a of adapters) {
    console.log(`GPU: ${a.name}, ${a.vendor} [${a.software ? "software" : "hardware"}]`);
  }
  return 0;
}
