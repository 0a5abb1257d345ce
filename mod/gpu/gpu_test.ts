import assert from "node:assert/strict";
import { vendorName } from "./gpu.ts";

Deno.test("vendorName names known PCI and Khronos vendor ids and keeps the id in hex", () => {
  assert.deepEqual(vendorName("65541"), { vendor: "Mesa", vendorId: "0x10005" }); // llvmpipe, as Deno gives it
  assert.deepEqual(vendorName("4318"), { vendor: "NVIDIA", vendorId: "0x10de" });
  assert.deepEqual(vendorName("0x1002"), { vendor: "AMD", vendorId: "0x1002" });
  assert.deepEqual(vendorName("32902"), { vendor: "Intel", vendorId: "0x8086" });
  assert.deepEqual(vendorName("4203"), { vendor: "Apple", vendorId: "0x106b" });
  assert.deepEqual(vendorName("4660"), { vendor: "unknown vendor 0x1234", vendorId: "0x1234" });
  assert.deepEqual(vendorName("apple"), { vendor: "apple" });
});
