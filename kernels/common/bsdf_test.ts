// Material extensions on the GPU: clear coat and sheen layers (energy, the coat's Fresnel, the sheen's
// grazing rise, MIS against BSDF sampling alone), volume absorption, and that scenes without them render as
// before.
import assert from "node:assert/strict";
import { openGpu } from "../../mod/gpu/mod.ts";
import { compileScene } from "../../mod/render_data/mod.ts";
import {
  cornellBox,
  furnace,
  type Material,
  material,
  quadMesh,
  type Scene,
  uvSphere,
  type Vec3,
} from "../../mod/scene/mod.ts";
import { sheenAlbedo } from "../../tools/sheen_table.ts";
import { meanImage } from "../../mod/render/image.ts";
import { renderLocal } from "../../mod/render/local.ts";
import { close, misAndBsdfMeans } from "../../mod/render/testing.ts";

const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());

/** Unpolarised Fresnel reflectance of a dielectric of index `ior` seen from air at cos θ = c. */
function fresnel(c: number, ior: number): number {
  const s2 = (1 - c * c) / (ior * ior), ct = Math.sqrt(1 - s2);
  const rs = (c - ior * ct) / (c + ior * ct), rp = (ior * c - ct) / (ior * c + ct);
  return 0.5 * (rs * rs + rp * rp);
}

/** Renders the furnace sphere (radius 1 under a uniform environment of 1) in `m`; red channel by pixel. */
async function furnaceImage(m: Material, size: number, spp: number): Promise<Float32Array> {
  const scene = furnace(1);
  scene.materials = [m];
  scene.meshes = [uvSphere([0, 0, 0], 1, 0, { segments: 96, rings: 48 })];
  const r = await renderLocal(gpu, compileScene(scene), { spp, width: size, height: size, maxDepth: 32 });
  const rgb = meanImage(r.sums, r.samples, size, size).rgb;
  return rgb.filter((_, i) => i % 3 === 0);
}

/** Pixels of the furnace sphere whose distance from the centre, in half image heights, is in [lo, hi). */
function ring(image: Float32Array, size: number, lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot((x + 0.5) / size * 2 - 1, (y + 0.5) / size * 2 - 1);
      if (d >= lo && d < hi) out.push(image[y * size + x]!);
    }
  }
  return out;
}

const mean = (v: ArrayLike<number>) => Array.from(v).reduce((s, x) => s + x, 0) / v.length;

Deno.test("white furnace with a clear coat and with a sheen: an albedo-1 sphere never reflects more than 1", async () => {
  const size = 32;
  const cases: [string, Material, number][] = [
    ["rough clear coat", material({ color: [1, 1, 1], clearcoat: 1, clearcoatRoughness: 0.3 }), 0.95],
    ["smooth clear coat", material({ color: [1, 1, 1], clearcoat: 1, clearcoatRoughness: 0 }), 0.99],
    // the sheen takes E(wo) and the base gets 1 - E(wo): white on white gives 1 wherever the table is exact
    ["sheen", material({ color: [1, 1, 1], sheenColor: [1, 1, 1], sheenRoughness: 0.5 }), 0.97],
    ["smooth sheen", material({ color: [1, 1, 1], sheenColor: [1, 1, 1], sheenRoughness: 0.1 }), 0.97],
    [
      "both over a rough specular layer",
      material({
        color: [1, 1, 1],
        specular: 1,
        roughness: 0.4,
        sheenColor: [1, 1, 1],
        sheenRoughness: 0.3,
        clearcoat: 1,
        clearcoatRoughness: 0.2,
      }),
      0.9,
    ],
  ];
  for (const [name, m, least] of cases) {
    const image = await furnaceImage(m, size, 64);
    const sphere = ring(image, size, 0, 0.6);
    const mu = mean(sphere);
    assert.ok(mu <= 1.01 && mu >= least, `${name}: sphere mean ${mu}`);
    for (const v of sphere) assert.ok(v <= 1.15, `${name}: a pixel of ${v}`);
    for (const v of ring(image, size, 0.9, 2)) assert.ok(close(v, 1, 1e-5), `${name}: background ${v}`);
  }
});

