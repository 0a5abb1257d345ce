/**
 * A LAN in a box: hosts that are Linux network namespaces, each with one veth leg on a bridge that lives in
 * a namespace of its own. Every address is in one private /24 that no real interface of this machine uses,
 * and no namespace has a default route, so nothing sent on this LAN can leave the machine. Needs root and
 * `ip` (iproute2); `tc` for link rates.
 * @module
 */

/** Names of everything a LAN makes start with this, then the creating process's pid. */
export const LAN_PREFIX = "octlan";

/** Why a LAN cannot be built here (not root, not Linux, no `ip`), or a step that failed. */
export class LanError extends Error {
  /** @param message sentence case, says what to do */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LanError";
  }
}

/** One host: a namespace with `eth0` on the LAN. */
export interface LanHost {
  /** 1-based index; the address ends in it. */
  readonly index: number;
  /** Its network namespace (`ip netns exec NAME ...`). */
  readonly namespace: string;
  /** Its IPv4 address on the LAN. */
  readonly address: string;
}

/** Options of {@linkcode Lan.create}. */
export interface LanOptions {
  /** Link rate of every host, as `tc` writes it ("1gbit", "100mbit"); unshaped when absent. */
  rate?: string;
  /** Third octet of 10.213.X.0/24; the first free one from a per-process choice when absent. */
  octet?: number;
  /**
   * Remove the LAN and exit 130 on Ctrl-C/SIGTERM (default true); false when the caller stops its processes
   * in order first and then calls {@linkcode Lan.close}.
   */
  signals?: boolean;
}

const decoder = new TextDecoder();
let runs = 0;

async function ip(args: string[], what = "ip"): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(what, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  } catch (error: unknown) {
    throw new LanError(`Cannot run "${what}": ${error instanceof Error ? error.message : error}`, {
      cause: error,
    });
  }
  if (!out.success) {
    throw new LanError(`"${what} ${args.join(" ")}" failed: ${decoder.decode(out.stderr).trim()}`);
  }
  return decoder.decode(out.stdout);
}

function ipSync(args: string[]): string {
  try {
    const out = new Deno.Command("ip", { args, stdout: "piped", stderr: "null", stdin: "null" }).outputSync();
    return decoder.decode(out.stdout);
  } catch {
    return "";
  }
}

/** Why this process cannot build a namespace LAN, or undefined when it can. */
export function lanUnavailable(): string | undefined {
  if (Deno.build.os !== "linux") {
    return `A namespace LAN needs Linux network namespaces (this is ${Deno.build.os})`;
  }
  if (Deno.uid() !== 0) return "A namespace LAN needs root (ip netns add): run as root, as CI does";
  try {
    new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync();
  } catch {
    return `A namespace LAN needs "ip" from iproute2: install it (apt-get install iproute2)`;
  }
  return undefined;
}

/** True while process `pid` runs (read through `cat`: Deno lets only --allow-all read other processes' /proc). */
function alive(pid: number): boolean {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stdout: "piped", stderr: "null" })
    .outputSync();
  return out.success && !/^\d+ \(.*\) Z/.test(decoder.decode(out.stdout));
}

/** The namespaces of this machine (names only). */
function namespaces(): string[] {
  return ipSync(["netns", "list"]).split("\n").map((l) => l.split(" ")[0]!).filter(Boolean);
}

/** Kills every process inside namespace `name` (SIGKILL), waits up to 5 s for them, then deletes it. */
function removeNamespaceSync(name: string): void {
  for (let round = 0; round < 50; round++) {
    const pids = ipSync(["netns", "pids", name]).split("\n").filter(Boolean).map(Number);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    const until = Date.now() + 100;
    while (Date.now() < until && pids.some(alive)) {
      // a blocking wait: this also runs in an unload handler, where nothing asynchronous completes
      new Deno.Command("sleep", { args: ["0.02"] }).outputSync();
    }
  }
  ipSync(["netns", "del", name]);
}

/**
 * Removes what earlier LANs left behind: namespaces named by {@linkcode LAN_PREFIX} whose creating process
 * is gone (it was killed before its teardown ran).
 * @returns the namespaces removed
 */
export function removeStaleLans(): string[] {
  const stale = namespaces().filter((n) => {
    const m = new RegExp(`^${LAN_PREFIX}(\\d+)x\\d+-`).exec(n);
    return m !== null && !alive(Number(m[1]));
  });
  for (const n of stale) removeNamespaceSync(n);
  return stale;
}

