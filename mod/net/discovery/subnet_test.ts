import assert from "node:assert/strict";
import { interfaceSubnets, parseSubnet, scanTargets, subnetHosts } from "./subnet.ts";

Deno.test("parseSubnet clears host bits, takes a bare address as /32 and refuses what it cannot scan", () => {
  assert.deepEqual(parseSubnet("10.1.2.77/24"), { text: "10.1.2.0/24", base: 0x0a010200, prefix: 24 });
  assert.equal(parseSubnet("192.168.0.9").text, "192.168.0.9/32");
  assert.throws(() => parseSubnet("10.0.0.0/8"), /too large to scan: use a \/16 or smaller/);
  for (const bad of ["300.1.1.1/24", "10.0.0/24", "10.0.0.0/33", "fe80::1/64", "lan"]) {
    assert.throws(() => parseSubnet(bad), /is not an IPv4 subnet: write it as 192\.168\.1\.0\/24/, bad);
  }
});

Deno.test("subnetHosts leaves out the network and broadcast addresses, except in a /31 or /32", () => {
  assert.deepEqual(subnetHosts(parseSubnet("127.0.0.0/29")), [1, 2, 3, 4, 5, 6].map((i) => `127.0.0.${i}`));
  assert.equal(subnetHosts(parseSubnet("192.168.1.0/24")).length, 254);
  assert.deepEqual(subnetHosts(parseSubnet("10.0.0.4/31")), ["10.0.0.4", "10.0.0.5"]);
  assert.deepEqual(subnetHosts(parseSubnet("10.0.0.4/32")), ["10.0.0.4"]);
  assert.equal(subnetHosts(parseSubnet("10.9.0.0/16")).at(-1), "10.9.255.254");
  assert.deepEqual(scanTargets([parseSubnet("127.0.0.0/30"), parseSubnet("127.0.0.2")]), [
    "127.0.0.1",
    "127.0.0.2",
  ]);
});

Deno.test("interfaceSubnets skips loopback and link-local, and narrows wide networks to the /24 around the address", () => {
  const nic = (
    address: string,
    cidr: string,
    family: "IPv4" | "IPv6" = "IPv4",
  ): Deno.NetworkInterfaceInfo => ({
    family,
    name: "eth0",
    address,
    netmask: "",
    scopeid: null,
    cidr,
    mac: "00:00:00:00:00:00",
  });
  const subnets = interfaceSubnets([
    nic("127.0.0.1", "127.0.0.1/8"),
    nic("169.254.3.3", "169.254.3.3/16"),
    nic("fe80::1", "fe80::1/64", "IPv6"),
    nic("192.168.1.20", "192.168.1.20/24"),
    nic("10.4.7.9", "10.4.7.9/8"),
    nic("172.16.5.130", "172.16.5.130/25"),
  ]);
  assert.deepEqual(subnets.map((s) => s.text), ["192.168.1.0/24", "10.4.7.0/24", "172.16.5.128/25"]);
});
