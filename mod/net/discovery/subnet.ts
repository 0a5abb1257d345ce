/** An IPv4 subnet to scan for daemons. */
export interface Subnet {
  /** As written: "192.168.1.0/24". */
  text: string;
  /** The network address as an unsigned 32-bit number. */
  base: number;
  /** Prefix length, 16 to 32. */
  prefix: number;
}

/** Smallest prefix accepted: a /16 is 65,534 hosts, minutes of scanning; anything wider is a mistake. */
export const MIN_PREFIX = 16;

function ipNumber(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

/** Dotted quad of an unsigned 32-bit address. */
export function ipText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * Parses "A.B.C.D/N" (a bare address is a /32). Host bits are cleared: "10.0.0.7/24" is 10.0.0.0/24.
 * @throws {RangeError} with a message that says what is accepted
 */
export function parseSubnet(text: string): Subnet {
  const m = /^([\d.]+)(?:\/(\d{1,2}))?$/.exec(text.trim());
  const address = m ? ipNumber(m[1]!) : undefined;
  const prefix = m?.[2] === undefined ? 32 : Number(m[2]);
  if (address === undefined || prefix > 32) {
    throw new RangeError(`"${text}" is not an IPv4 subnet: write it as 192.168.1.0/24`);
  }
  if (prefix < MIN_PREFIX) {
    throw new RangeError(
      `Subnet "${text}" is too large to scan: use a /${MIN_PREFIX} or smaller (a /24 is usual)`,
    );
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (address & mask) >>> 0;
  return { text: `${ipText(base)}/${prefix}`, base, prefix };
}

/** The host addresses of a subnet: all but the network and broadcast addresses (a /31 or /32: all). */
export function subnetHosts(subnet: Subnet): string[] {
  const size = 2 ** (32 - subnet.prefix);
  const first = subnet.prefix >= 31 ? 0 : 1;
  const last = subnet.prefix >= 31 ? size - 1 : size - 2;
  const out: string[] = [];
  for (let i = first; i <= last; i++) out.push(ipText(subnet.base + i));
  return out;
}

/** Every distinct host of the subnets, in order. */
export function scanTargets(subnets: readonly Subnet[]): string[] {
  return [...new Set(subnets.flatMap(subnetHosts))];
}

/**
 * The subnets of this machine's non-loopback IPv4 interfaces. An interface on a network wider than a /22
 * contributes only the /24 around its own address, so that a default scan stays within seconds.
 */
export function interfaceSubnets(
  interfaces: Deno.NetworkInterfaceInfo[] = Deno.networkInterfaces(),
): Subnet[] {
  const out = new Map<string, Subnet>();
  for (const i of interfaces) {
    if (i.family !== "IPv4" || i.address.startsWith("127.") || i.address.startsWith("169.254.")) continue;
    const prefix = Number(i.cidr.split("/")[1] ?? 24);
    const s = parseSubnet(`${i.address}/${Math.min(32, Math.max(prefix > 22 ? prefix : 24, MIN_PREFIX))}`);
    out.set(s.text, s);
  }
  return [...out.values()];
}
