import { getLogger } from "@logtape/logtape";
import type { NodeFacts } from "../protocol/mod.ts";

const log = getLogger(["octane", "daemon"]);

/** What a slave on this machine would report: learned once at daemon start by running the slave's probe. */
export type SlaveFacts = NodeFacts;

/** Reads the JSON line `octane slave --probe` prints; a SyntaxError when it is not one. */
export function parseFacts(text: string): SlaveFacts {
  const line = text.trim().split("\n").at(-1) ?? "";
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(line);
  } catch {
    throw new SyntaxError(`the slave probe printed no facts: ${JSON.stringify(line.slice(0, 200))}`);
  }
  const gpus = Array.isArray(m.gpus) ? m.gpus : [];
  return {
    version: String(m.version ?? "?"),
    protocol: Number(m.protocol) || 0,
    host: String(m.host ?? "?"),
    os: String(m.os ?? "?"),
    arch: String(m.arch ?? "?"),
    bits: Number(m.bits) || 0,
    gpus: gpus.slice(0, 16).map((g: Record<string, unknown>) => ({
      name: String(g?.name ?? "?"),
      vendor: String(g?.vendor ?? ""),
      software: g?.software === true,
    })),
  };
}

/**
 * Runs `command slave --probe` once and returns what it reports (version, OS/arch, GPUs). The probe
 * process exits by itself; it is killed if it has not within `timeoutMs`.
 * @throws {Error} when the slave cannot start, fails, or prints no facts
 */
export async function probeSlave(command: string[], timeoutMs = 60_000): Promise<SlaveFacts> {
  const [exe, ...args] = command;
  const child = new Deno.Command(exe!, {
    args: [...args, "slave", "--probe"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    log.warn("The slave probe did not finish within {s} s: killing it", { s: timeoutMs / 1000 });
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
  }, timeoutMs);
  const out = await child.output().finally(() => clearTimeout(timer));
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) {
    const last = stderr.split("\n").at(-1) || `exit code ${out.code}`;
    throw new Error(`The slave probe failed: ${last.replace(/^octane: /, "")}`);
  }
  return parseFacts(stdout);
}

/** "linux x86_64 (64-bit), GPUs: NVIDIA H100" ("… (software)" for a CPU adapter) for logs and listings. */
export function describeFacts(f: Pick<SlaveFacts, "os" | "arch" | "bits" | "gpus">): string {
  const gpus = f.gpus.length
    ? f.gpus.map((g) => `${g.name}${g.software ? " (software)" : ""}`).join(", ")
    : "none";
  return `${f.os} ${f.arch} (${f.bits}-bit), GPUs: ${gpus}`;
}