/** A quad of side 2s centred on c with outward normal n (one of the axes). */
function square(c: Vec3, n: Vec3, s: number): Vec3[] {
  const axes: Vec3[] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  const k = n.findIndex((v) => v !== 0);
  const [u, v] = axes.filter((_, i) => i !== k) as [Vec3, Vec3];
  const at = (a: number, b: number): Vec3 =>
    [0, 1, 2].map((i) => c[i]! + s * (a * u[i]! + b * v[i]!)) as Vec3;
  const q = [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
  // wind it so that its front face points along n
  const e1 = q[1]!.map((x, i) => x - q[0]![i]!), e2 = q[2]!.map((x, i) => x - q[0]![i]!);
  const cross = [
    e1[1]! * e2[2]! - e1[2]! * e2[1]!,
    e1[2]! * e2[0]! - e1[0]! * e2[2]!,
    e1[0]! * e2[1]! - e1[1]! * e2[0]!,
  ];
  return cross[k]! * n[k]! > 0 ? q : q.reverse();
}

Deno.test("clear coat alone (factor 1, roughness 0, black base) reflects the Fresnel reflectance of IOR 1.5", async () => {
  const size = 24, spp = 256, fov = 6;
  for (const degrees of [0, 45, 70]) {
    const t = degrees * Math.PI / 180;
    const dir: Vec3 = [0, Math.cos(t), Math.sin(t)];
    const scene: Scene = {
      materials: [material({ color: [0, 0, 0], specular: 0, clearcoat: 1, clearcoatRoughness: 0 })],
      meshes: [quadMesh([square([0, 0, 0], [0, 1, 0], 100)], 0)],
      camera: {
        position: [dir[0] * 10, dir[1] * 10, dir[2] * 10],
        target: [0, 0, 0],
        up: degrees === 0 ? [0, 0, -1] : [0, 1, 0],
        fovY: fov,
        lensRadius: 0,
        focusDistance: 10,
      },
      textures: [],
      environment: { color: [1, 1, 1] },
    };
    const r = await renderLocal(gpu, compileScene(scene), { spp, width: size, height: size, seed: 3 });
    const got = mean(meanImage(r.sums, r.samples, size, size).rgb.filter((_, i) => i % 3 === 0));
    // the rays fan out by ±3°: average the exact reflectance over the pixel centres
    const tan = Math.tan(fov / 2 * Math.PI / 180);
    let want = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const sx = ((x + 0.5) / size * 2 - 1) * tan, sy = (1 - (y + 0.5) / size * 2) * tan;
        // in the camera's frame, the plane's normal leans by t about the camera's right axis
        const len = Math.hypot(sx, sy, 1);
        const cos = degrees === 0 ? 1 / len : (Math.cos(t) - sy * Math.sin(t)) / len;
        want += fresnel(cos, 1.5) / (size * size);
      }
    }
    // each sample reflects 1 with the coat's probability F, else 0: allow 4 standard deviations
    const sigma = Math.sqrt(want * (1 - want) / (size * size * spp));
    assert.ok(Math.abs(got - want) < 4 * sigma + 0.003 * want, `${degrees}°: ${got} vs Fresnel ${want}`);
  }
});

Deno.test("sheen on a black base reflects more at grazing angles than head-on, by its albedo table", async () => {
  const size = 48;
  const image = await furnaceImage(
    material({ color: [0, 0, 0], specular: 0, sheenColor: [1, 1, 1], sheenRoughness: 0.5 }),
    size,
    64,
  );
  const centre = mean(ring(image, size, 0, 0.15));
  const rim = mean(ring(image, size, 0.62, 0.68));
  assert.ok(rim > 4 * centre, `rim ${rim} vs centre ${centre}`);
  // head-on (cos θ within 1% of 1) the sheen reflects its directional albedo under a white sky
  const e = sheenAlbedo(1, 0.5);
  assert.ok(close(centre, e, 0.15), `centre ${centre} vs E ${e}`);
});