/** An IPv4 network: its base address as a number and its prefix length. */
export interface Network {
  base: number;
  prefix: number;
}

/** Every IPv4 network this machine's root namespace has an address or a route on. */
function realNetworks(): Network[] {
  return parseNetworks(
    ipSync(["-4", "-o", "addr", "show"]) + ipSync(["-4", "route", "show", "table", "all"]),
  );
}

/** The networks named in `ip addr`/`ip route` output (a bare address is a /32; the default route is none). */
export function parseNetworks(text: string): Network[] {
  const out: Network[] = [];
  for (const m of text.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?(?=\s|$)/gm)) {
    const prefix = Number(m[2] ?? 32);
    const n = m[1]!.split(".").reduce((k, p) => k * 256 + Number(p), 0);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    // the default route (0.0.0.0/0) is where packets leave, not a network of this machine's own
    if (prefix > 0) out.push({ base: (n & mask) >>> 0, prefix });
  }
  return out;
}

/** True when 10.213.`octet`.0/24 overlaps none of `networks` (a machine's addresses and routes). */
export function freeOctet(octet: number, networks: readonly Network[]): boolean {
  const base = ((10 << 24) | (213 << 16) | (octet << 8)) >>> 0;
  return networks.every((n) => {
    const prefix = Math.min(n.prefix, 24);
    const mask = (0xffffffff << (32 - prefix)) >>> 0;
    return ((n.base & mask) >>> 0) !== ((base & mask) >>> 0);
  });
}

/**
 * A LAN of namespace hosts on one bridge; {@linkcode Lan.close} (or `await using`) removes all of it, and so
 * does this process's exit (an unload handler) and Ctrl-C/SIGTERM while it exists.
 * @example
 * ```ts
 * await using lan = await Lan.create(3, { rate: "1gbit" });
 * const [a, b] = lan.hosts;
 * new Deno.Command(...lan.command(a!, ["octane", "daemon"]));
 * ```
 */
