import assert from "node:assert/strict";
import {
  LIGHT_ENTRY,
  MATERIAL,
  NO_FEATURES,
  PUNCTUAL_HEADER,
  TEXTURE_SLOTS,
  TRI,
} from "../gpu_layout/mod.ts";
import { cornellBox, cornellSpheres, material } from "../scene/mod.ts";
import {
  compileScene,
  decodeRenderData,
  encodeRenderData,
  renderDataHash,
  renderDataSections,
} from "./mod.ts";
import { spotAndSun } from "./_testing.ts";

const data = compileScene(cornellSpheres());

Deno.test("punctual lights: their own section, one pick distribution by power with the triangles, kept by .ocrd; scenes without them have none", () => {
  const scene = spotAndSun();
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

Deno.test("compileScene records what the scene uses: each feature on exactly where a material, light or map needs it", () => {
  const off = NO_FEATURES;
  assert.deepEqual(compileScene(cornellBox()).features, { ...off, triangleLights: true });
  // glass (transmission, specular) and two conductors (metal, specular)
  assert.deepEqual(data.features, {
    ...off,
    triangleLights: true,
    transmission: true,
    specular: true,
    metal: true,
  });
  assert.deepEqual(compileScene(spotAndSun()).features, { ...off, triangleLights: true, punctual: true });
  const scene = cornellBox();
  const texture = scene.textures.push({ width: 1, height: 1, rgba: new Uint8Array([255, 255, 255, 255]) }) -
    1;
  scene.materials.push(
    material({ clearcoat: 0.5 }),
    material({ kind: "dielectric", attenuationColor: [0.5, 1, 1], attenuationDistance: 1 }),
    material({ alphaMode: "mask", baseColorTexture: { texture, texCoord: 1 } }),
  );
  scene.environment = { color: [0, 0, 0], map: { width: 2, height: 1, rgb: new Float32Array(6).fill(1) } };
  assert.deepEqual(compileScene(scene).features, {
    ...off,
    textures: true,
    alphaMask: true,
    uv1: true,
    layers: true,
    volume: true,
    transmission: true,
    specular: true,
    envMap: true,
    triangleLights: true,
  });
  // the features travel in the settings section and come back as they went
  assert.deepEqual(
    decodeRenderData(encodeRenderData(compileScene(scene))).features,
    compileScene(scene).features,
  );
});

Deno.test("emissive triangles: one LIGHT_ENTRY each, picked in proportion to area x luminance, the CDF ending at 1", () => {
  const box = compileScene(cornellBox());
  const entries = Array.from({ length: box.stats.lights }, (_, k) => LIGHT_ENTRY.read(box.lights, k));
  assert.equal(entries.length, 2, "the light quad's two triangles");
  assert.equal(entries.at(-1)!.cdf, 1);
  let previous = 0;
  for (const e of entries) {
    const tri = TRI.read(box.triangles, e.tri);
    assert.ok(tri.light_prob > 0, "an emissive triangle carries its pick probability");
    assert.ok(Math.abs(e.cdf - previous - tri.light_prob) < 1e-6, "the CDF steps by each one's probability");
    previous = e.cdf;
  }
  const dark = Array.from({ length: box.stats.triangles }, (_, t) => TRI.read(box.triangles, t))
    .filter((t) => t.light_prob === 0);
  assert.equal(dark.length, box.stats.triangles - 2);
});
