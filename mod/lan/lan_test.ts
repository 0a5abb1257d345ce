import assert from "node:assert/strict";
import { freeOctet, parseNetworks, parseRate } from "./lan.ts";

Deno.test("a LAN's /24 avoids every address and route of the machine, wider routes included", () => {
  const networks = parseNetworks(
    `1: lo    inet 127.0.0.1/8 scope host lo
4: eth0    inet 10.213.7.20/24 brd 10.213.7.255 scope global eth0
default via 192.0.2.1 dev eth0
10.213.64.0/18 dev tun0 proto kernel
local 10.213.200.9 dev eth0 table local`,
  );
  assert.equal(freeOctet(7, networks), false, "an interface's own /24");
  assert.equal(freeOctet(64, networks), false, "inside a wider route");
  assert.equal(freeOctet(127, networks), false, "the top of that wider route");
  assert.equal(freeOctet(200, networks), false, "a single address");
  assert.equal(freeOctet(8, networks), true);
  assert.equal(freeOctet(128, networks), true);
  assert.equal(freeOctet(9, parseNetworks("10.0.0.0/8 via 192.0.2.1 dev eth0")), false, "a 10/8 route");
  assert.equal(freeOctet(9, parseNetworks("default via 192.0.2.1 dev eth0")), true, "the default route");
});

Deno.test("link rates read as tc writes them", () => {
  assert.equal(parseRate("1gbit"), 1e9);
  assert.equal(parseRate("100mbit"), 1e8);
  assert.throws(() => parseRate("1 GB/s"), /Invalid link rate "1 GB\/s": write it as tc does/);
});
