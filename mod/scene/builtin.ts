import { cornellBox } from "./cornell.ts";
import { uvSphere } from "./shapes.ts";
import { material, type Scene } from "./types.ts";

/** A sphere under a uniform environment: with albedo 1 it vanishes (the white furnace test). */
export function furnace(albedo = 1): Scene {
  return {
    materials: [material({ name: "furnace sphere", color: [albedo, albedo, albedo] })],
    meshes: [uvSphere([0, 0, 0], 1, 0, { segments: 64, rings: 32 })],
    camera: {
      position: [0, 0, -4],
      target: [0, 0, 0],
      up: [0, 1, 0],
      fovY: 40,
      lensRadius: 0,
      focusDistance: 4,
    },
    textures: [],
    environment: { color: [1, 1, 1] },
  };
}

/** The Cornell box with a glass sphere, a rough gold sphere and a mirror sphere in place of the blocks. */
export function cornellSpheres(): Scene {
  const box = cornellBox();
  // keep the walls, floor, ceiling and light; drop the ten block quads (20 triangles) from the white mesh
  const white = box.meshes[0]!;
  const keep = white.indices.length - 10 * 6;
  box.meshes[0] = { ...white, indices: white.indices.slice(0, keep) };
  const glass =
    box.materials.push(material({ name: "glass", kind: "dielectric", color: [1, 1, 1], ior: 1.5 })) - 1;
  const gold = box.materials.push(
    material({ name: "rough gold", kind: "conductor", color: [1.0, 0.71, 0.29], roughness: 0.35 }),
  ) - 1;
  const mirror = box.materials.push(
    material({ name: "mirror", kind: "conductor", color: [0.95, 0.95, 0.95], roughness: 0 }),
  ) - 1;
  box.meshes.push(
    uvSphere([400, 100, 380], 100, gold, { segments: 64, rings: 32 }),
    uvSphere([170, 100, 200], 100, glass, { segments: 64, rings: 32 }),
    uvSphere([330, 70, 130], 70, mirror, { segments: 64, rings: 32 }),
  );
  box.camera.lensRadius = 4;
  box.camera.focusDistance = 930;
  return box;
}

/** Built-in scenes by name; `cornell` is the default scene. */
export const BUILTIN_SCENES: Record<string, () => Scene> = {
  cornell: cornellBox,
  "cornell-spheres": cornellSpheres,
  furnace: () => furnace(1),
};