Deno.test("NEE+MIS and BSDF sampling alone agree with clear-coated and sheen materials (image means to 2%)", async () => {
  const scene = cornellBox();
  const coated = scene.materials.push(
    material({ color: [0.8, 0.2, 0.2], clearcoat: 1, clearcoatRoughness: 0.15 }),
  ) - 1;
  const velvet = scene.materials.push(
    material({
      color: [0.2, 0.3, 0.8],
      sheenColor: [1, 0.9, 0.8],
      sheenRoughness: 0.4,
      specular: 1,
      roughness: 0.6,
    }),
  ) - 1;
  const lacquered = scene.materials.push(
    material({
      kind: "conductor",
      color: [1, 0.8, 0.4],
      roughness: 0.3,
      clearcoat: 0.8,
      clearcoatRoughness: 0,
    }),
  ) - 1;
  scene.meshes.push(uvSphere([370, 270, 300], 90, coated, { segments: 48, rings: 24 }));
  scene.meshes.push(uvSphere([170, 120, 200], 90, velvet, { segments: 48, rings: 24 }));
  scene.meshes.push(uvSphere([150, 350, 380], 70, lacquered, { segments: 48, rings: 24 }));
  const data = compileScene(scene);
  const [mis, bsdf] = await misAndBsdfMeans(gpu, data);
  assert.ok(close(mis, bsdf, 0.02), `MIS ${mis} vs BSDF-only ${bsdf}`);
});

Deno.test("materials without the extensions render as before: a scene that also holds an unused layered, absorbing material gives the same sums", async () => {
  const settings = { spp: 32, width: 24, height: 18, seed: 5 };
  const plain = await renderLocal(gpu, compileScene(cornellBox()), settings);
  const scene = cornellBox();
  scene.materials.push(material({
    kind: "dielectric",
    clearcoat: 1,
    sheenColor: [1, 1, 1],
    attenuationColor: [0.5, 0.5, 0.5],
    attenuationDistance: 1,
  }));
  const layered = await renderLocal(gpu, compileScene(scene), settings);
  let worst = 0;
  for (let i = 0; i < plain.sums.length; i++) {
    worst = Math.max(worst, Math.abs(plain.sums[i]! - layered.sums[i]!) / Math.max(plain.sums[i]!, 1e-3));
  }
  assert.ok(worst < 1e-4, `largest relative difference ${worst}`);
});

/** A closed box from `lo` to `hi`, outward-facing. */
function box(lo: Vec3, hi: Vec3, materialIndex: number) {
  const c: Vec3 = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
  const quads: Vec3[][] = [];
  for (let k = 0; k < 3; k++) {
    for (const side of [-1, 1]) {
      const n: Vec3 = [0, 0, 0];
      n[k] = side;
      const q = square(c, n, 1).map((p) =>
        p.map((v, i) => {
          if (i === k) return side < 0 ? lo[i]! : hi[i]!;
          return v < c[i]! ? lo[i]! : hi[i]!;
        }) as Vec3
      );
      quads.push(q);
    }
  }
  return quadMesh(quads, materialIndex);
}

/**
 * A slab of material `glass` (material 0), `thickness` deep and 6 wide, centred on the origin across z, in
 * front of a lamp of radiance 1 (material 1), seen head-on through a narrow view from +z in the dark.
 */
function slabScene(glass: Material, thickness: number, textures: Scene["textures"]): Scene {
  const lamp = material({ color: [0, 0, 0], emission: [1, 1, 1] });
  return {
    materials: [glass, lamp],
    meshes: [
      box([-3, -3, -thickness / 2], [3, 3, thickness / 2], 0),
      quadMesh([square([0, 0, -4], [0, 0, 1], 8)], 1),
    ],
    camera: {
      position: [0, 0, 6],
      target: [0, 0, 0],
      up: [0, 1, 0],
      fovY: 4,
      lensRadius: 0,
      focusDistance: 6,
    },
    textures,
    environment: { color: [0, 0, 0] },
  };
}

