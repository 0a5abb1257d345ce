import assert from "node:assert/strict";
import { openGpu } from "../gpu/mod.ts";
import { GpuRenderer } from "../render/mod.ts";
import { cornellBox, cornellSpheres, material } from "../scene/mod.ts";
import { MATERIAL, NODE, PUNCTUAL, PUNCTUAL_HEADER, TEXTURE_SLOTS, TRI } from "../gpu_layout/mod.ts";
import {
  compileScene,
  decodeRenderData,
  encodeRenderData,
  OCRD_VERSION,
  type RenderData,
  RenderDataError,
  renderDataHash,
  renderDataSections,
} from "./mod.ts";

const data = compileScene(cornellSpheres());
const file = encodeRenderData(data);

function sectionsOf(d: RenderData): Record<string, string> {
  return Object.fromEntries(renderDataSections(d).map((s) => [s.name, s.hash]));
}

Deno.test(".ocrd round-trips every section and the content hash", () => {
  const back = decodeRenderData(file);
  assert.deepEqual(sectionsOf(back), sectionsOf(data));
  assert.equal(renderDataHash(back), renderDataHash(data));
  assert.deepEqual(back.stats, { ...data.stats, bvhMs: 0 });
  assert.deepEqual(encodeRenderData(back), file);
});

Deno.test("a moved camera changes only the camera section's hash", () => {
  const scene = cornellSpheres();
  scene.camera.position = [278, 300, -750];
  const moved = sectionsOf(compileScene(scene));
  const before = sectionsOf(data);
  for (const name of Object.keys(before)) {
    if (name === "camera") assert.notEqual(moved[name], before[name]);
    else assert.equal(moved[name], before[name], name);
  }
});

Deno.test("rendering a scene and its .ocrd gives the same image", async () => {
  const gpu = await openGpu();
  try {
    const settings = { width: 24, height: 24, seed: 3, maxDepth: 8 };
    const sums: Float32Array[] = [];
    for (const d of [data, decodeRenderData(file)]) {
      const r = await GpuRenderer.create(gpu, d, settings);
      sums.push((await r.render({ start: 0, count: 8 })).sums);
      r.destroy();
    }
    assert.deepEqual(sums[0], sums[1]);
  } finally {
    gpu.device.destroy();
  }
});