export class Lan {
  /** The hosts, in address order. */
  readonly hosts: readonly LanHost[];
  /** The LAN's subnet, "10.213.X.0/24". */
  readonly subnet: string;
  /** The namespace holding the bridge (no address: the bridge only forwards). */
  readonly bridgeNamespace: string;
  #closed = false;
  #removed = new Set<string>();
  readonly #unload = () => this.#removeAllSync();
  readonly #signal = () => {
    this.#removeAllSync();
    Deno.exit(130);
  };

  #signals: boolean;

  private constructor(hosts: LanHost[], subnet: string, bridge: string, signals: boolean) {
    this.hosts = hosts;
    this.subnet = subnet;
    this.bridgeNamespace = bridge;
    this.#signals = signals;
    globalThis.addEventListener("unload", this.#unload);
    if (signals) { for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, this.#signal); }
  }

  /**
   * Builds a LAN of `count` hosts (1 to 250). Removes stale LANs of dead processes first.
   * @throws {LanError} when namespaces cannot be made here (see {@linkcode lanUnavailable}) or a step fails
   */
  static async create(count: number, options: LanOptions = {}): Promise<Lan> {
    const why = lanUnavailable();
    if (why) throw new LanError(why);
    if (!Number.isInteger(count) || count < 1 || count > 250) {
      throw new RangeError(`A LAN has 1 to 250 hosts, not ${count}`);
    }
    removeStaleLans();
    const networks = realNetworks();
    const octet = options.octet ??
      [...Array(200).keys()].map((i) => 10 + (Deno.pid + i) % 200).find((o) => freeOctet(o, networks));
    if (octet === undefined || !freeOctet(octet, networks)) {
      throw new LanError(`No free 10.213.X.0/24 on this machine: every candidate is on a real interface`);
    }
    const prefix = `${LAN_PREFIX}${Deno.pid}x${++runs}`;
    const bridge = `${prefix}-br`;
    const hosts: LanHost[] = [...Array(count).keys()].map((i) => ({
      index: i + 1,
      namespace: `${prefix}-h${i + 1}`,
      address: `10.213.${octet}.${i + 1}`,
    }));
    const lan = new Lan(hosts, `10.213.${octet}.0/24`, bridge, options.signals ?? true);
    try {
      await ip(["netns", "add", bridge]);
      await ip(["-n", bridge, "link", "add", "br0", "type", "bridge"]);
      await ip(["-n", bridge, "link", "set", "br0", "up"]);
      for (const h of hosts) {
        const leg = `h${h.index}`;
        await ip(["netns", "add", h.namespace]);
        await ip([
          "link",
          "add",
          "eth0",
          "netns",
          h.namespace,
          "type",
          "veth",
          "peer",
          "name",
          leg,
          "netns",
          bridge,
        ]);
        await ip(["-n", bridge, "link", "set", leg, "master", "br0", "up"]);
        await ip(["-n", h.namespace, "link", "set", "lo", "up"]);
        await ip(["-n", h.namespace, "addr", "add", `${h.address}/24`, "dev", "eth0"]);
        await ip(["-n", h.namespace, "link", "set", "eth0", "up"]);
        if (options.rate) await lan.setRate(h, options.rate);
        const routes = await ip(["-n", h.namespace, "-4", "route", "show"]);
        if (/^default/m.test(routes)) {
          throw new LanError(`Host ${h.namespace} has a default route: ${routes}`);
        }
      }
    } catch (error: unknown) {
      await lan.close();
      throw error;
    }
    return lan;
  }

  /** The argv that runs `argv` inside `host`'s namespace. */
  command(host: LanHost, argv: readonly string[]): string[] {
    return ["ip", "netns", "exec", host.namespace, ...argv];
  }

  /**
   * Shapes `host`'s link both ways with a token bucket (`tc qdisc ... tbf`) at `rate` ("1gbit"), or removes
   * the shaping when `rate` is undefined.
   */
  async setRate(host: LanHost, rate: string | undefined): Promise<void> {
    for (const [ns, dev] of [[host.namespace, "eth0"], [this.bridgeNamespace, `h${host.index}`]] as const) {
      if (rate === undefined) {
        await ip(["-n", ns, "qdisc", "del", "dev", dev, "root"], "tc").catch(() => {});
        continue;
      }
      // a burst of 1 ms at the rate (at least 64 KiB) keeps the long-run rate exact and the bucket small
      const bits = parseRate(rate);
      const burst = Math.max(64 << 10, Math.ceil(bits / 8 / 1000));
      await ip([
        "-n",
        ns,
        "qdisc",
        "replace",
        "dev",
        dev,
        "root",
        "tbf",
        "rate",
        rate,
        "burst",
        String(burst),
        "latency",
        "50ms",
      ], "tc");
    }
  }

  /** Pulls `host`'s cable: its leg on the bridge goes down (the host's own eth0 stays configured). */
  async linkDown(host: LanHost): Promise<void> {
    await ip(["-n", this.bridgeNamespace, "link", "set", `h${host.index}`, "down"]);
  }

  /** Plugs `host`'s cable back in. */
  async linkUp(host: LanHost): Promise<void> {
    await ip(["-n", this.bridgeNamespace, "link", "set", `h${host.index}`, "up"]);
  }

  /**
   * The host dies: its link goes down first (so no goodbye reaches anyone), then every process in it is
   * killed and its namespace deleted.
   */
  async kill(host: LanHost): Promise<void> {
    await this.linkDown(host);
    removeNamespaceSync(host.namespace);
    this.#removed.add(host.namespace);
  }

  /** Removes every host and the bridge, killing every process still inside; safe to call again. */
  close(): Promise<void> {
    this.#removeAllSync();
    return Promise.resolve();
  }

  /** Same as {@linkcode Lan.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #removeAllSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    globalThis.removeEventListener("unload", this.#unload);
    if (this.#signals) {
      for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, this.#signal);
    }
    for (const h of this.hosts) if (!this.#removed.has(h.namespace)) removeNamespaceSync(h.namespace);
    removeNamespaceSync(this.bridgeNamespace);
  }
}

/** Bits per second of a `tc` rate: "1gbit", "100mbit", "500kbit", "1000000bit". */
export function parseRate(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|m|g)?bit$/i.exec(rate.trim());
  if (!m) throw new RangeError(`Invalid link rate "${rate}": write it as tc does, e.g. 1gbit or 100mbit`);
  const scale = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? "").toLowerCase() as "k" | "m" | "g"] ?? 1;
  return Number(m[1]) * scale;
}
