// The trust boundary: render data with valid hashes whose contents lie is refused with one line naming what
// is wrong, before any GPU reads it.
import { NODE, PUNCTUAL, PUNCTUAL_HEADER, TRI } from "../gpu_layout/mod.ts";
import assert from "node:assert/strict";

import { cornellBox } from "../scene/mod.ts";
import {
  compileScene,
  decodeRenderData,
  encodeRenderData,
  type RenderData,
  renderDataFromSections,
  renderDataSections,
} from "./mod.ts";
import { rejects, spotAndSun } from "./_testing.ts";

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

Deno.test("a punctual section that lies about its count, kinds, values or shares is refused", () => {
  const lit = compileScene(spotAndSun());
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

Deno.test("settings whose recorded features differ from what the sections use are refused; render data without them gets them derived", () => {
  const sections = renderDataSections(compileScene(cornellBox()));
  const settings = sections.find((s) => s.name === "settings")!;
  const json = JSON.parse(new TextDecoder().decode(settings.bytes));
  const withSettings = (value: unknown) => {
    const found = new Map(sections.map((s) => [s.name, s.bytes]));
    found.set("settings", new TextEncoder().encode(JSON.stringify(value)));
    return () => renderDataFromSections(found, "x.ocrd");
  };
  // a claim that the scene has no emissive triangles would compile their light sampling out
  assert.throws(
    withSettings({ ...json, features: { ...json.features, triangleLights: false } }),
    /feature triangleLights is false, the sections say otherwise/,
  );
  assert.throws(withSettings({ ...json, features: { textures: "yes" } }), /not a boolean for each feature/);
  const { features: _, ...old } = json;
  assert.deepEqual(withSettings(old)().features, json.features);
});
