import { getLogger } from "@logtape/logtape";
import { NODE } from "../gpu_layout/mod.ts";
import type { Scene } from "../scene/types.ts";
import { buildBvh } from "./bvh.ts";
import { cameraBlock } from "./camera_block.ts";
import { sceneFeatures } from "./features.ts";
import { packEnvironment } from "./_pack_environment.ts";
import { flattenMeshes, packTriangles } from "./_pack_geometry.ts";
import { packMaterials } from "./_pack_materials.ts";
import { packPunctual } from "./_pack_punctual.ts";
import type { CompileOptions, RenderData } from "./types.ts";

const log = getLogger(["octane", "render-data"]);

/**
 * Compiles a scene into render data: flattens meshes into triangles with their attributes, builds the
 * BVH, packs materials and textures (with their mip chains), builds the emissive-triangle distribution
 * and the camera block, and records the scene's features.
 * @example
 * ```ts
 * import { cornellBox } from "../scene/cornell.ts";
 * const data = compileScene(cornellBox());
 * ```
 */
export function compileScene(scene: Scene, options: CompileOptions = {}): RenderData {
  const soup = flattenMeshes(scene);
  const started = performance.now();
  const bvh = buildBvh(soup.positions);
  const bvhMs = performance.now() - started;

  const packed = packMaterials(scene, options.mipmaps ?? true);
  const { block: environment, words: envWords } = packEnvironment(
    scene.environment,
    packed.texels.length / 4,
  );
  const texels = new Uint8Array(packed.texels.length + envWords.byteLength);
  texels.set(packed.texels);
  texels.set(new Uint8Array(envWords.buffer), packed.texels.length);

  const tris = packTriangles(soup, bvh.order, scene.materials, packed.emissionScale);
  const punctual = packPunctual(scene.lights ?? [], {
    trianglePower: Math.PI * tris.trianglePower,
    environment,
    radius: boundsRadius(bvh.nodes),
  });

  const stats = { triangles: soup.count, nodes: bvh.nodeCount, lights: tris.lightCount, bvhMs };
  log.debug("Compiled {triangles} triangles into {nodes} BVH nodes in {ms} ms", {
    ...stats,
    ms: bvhMs.toFixed(1),
  });
  const sections = { materials: packed.materials, environment, ...(punctual ? { punctual } : {}), stats };
  return {
    // an automatic camera is placed after compiling, by `placeCamera` (interior.ts)
    camera: cameraBlock(scene.camera),
    nodes: bvh.nodes,
    triangles: tris.triangles,
    attributes: tris.attributes,
    materials: packed.materials,
    texels,
    lights: tris.lights,
    environment,
    ...(punctual ? { punctual } : {}),
    features: sceneFeatures(sections),
    stats,
  };
}

/** The radius of the sphere around the BVH root's box. */
function boundsRadius(nodes: ArrayBuffer): number {
  const root = NODE.read(nodes, 0);
  const r = Math.hypot(...root.bmax.map((x, i) => x - root.bmin[i]!)) / 2;
  return Number.isFinite(r) ? r : 0;
}
