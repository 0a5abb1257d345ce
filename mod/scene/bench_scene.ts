import { cornellSpheres } from "./builtin.ts";
import { uvSphere } from "./shapes.ts";
import { material, type Scene } from "./types.ts";

/**
 * A heavy scene for benchmarks: the Cornell box around one bumpy sphere of about `triangles` triangles
 * (a real-world-sized mesh where traversal, not shading, dominates).
 */
export function bumpySphereBox(triangles = 520_000): Scene {
  const scene = cornellSpheres();
  scene.meshes = scene.meshes.slice(0, 4); // walls, red, green, light
  scene.materials.push(material({ name: "bumpy", color: [0.7, 0.7, 0.7] }));
  // 2 * segments * (rings - 1) triangles with segments = 2 * rings
  const rings = Math.max(4, Math.round(Math.sqrt(triangles / 4)));
  scene.meshes.push(
    uvSphere([278, 190, 280], 150, scene.materials.length - 1, {
      segments: rings * 2,
      rings,
      displace: (x, y, z) => 8 * Math.sin(14 * x) * Math.sin(14 * y) * Math.sin(14 * z),
    }),
  );
  scene.camera.lensRadius = 0;
  return scene;
}
