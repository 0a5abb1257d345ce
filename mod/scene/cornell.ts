import { type Camera, material, type Mesh, type Scene, type Vec3 } from "./types.ts";

// The published Cornell box measurements (Cornell University Program of Computer Graphics), in mm.
// The light sits in a hole of the ceiling at y = 548.8, so the ceiling is four quads around it.
const LIGHT: Vec3[] = [[343, 548.8, 227], [343, 548.8, 332], [213, 548.8, 332], [213, 548.8, 227]];

const WHITE_QUADS: Vec3[][] = [
  // floor
  [[552.8, 0, 0], [0, 0, 0], [0, 0, 559.2], [549.6, 0, 559.2]],
  // ceiling, around the light (faces down)
  [[556, 548.8, 0], [556, 548.8, 227], [0, 548.8, 227], [0, 548.8, 0]],
  [[556, 548.8, 332], [556, 548.8, 559.2], [0, 548.8, 559.2], [0, 548.8, 332]],
  [[556, 548.8, 227], [556, 548.8, 332], [343, 548.8, 332], [343, 548.8, 227]],
  [[213, 548.8, 227], [213, 548.8, 332], [0, 548.8, 332], [0, 548.8, 227]],
  // back wall
  [[549.6, 0, 559.2], [0, 0, 559.2], [0, 548.8, 559.2], [556, 548.8, 559.2]],
  // short block
  [[130, 165, 65], [82, 165, 225], [240, 165, 272], [290, 165, 114]],
  [[290, 0, 114], [290, 165, 114], [240, 165, 272], [240, 0, 272]],
  [[130, 0, 65], [130, 165, 65], [290, 165, 114], [290, 0, 114]],
  [[82, 0, 225], [82, 165, 225], [130, 165, 65], [130, 0, 65]],
  [[240, 0, 272], [240, 165, 272], [82, 165, 225], [82, 0, 225]],
  // tall block
  [[423, 330, 247], [265, 330, 296], [314, 330, 456], [472, 330, 406]],
  [[423, 0, 247], [423, 330, 247], [472, 330, 406], [472, 0, 406]],
  [[472, 0, 406], [472, 330, 406], [314, 330, 456], [314, 0, 456]],
  [[314, 0, 456], [314, 330, 456], [265, 330, 296], [265, 0, 296]],
  [[265, 0, 296], [265, 330, 296], [423, 330, 247], [423, 0, 247]],
];
const RED_QUADS: Vec3[][] = [[[552.8, 0, 0], [549.6, 0, 559.2], [556, 548.8, 559.2], [556, 548.8, 0]]];
const GREEN_QUADS: Vec3[][] = [[[0, 0, 559.2], [0, 0, 0], [0, 548.8, 0], [0, 548.8, 559.2]]];

/** Builds a mesh of quads (each split into two triangles) with one material. */
export function quadMesh(quads: Vec3[][], materialIndex: number): Mesh {
  const positions = new Float32Array(quads.length * 12);
  const indices = new Uint32Array(quads.length * 6);
  quads.forEach((q, i) => {
    q.forEach((v, j) => positions.set(v, i * 12 + j * 3));
    const b = i * 4;
    indices.set([b, b + 1, b + 2, b, b + 2, b + 3], i * 6);
  });
  return { positions, indices, material: materialIndex };
}

/** The Cornell box camera: at (278, 273, -800) looking +z, 35 mm focal length on a 25 mm film. */
export function cornellCamera(): Camera {
  return {
    position: [278, 273, -800],
    target: [278, 273, 0],
    up: [0, 1, 0],
    fovY: 2 * Math.atan(0.025 / 2 / 0.035) * 180 / Math.PI,
    lensRadius: 0,
    focusDistance: 800,
  };
}

/**
 * The Cornell box from the published Cornell data, with RGB reflectances and a warm area light.
 * @returns a scene of 36 triangles, 2 of them emissive, under a black environment
 */
export function cornellBox(): Scene {
  return {
    materials: [
      material({ name: "white", color: [0.725, 0.71, 0.68] }),
      material({ name: "red", color: [0.63, 0.065, 0.05] }),
      material({ name: "green", color: [0.14, 0.45, 0.091] }),
      material({ name: "light", color: [0.78, 0.78, 0.78], emission: [17, 12, 4] }),
    ],
    meshes: [
      quadMesh(WHITE_QUADS, 0),
      quadMesh(RED_QUADS, 1),
      quadMesh(GREEN_QUADS, 2),
      quadMesh([LIGHT], 3),
    ],
    camera: cornellCamera(),
    textures: [],
    environment: { color: [0, 0, 0] },
  };
}
