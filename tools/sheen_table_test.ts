import assert from "node:assert/strict";
import { SHEEN_MIN_ROUGHNESS as KERNEL_MIN, SHEEN_TABLE } from "../mod/gpu_layout/sheen_table.ts";
import { SHEEN_MIN_ROUGHNESS, SHEEN_TABLE_SIZE, sheenAlbedo, sheenTableModule } from "./sheen_table.ts";

Deno.test("the committed sheen albedo table is the generator's output, and its numbers are the integrals", async () => {
  const module = await Deno.readTextFile(new URL("../mod/gpu_layout/sheen_table.ts", import.meta.url));
  assert.equal(SHEEN_TABLE.length, SHEEN_TABLE_SIZE * SHEEN_TABLE_SIZE);
  assert.equal(module, sheenTableModule(SHEEN_TABLE));
  assert.equal(KERNEL_MIN, SHEEN_MIN_ROUGHNESS);
  // a few entries recomputed: row i at sqrt(mu) = i / 31, column j at roughness j / 31
  for (const [i, j] of [[31, 31], [31, 5], [16, 16], [8, 24], [3, 10]] as const) {
    const x = i / (SHEEN_TABLE_SIZE - 1);
    const want = sheenAlbedo(x * x, j / (SHEEN_TABLE_SIZE - 1));
    const got = SHEEN_TABLE[i * SHEEN_TABLE_SIZE + j]!;
    assert.ok(Math.abs(got - want) <= 1e-4 * Math.max(1, want), `E[${i}][${j}] = ${got}, integral ${want}`);
  }
  // head-on a rough sheen reflects little, at grazing angles much more
  assert.ok(sheenAlbedo(1, 0.5) < 0.05 && sheenAlbedo(0.05, 0.5) > 0.5);
});