Deno.test("volume attenuation: glass slabs of thickness 1 and 2 transmit in the ratio attenuationColor^(Δd / distance)", async () => {
  const color: Vec3 = [0.8, 0.5, 0.2];
  const size = 16;
  const transmitted: number[][] = [];
  for (const d of [1, 2]) {
    const glass = material({ kind: "dielectric", ior: 1.5, attenuationColor: color, attenuationDistance: 1 });
    const r = await renderLocal(gpu, compileScene(slabScene(glass, d, [])), {
      spp: 256,
      width: size,
      height: size,
      maxDepth: 32,
    });
    const rgb = meanImage(r.sums, r.samples, size, size).rgb;
    transmitted.push([0, 1, 2].map((c) => mean(rgb.filter((_, i) => i % 3 === c))));
  }
  const r = fresnel(1, 1.5);
  for (let c = 0; c < 3; c++) {
    const ratio = transmitted[1]![c]! / transmitted[0]![c]!;
    assert.ok(close(ratio, color[c]!, 0.02), `channel ${c}: ratio ${ratio} vs ${color[c]}`);
    // through two interfaces, with the light that bounces back and forth between them
    const a = color[c]!;
    const want = (1 - r) ** 2 * a / (1 - r * r * a * a);
    assert.ok(close(transmitted[0]![c]!, want, 0.02), `channel ${c}: ${transmitted[0]![c]} vs ${want}`);
  }
});

Deno.test("extension textures multiply their factors: clearcoat (R), specular colour (sRGB), transmission (R)", async () => {
  const size = 16, spp = 256;
  const texel = (r: number, g: number, b: number) => ({
    width: 1,
    height: 1,
    rgba: new Uint8Array([r, g, b, 255]),
  });
  const render = async (m: Material, glass = false) => {
    const scene: Scene = glass ? slabScene(m, 1, [texel(0, 0, 0)]) : {
      materials: [m],
      meshes: [quadMesh([square([0, 0, 0], [0, 1, 0], 100)], 0)],
      camera: {
        position: [0, 10, 0],
        target: [0, 0, 0],
        up: [0, 0, -1],
        fovY: 4,
        lensRadius: 0,
        focusDistance: 10,
      },
      textures: [texel(128, 0, 0), texel(255, 0, 255)],
      environment: { color: [1, 1, 1] },
    };
    const r = await renderLocal(gpu, compileScene(scene), {
      spp,
      width: size,
      height: size,
      seed: 2,
      maxDepth: 16,
    });
    const rgb = meanImage(r.sums, r.samples, size, size).rgb;
    return [0, 1, 2].map((c) => mean(rgb.filter((_, i) => i % 3 === c)));
  };
  const f0 = fresnel(1, 1.5);
  // a coat of factor 1 times a texel of 128/255 (linear) reflects that fraction of its Fresnel head-on
  const coat = await render(
    material({
      color: [0, 0, 0],
      specular: 0,
      clearcoat: 1,
      clearcoatRoughness: 0,
      clearcoatTexture: { texture: 0 },
    }),
  );
  const want = f0 * 128 / 255, sigma = Math.sqrt(want * (1 - want) / (size * size * spp));
  assert.ok(Math.abs(coat[0]! - want) < 4 * sigma + 0.003 * want, `clearcoat texture: ${coat[0]} vs ${want}`);
  // a magenta specular colour: the mirror-smooth specular layer reflects red and blue, not green
  const spec = await render(
    material({ color: [0, 0, 0], specular: 1, roughness: 0, specularColorTexture: { texture: 1 } }),
  );
  // (each sample reflects with probability f0: allow 4 standard deviations)
  const s0 = Math.sqrt(f0 * (1 - f0) / (size * size * spp));
  for (const c of [0, 2]) {
    assert.ok(Math.abs(spec[c]! - f0) < 4 * s0 + 0.01 * f0, `specular colour texture: ${spec}`);
  }
  // (Schlick's grazing term remains: (1 - cos)^5 < 1e-14 within 2° of head-on)
  assert.ok(spec[1]! < 1e-9, `specular colour texture: green ${spec[1]}`);
  // glass whose transmission texture is 0 is an opaque white surface, dark with the lamp behind it
  const glass = material({ kind: "dielectric", ior: 1.5, transmissionTexture: { texture: 0 } });
  const clear = await render(material({ kind: "dielectric", ior: 1.5 }), true);
  const blocked = await render(glass, true);
  assert.ok(
    clear[0]! > 0.85 && blocked[0]! < 0.01,
    `transmission texture: ${blocked[0]} vs clear ${clear[0]}`,
  );
});
