import { formatRate } from "./progress.ts";

/** What the status line and the summary table need of a rendering node. */
export interface NodeView {
  /** "local" or the slave's address (host:port). */
  id: string;
  /** Its GPU names. */
  gpus: readonly { name: string }[];
  /** Pixel samples it contributed. */
  samples: number;
  /** Pixel samples per second, smoothed (0: none merged yet). */
  rate: number;
  /** Still connected. */
  active: boolean;
  /** Render data uploaded to it, and the bytes it needed. */
  upload: { sent: number; total: number };
  /** The daemon that started it, if one did. */
  daemon?: string;
}

/**
 * Short names for nodes: "local", a slave's host without its port unless two slaves share the host.
 */
export function nodeNames(nodes: readonly Pick<NodeView, "id">[]): Map<string, string> {
  const hostOf = (id: string) => id.replace(/:\d+$/, "");
  const count = new Map<string, number>();
  for (const n of nodes) count.set(hostOf(n.id), (count.get(hostOf(n.id)) ?? 0) + 1);
  return new Map(nodes.map((n) => [n.id, count.get(hostOf(n.id))! > 1 ? n.id : hostOf(n.id)]));
}

/** "1 slave", "2 slaves". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * The active nodes for a status line: "local 120 k · 127.0.0.2 95 k · 127.0.0.3 data 40%"; a node
 * that has merged nothing yet shows "joining" ("starting": the local GPU).
 */
export function nodeRates(nodes: readonly NodeView[]): string {
  const active = nodes.filter((n) => n.active);
  const names = nodeNames(active);
  return active.map((n) => {
    const name = names.get(n.id)!;
    if (n.upload.total > 0 && n.upload.sent < n.upload.total) {
      return `${name} data ${Math.floor(100 * n.upload.sent / n.upload.total)}%`;
    }
    return n.rate > 0
      ? `${name} ${formatRate(n.rate).trim()}`
      : `${name} ${n.id === "local" ? "starting" : "joining"}`;
  }).join(" · ");
}

/**
 * Who rendered what: one line per node that took part (node, GPU, share of the samples, its samples
 * per second over the render), under a heading.
 */
export function sharesTable(nodes: readonly NodeView[], seconds: number, heading: string): string[] {
  const taking = nodes.filter((n) => n.samples > 0 || n.id === "local");
  const total = taking.reduce((k, n) => k + n.samples, 0);
  const names = nodeNames(taking);
  const rows = taking.map((n) => [
    n.id === "local" ? "local (master)" : `${names.get(n.id)}${n.daemon ? ` (daemon ${n.daemon})` : ""}`,
    n.gpus.map((g) => g.name).join(", ") || "-",
    `${total > 0 ? (100 * n.samples / total).toFixed(1) : "0.0"}%`,
    formatRate(seconds > 0 ? n.samples / seconds : 0).trim(),
  ]);
  const head = ["node", "GPU", "share", "samples/s"];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `  ${r[0]!.padEnd(width[0]!)}  ${r[1]!.padEnd(width[1]!)}  ${r[2]!.padStart(width[2]!)}  ${
      r[3]!.padStart(width[3]!)
    }`;
  return [heading, line(head), ...rows.map(line)];
}
