/**
 * Render-data upload figures (run by `deno task bench`): a textured scene's sections raw and on the wire
 * (zstd where it pays), the master's time to compress them (once per render, not per slave), and the time
 * one slave takes to download and decode them through a sealed link on loopback, with and without
 * compression. The receiver is a process of its own on another core, as a slave is on its own machine.
 * Prints figures; asserts nothing. Options: --scene FILE (default: ../shared/scenes' water bottle), --json FILE.
 * @module
 */
import { parseArgs } from "node:util";
import { toHex } from "../mod/bytes.ts";
import { generateKey } from "../mod/net/key.ts";
import { Master } from "../mod/net/master/mod.ts";
import { encodeSection } from "../mod/net/protocol/mod.ts";
import { loadRenderData, renderDataSections } from "../mod/render_data/mod.ts";
import { peerCommand } from "./_peer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    scene: { type: "string" },
    json: { type: "string" },
  },
  strict: true,
});
const scene = values.scene ??
  new URL("../../shared/scenes/water-bottle/WaterBottle.gltf", import.meta.url).pathname;
try {
  await Deno.stat(scene);
} catch {
  console.log(`render-data upload: skipped, ${scene} not found`);
  Deno.exit(0);
}
const cores = navigator.hardwareConcurrency;
const data = await loadRenderData(scene);
const sections = renderDataSections(data);
const mb = (n: number) => n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`;

// what each section costs on the wire, and the master's time to compress it
const rows = sections.map((s) => {
  const t0 = performance.now();
  const w = encodeSection(s);
  return {
    name: s.name,
    bytes: s.bytes.length,
    wireBytes: w.bytes.length,
    encoding: w.info.encoding,
    ms: performance.now() - t0,
  };
});
const raw = rows.reduce((n, r) => n + r.bytes, 0);
const wire = rows.reduce((n, r) => n + r.wireBytes, 0);
const compressMs = rows.reduce((n, r) => n + r.ms, 0);
console.log(`render-data upload, ${scene.replace(/.*\//, "")} on ${cores} cores:`);
for (const r of rows.filter((r) => r.encoding === "zstd")) {
  console.log(
    `  ${r.name}: ${mb(r.bytes)} as ${mb(r.wireBytes)} of zstd (${
      (100 * r.wireBytes / r.bytes).toFixed(1)
    }%) in ${r.ms.toFixed(0)} ms`,
  );
}
console.log(
  `  all sections: ${mb(raw)} raw, ${mb(wire)} on the wire (${
    (100 * wire / raw).toFixed(1)
  }%), compressed in ${compressMs.toFixed(0)} ms once per render`,
);

// one slave's download: this process sends from the first core, the receiver decodes on the second
await new Deno.Command("taskset", {
  args: ["-a", "-cp", "0", String(Deno.pid)],
  stdout: "null",
  stderr: "null",
})
  .output().catch(() => {});
const key = generateKey();
async function upload(
  compressSections: boolean,
): Promise<{ first: number; best: number; wireBytes: number }> {
  const m = Master.start(data, {
    spp: 1,
    width: 8,
    height: 8,
    seed: 1,
    maxDepth: 1,
    bind: "127.0.0.1",
    port: 27700,
    autoPort: true,
    localRender: false,
    waitSlaves: 1,
    key,
    compressSections,
  });
  const running = m.run().catch(() => {});
  try {
    const out = await new Deno.Command("taskset", {
      args: [
        "-c",
        String(Math.min(1, cores - 1)),
        ...peerCommand("./transfer_peer.ts"),
        "sealed",
        "127.0.0.1",
        String(m.port),
        toHex(key),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    m.close();
    await running;
  }
}
const plain = await upload(false);
const packed = await upload(true);
const line = (what: string, r: typeof plain) =>
  console.log(
    `  ${what}: ${mb(r.wireBytes)} on the wire, downloaded and decoded in ${
      r.first.toFixed(2)
    } s by a slave joining (best of 3: ${r.best.toFixed(2)} s)`,
  );
console.log("  one slave on loopback, sealed link (Noise_NNpsk0, ChaCha20-Poly1305):");
line("raw", plain);
line("zstd", packed);
// loopback is faster than any LAN: what the wire bytes alone take at 1 GbE (125 MB/s)
console.log(
  `  wire time alone at 1 GbE: ${(plain.wireBytes / 125e6).toFixed(2)} s raw, ${
    (packed.wireBytes / 125e6).toFixed(2)
  } s zstd`,
);
const figures = {
  scene,
  cores,
  sections: rows,
  raw,
  wire,
  compressMs,
  loopback: { raw: plain, zstd: packed },
};
if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(figures, null, 2) + "\n");
