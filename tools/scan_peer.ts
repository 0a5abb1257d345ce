/**
 * The scanning end of tools/lan_bench.ts's scan figure, run inside a host of the namespace LAN (the
 * benchmark's own process is outside it, where no route leads there): scans SUBNET for daemons on PORT
 * with the master's probe timeout and concurrency, ROUNDS times, and prints one JSON line
 * {addresses, found, ms: [...]} .
 *   deno run -A tools/scan_peer.ts SUBNET PORT KEY_HEX ROUNDS
 * @module
 */
import { parseSubnet, scanDaemons, scanTargets } from "../mod/net/discovery/mod.ts";
import { PROBE_TIMEOUT_MS, SCAN_CONCURRENCY } from "../mod/net/defaults.ts";
import { fromHex } from "../mod/bytes.ts";

const [subnet, portText, keyHex, roundsText] = Deno.args;
if (!subnet || !portText || !keyHex) {
  console.error("usage: scan_peer.ts SUBNET PORT KEY_HEX [ROUNDS]");
  Deno.exit(2);
}
const targets = scanTargets([parseSubnet(subnet)]);
const ms: number[] = [];
let found = 0;
for (let round = 0; round < Math.min(10, Number(roundsText ?? 3)); round++) {
  const t0 = performance.now();
  const reports = await scanDaemons(targets, {
    daemonPort: Number(portText),
    masterPort: 1,
    key: fromHex(keyHex),
    timeoutMs: PROBE_TIMEOUT_MS,
    concurrency: SCAN_CONCURRENCY,
  });
  ms.push(performance.now() - t0);
  found = reports.filter((r) => r.kind === "daemon").length;
}
console.log(JSON.stringify({ addresses: targets.length, found, ms }));
