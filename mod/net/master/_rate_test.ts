import assert from "node:assert/strict";
import { RateWindow } from "./_rate.ts";

Deno.test("two answers that arrive together do not make a slave look thousands of times faster", () => {
  // a slave doing 100k samples/s answers units of 10k, 10k, then 70k: the last two arrive 4 ms apart
  const w = new RateWindow();
  const rate = (busy: number, samples: number) => samples / w.add(busy, samples);
  assert.equal(Math.round(rate(0.1, 10_000)), 100_000);
  rate(0.696, 10_000); // it waited behind the next one
  const burst = rate(0.004, 70_000);
  assert.ok(burst > 80_000 && burst < 130_000, `rated ${burst.toFixed(0)} samples/s`);
  w.clear();
  assert.equal(Math.round(rate(2, 100_000)), 50_000, "a new render starts afresh");
});