function rejects(bytes: Uint8Array, pattern?: RegExp): void {
  assert.throws(() => decodeRenderData(bytes, "x.ocrd"), (e: unknown) => {
    assert.ok(e instanceof RenderDataError, `a RenderDataError, not ${e}`);
    assert.ok(!e.message.includes("\n"), "one line");
    assert.match(e.message, /^Cannot load "x.ocrd": /);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("a .ocrd truncated anywhere, at every section boundary included, is rejected cleanly", () => {
  const dv = new DataView(file.buffer);
  const boundaries = new Set<number>([0, 7, 8, 12, 16, 47, 48]);
  const count = dv.getUint32(12, true);
  for (let i = 0; i < count; i++) {
    const offset = Number(dv.getBigUint64(48 + i * 56 + 8, true)),
      length = Number(dv.getBigUint64(48 + i * 56 + 16, true));
    for (const b of [48 + i * 56, offset, offset + 1, offset + length - 1]) boundaries.add(b);
  }
  for (let cut = 0; cut < file.length; cut += 97) boundaries.add(cut);
  for (const cut of boundaries) if (cut < file.length) rejects(file.subarray(0, cut));
});

Deno.test("flipped bytes anywhere in a .ocrd are rejected cleanly", () => {
  // every 7th byte of a small file, and 300 positions spread over a larger one
  const small = encodeRenderData(compileScene(cornellBox()));
  const positions: [Uint8Array, number][] = [];
  for (let at = 0; at < small.length; at += 7) positions.push([small, at]);
  for (let k = 0; k < 300; k++) positions.push([file, Math.floor(k * file.length / 300)]);
  let checked = 0;
  for (const [bytes, at] of positions) {
    if (isPadding(bytes, at)) continue; // alignment padding between sections carries nothing
    const bad = bytes.slice();
    bad[at]! ^= 0x5a;
    rejects(bad);
    checked++;
  }
  assert.ok(checked > 500);
});

function isPadding(bytes: Uint8Array, at: number): boolean {
  const dv = new DataView(bytes.buffer);
  const count = dv.getUint32(12, true);
  if (at < 48 + count * 56) return false;
  for (let i = 0; i < count; i++) {
    const offset = Number(dv.getBigUint64(48 + i * 56 + 8, true)),
      length = Number(dv.getBigUint64(48 + i * 56 + 16, true));
    if (at >= offset && at < offset + length) return false;
  }
  return true;
}

Deno.test(".ocrd: wrong magic, future version and oversized section count give named errors", () => {
  const magic = file.slice();
  magic[0] = 0x58;
  rejects(magic, /wrong magic/);
  const future = file.slice();
  new DataView(future.buffer).setUint32(8, OCRD_VERSION + 1, true);
  rejects(future, /newer than this octane reads.*upgrade octane/);
  const many = file.slice();
  new DataView(many.buffer).setUint32(12, 1000, true);
  rejects(many, /section count 1000/);
  const past = file.slice();
  new DataView(past.buffer).setBigUint64(48 + 16, 1n << 40n, true);
  rejects(past, /past the end of the file/);
});

Deno.test(".ocrd with valid hashes but out-of-range indices is rejected (no GPU reads out of bounds or loops)", () => {
  const base = compileScene(cornellBox());
  const tamper = (f: (d: RenderData) => void, pattern: RegExp) => {
    const d: RenderData = {
      ...base,
      nodes: base.nodes.slice(0),
      triangles: base.triangles.slice(),
      lights: base.lights.slice(0),
    };
    f(d);
    rejects(encodeRenderData(d), pattern);
  };
  tamper((d) => NODE.write(d.nodes, 0, { first: 0 }), /BVH node 0 has children 0 and 1 out of order/);
  tamper((d) => {
    const nodes = Array.from({ length: NODE.count(d.nodes) }, (_, n) => n);
    const leaf = nodes.find((n) => NODE.get(d.nodes, n, "count") > 0)!;
    NODE.write(d.nodes, leaf, { first: 1_000_000 });
  }, /BVH leaf \d+ names triangles past/);
  tamper((d) => TRI.write(d.triangles, 0, { material: 99 }), /triangle 0 names material 99/);
  tamper((d) => new DataView(d.lights).setUint32(0, 5000, true), /light 0 names a triangle past/);
});

/** Render data whose BVH is `shape` ([first, count] per node), every box the scene's, leaves on triangle 0. */
function craftedBvh(shape: [first: number, count: number][]): RenderData {
  const base = compileScene(cornellBox());
  const root = NODE.read(base.nodes, 0);
  const nodes = NODE.alloc(shape.length);
  shape.forEach(([first, count], n) =>
    NODE.write(nodes, n, { bmin: root.bmin, bmax: root.bmax, first, count })
  );
  return { ...base, nodes, stats: { ...base.stats, nodes: shape.length } };
}

/** A chain: every interior node has an interior child and a leaf, `depth` levels below the root. */
function chain(depth: number): [number, number][] {
  const shape: [number, number][] = [[1, 0]];
  for (let level = 1; level <= depth; level++) {
    const interior = level < depth;
    shape.push(interior ? [2 * level + 1, 0] : [0, 1], [0, 1]); // node 2l-1, then its sibling leaf 2l
  }
  return shape;
}

Deno.test(".ocrd whose BVH is not a tree is refused: a lone interior node, shared children, depth over 64", () => {
  rejects(encodeRenderData(craftedBvh([[5, 0]])), /BVH node 0 is the only node and has children/);
  // nodes 1 and 2 share children 3 and 4: every ray would visit them twice (a deep DAG: millions of times)
  rejects(
    encodeRenderData(craftedBvh([[1, 0], [3, 0], [3, 0], [0, 1], [0, 1]])),
    /BVH node 3 has 2 parents: not a tree/,
  );
  // a node no one points at
  rejects(encodeRenderData(craftedBvh([[1, 0], [0, 1], [0, 1], [0, 1]])), /BVH node 3 has no parent/);
  rejects(encodeRenderData(craftedBvh(chain(65))), /BVH is 65 levels deep; at most 64/);
  assert.ok(decodeRenderData(encodeRenderData(craftedBvh(chain(64)))), "64 levels are fine");
});

Deno.test(".ocrd keeps punctual lights in their own section; scenes without them have none; a bad one is refused", () => {
  const scene = cornellBox();
  scene.lights = [{
    kind: "spot",
    position: [278, 500, 280],
    direction: [0, -1, 0],
    intensity: [100, 90, 80],
    innerConeAngle: 0.3,
    outerConeAngle: 0.6,
  }, {
    kind: "directional",
    position: [0, 0, 0],
    direction: [0, -1, 0],
    intensity: [1, 1, 1],
    innerConeAngle: Math.PI,
    outerConeAngle: Math.PI,
  }];
  const lit = compileScene(scene);
  const names = renderDataSections(lit).map((s) => s.name);
  assert.equal(names.filter((n) => n === "punctual").length, 1);
  assert.ok(!renderDataSections(data).some((s) => s.name === "punctual"), "a scene without punctual lights");
  const back = decodeRenderData(encodeRenderData(lit));
  assert.deepEqual(back.punctual, lit.punctual);
  assert.equal(renderDataHash(back), renderDataHash(lit));
  // the pick probabilities of environment, triangles and punctual lights make one distribution
  const h = PUNCTUAL_HEADER.read(lit.punctual!, 0);
  assert.ok(
    Math.abs(h.env_share + h.triangle_share + h.punctual_share - 1) < 1e-6 && h.triangle_share > 0 &&
      h.punctual_share > 0,
    `shares ${JSON.stringify(h)}`,
  );
  const tamper = (f: (block: Float32Array) => void, pattern: RegExp) => {
    const punctual = lit.punctual!.slice();
    f(punctual);
    rejects(encodeRenderData({ ...lit, punctual }), pattern);
  };
  const header = (b: Float32Array) => PUNCTUAL_HEADER.read(b, 0);
  const light = (k: number) => PUNCTUAL_HEADER.size + k * PUNCTUAL.size;
  tamper((b) => PUNCTUAL_HEADER.write(b, 0, { count: 3 }), /says 3 lights and holds 2/);
  tamper((b) => PUNCTUAL.writeAt(b, light(0), { kind: 7 }), /punctual light 0 has unknown kind 7/);
  tamper(
    (b) => PUNCTUAL.writeAt(b, light(1), { intensity: [1, NaN, 1] }),
    /punctual light 1 has a value that is not finite/,
  );
  tamper(
    (b) => PUNCTUAL.writeAt(b, light(0), { intensity: [-1, 1, 1] }),
    /punctual light 0 has a negative intensity/,
  );
  tamper((b) => PUNCTUAL_HEADER.write(b, 0, { triangle_share: 2 }), /pick probabilities are not in \[0, 1\]/);
  tamper(
    (b) => PUNCTUAL_HEADER.write(b, 0, { punctual_share: header(b).punctual_share / 2 }),
    /pick probabilities do not add up to 1/,
  );
  // the environment's share given to a scene without an environment map: the GPU would search a map
  tamper(
    (b) => PUNCTUAL_HEADER.write(b, 0, { env_share: header(b).triangle_share, triangle_share: 0 }),
    /picks an environment map the scene lacks/,
  );
});

Deno.test(".ocrd keeps the material extensions: clear coat, sheen, absorption, specular colour and their texture slots", () => {
  const scene = cornellSpheres();
  const texture = scene.textures.push({ width: 1, height: 1, rgba: new Uint8Array([255, 128, 0, 255]) }) - 1;
  scene.materials.push(material({
    clearcoat: 0.75,
    clearcoatRoughness: 0.25,
    clearcoatNormalScale: 0.5,
    sheenColor: [0.5, 0.25, 1],
    sheenRoughness: 0.625,
    kind: "dielectric",
    attenuationColor: [0.5, 1, 1],
    attenuationDistance: 2,
    specularColor: [1, 0.5, 0.25],
    sheenColorTexture: { texture },
    specularColorTexture: { texture },
  }));
  const compiled = compileScene(scene);
  const back = decodeRenderData(encodeRenderData(compiled));
  assert.deepEqual(back.materials, compiled.materials);
  const got = MATERIAL.read(back.materials, scene.materials.length - 1);
  const want = {
    clearcoat: [0.75],
    clearcoat_roughness: [0.25],
    clearcoat_normal_scale: [0.5],
    sheen_roughness: [0.625],
    sheen_color: [0.5, 0.25, 1],
    absorption: [Math.log(2) / 2, 0, 0],
    specular_color: [1, 0.5, 0.25],
  };
  for (const [name, values] of Object.entries(want)) {
    const have = [got[name as keyof typeof want]].flat();
    values.forEach((w, i) => assert.ok(Math.abs(have[i]! - w) < 1e-6, `${name}[${i}]: ${have[i]} vs ${w}`));
  }
  for (const slot of ["sheenColor", "specularColor"] as const) {
    assert.equal(got.tex[TEXTURE_SLOTS.indexOf(slot)]!.levels, 1, `${slot} texture present`);
  }
});
