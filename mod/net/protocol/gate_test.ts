import assert from "node:assert/strict";
import { HandshakeGate, LogBudget } from "./gate.ts";

Deno.test("the handshake gate bounds connections at once, in all and per address, until they are released", () => {
  const gate = new HandshakeGate({ total: 4, perHost: 2, now: () => 0 });
  const a1 = gate.admit("10.0.0.1"), a2 = gate.admit("10.0.0.1");
  assert.ok("release" in a1 && "release" in a2);
  const a3 = gate.admit("10.0.0.1");
  assert.ok(
    "refused" in a3 && /2 connections from 10\.0\.0\.1 are in their handshake already/.test(a3.refused),
  );
  const b1 = gate.admit("10.0.0.2"), b2 = gate.admit("10.0.0.2");
  assert.ok("release" in b1 && "release" in b2);
  const c = gate.admit("10.0.0.3");
  assert.ok("refused" in c && /4 connections are in their handshake already/.test(c.refused));
  a1.release();
  a1.release(); // twice changes nothing
  assert.equal(gate.open, 3);
  assert.ok("release" in gate.admit("10.0.0.3"));
  assert.ok("refused" in gate.admit("10.0.0.4"));
});

Deno.test("the handshake gate lets one address start a burst, then only its rate", () => {
  let now = 0;
  const gate = new HandshakeGate({ ratePerHost: 10, burstPerHost: 5, now: () => now });
  const start = (host = "10.0.0.1") => {
    const r = gate.admit(host);
    if ("release" in r) r.release();
    return "release" in r;
  };
  assert.deepEqual(Array.from({ length: 6 }, () => start()), [true, true, true, true, true, false]);
  assert.ok(start("10.0.0.2"), "another address has its own budget");
  now += 100; // a tenth of a second: one more
  assert.deepEqual([start(), start()], [true, false]);
  now += 10_000; // quiet: the burst again, no more
  assert.equal(Array.from({ length: 8 }, () => start()).filter(Boolean).length, 5);
});

Deno.test("a log budget lets a few lines through per window and says how many it left out", () => {
  const budget = new LogBudget(2, 1000);
  assert.deepEqual([0, 1, 2, 3].map((t) => budget.take(t).log), [true, true, false, false]);
  assert.deepEqual(budget.take(1000), { log: true, skipped: 2 });
  assert.deepEqual(budget.take(1001), { log: true, skipped: 0 });
});
