import assert from "node:assert/strict";
import { Document, NodeIO } from "@gltf-transform/core";
import {
  ALL_EXTENSIONS,
  KHRMaterialsClearcoat,
  KHRMaterialsEmissiveStrength,
  KHRMaterialsSheen,
  KHRMaterialsSpecular,
  KHRMaterialsTransmission,
  KHRMaterialsVolume,
} from "@gltf-transform/extensions";
import { encodePng } from "../render/image.ts";
import { openGpu } from "../gpu/mod.ts";
import { compileScene } from "../render_data/mod.ts";
import { meanImage, renderLocal } from "../render/mod.ts";
import { CameraNotFoundError, GltfError, loadGltf, SUPPORTED_EXTENSIONS } from "./gltf.ts";

/** A unit quad in the z = 0 plane facing +z, seen head-on by a camera at z = 2 with a 40° field of view. */
function quadDocument(setup: (doc: Document) => ReturnType<Document["createMaterial"]>): Document {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const positions = doc.createAccessor().setType("VEC3").setBuffer(buffer).setArray(
    new Float32Array([-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0]),
  );
  const uvs = doc.createAccessor().setType("VEC2").setBuffer(buffer).setArray(
    new Float32Array([0, 1, 1, 1, 1, 0, 0, 0]),
  );
  const indices = doc.createAccessor().setType("SCALAR").setBuffer(buffer).setArray(
    new Uint16Array([0, 1, 2, 0, 2, 3]),
  );
  const prim = doc.createPrimitive().setAttribute("POSITION", positions).setAttribute("TEXCOORD_0", uvs)
    .setIndices(indices).setMaterial(setup(doc));
  const camera = doc.createCamera("head-on").setType("perspective").setYFov(40 * Math.PI / 180).setZNear(
    0.01,
  );
  const scene = doc.createScene();
  scene.addChild(doc.createNode("quad").setMesh(doc.createMesh().addPrimitive(prim)));
  scene.addChild(doc.createNode("camera").setCamera(camera).setTranslation([0, 0, 2]));
  doc.getRoot().setDefaultScene(scene);
  return doc;
}

async function write(doc: Document): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "octane-gltf-" });
  await new NodeIO().registerExtensions(ALL_EXTENSIONS).write(`${dir}/quad.gltf`, doc);
  return `${dir}/quad.gltf`;
}

const gpu = await openGpu();
globalThis.addEventListener("unload", () => gpu.device.destroy());

Deno.test("glTF: an emissive quad seen head-on renders at its emissive factor times KHR_materials_emissive_strength", async () => {
  const path = await write(quadDocument((doc) => {
    const strength = doc.createExtension(KHRMaterialsEmissiveStrength).createEmissiveStrength()
      .setEmissiveStrength(2.5);
    const specular = doc.createExtension(KHRMaterialsSpecular).createSpecular().setSpecularFactor(0);
    return doc.createMaterial().setBaseColorFactor([0, 0, 0, 1]).setEmissiveFactor([0.2, 0.4, 0.6])
      .setExtension("KHR_materials_emissive_strength", strength).setExtension(
        "KHR_materials_specular",
        specular,
      );
  }));
  const scene = await loadGltf(path);
  assert.deepEqual(
    scene.environment.color,
    [0, 0, 0],
    "an emissive material is a light: no default environment",
  );
  const r = await renderLocal(gpu, compileScene(scene), { spp: 4, width: 16, height: 16 });
  const img = meanImage(r.sums, r.samples, 16, 16);
  const centre = (8 * 16 + 8) * 3;
  const got = [...img.rgb.subarray(centre, centre + 3)];
  [0.5, 1.0, 1.5].forEach((want, c) =>
    assert.ok(Math.abs(got[c]! - want) < 1e-4, `channel ${c}: ${got[c]} vs ${want}`)
  );
  await Deno.remove(path.replace(/\/quad.gltf$/, ""), { recursive: true });
});

Deno.test("glTF: a texture's colours appear where the UVs put them", async () => {
  // 2x2 emissive texture: red, green / blue, white; sRGB 255 decodes to exactly 1
  const png = encodePng({ width: 2, height: 2, rgb: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]) });
  const path = await write(quadDocument((doc) => {
    const tex = doc.createTexture("quadrants").setImage(png).setMimeType("image/png");
    const specular = doc.createExtension(KHRMaterialsSpecular).createSpecular().setSpecularFactor(0);
    return doc.createMaterial().setBaseColorFactor([0, 0, 0, 1]).setEmissiveFactor([1, 1, 1])
      .setEmissiveTexture(tex)
      .setExtension("KHR_materials_specular", specular);
  }));
  const size = 64;
  const r = await renderLocal(gpu, compileScene(await loadGltf(path)), { spp: 4, width: size, height: size });
  const img = meanImage(r.sums, r.samples, size, size);
  // the pixel showing world point (wx, wy) of the quad: the view's half height at distance 2 is 2 tan 20°
  const half = 2 * Math.tan(20 * Math.PI / 180);
  const at = (wx: number, wy: number) => {
    const x = Math.floor((0.5 + wx / half / 2) * size), y = Math.floor((0.5 - wy / half / 2) * size);
    return [...img.rgb.subarray((y * size + x) * 3, (y * size + x) * 3 + 3)];
  };
  // texel centres are at u, v = 0.25 and 0.75, that is world x, y = ±0.5
  // a pixel's footprint reaches 0.01 of a texel past the centre: bilinear filtering blends in that much
  const near = (got: number[], want: number[], what: string) =>
    want.forEach((w, c) =>
      assert.ok(Math.abs(got[c]! - w) < 0.03, `${what}: channel ${c} is ${got[c]}, not ${w}`)
    );
  near(at(-0.5, 0.5), [1, 0, 0], "top left is red");
  near(at(0.5, 0.5), [0, 1, 0], "top right is green");
  near(at(-0.5, -0.5), [0, 0, 1], "bottom left is blue");
  near(at(0.5, -0.5), [1, 1, 1], "bottom right is white");
  await Deno.remove(path.replace(/\/quad.gltf$/, ""), { recursive: true });
});

Deno.test("glTF: a texture with texCoord 1 reads TEXCOORD_1 (the loader keeps both sets)", async () => {
  const png = encodePng({ width: 2, height: 2, rgb: new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]) });
  const doc = quadDocument((doc) => {
    const tex = doc.createTexture("quadrants").setImage(png).setMimeType("image/png");
    const specular = doc.createExtension(KHRMaterialsSpecular).createSpecular().setSpecularFactor(0);
    const material = doc.createMaterial().setBaseColorFactor([0, 0, 0, 1]).setEmissiveFactor([1, 1, 1])
      .setEmissiveTexture(tex)
      .setExtension("KHR_materials_specular", specular);
    material.getEmissiveTextureInfo()!.setTexCoord(1);
    return material;
  });
  // set 1 mirrors set 0 left to right
  const uv1 = doc.createAccessor().setType("VEC2").setBuffer(doc.getRoot().listBuffers()[0]!).setArray(
    new Float32Array([1, 1, 0, 1, 0, 0, 1, 0]),
  );
  doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!.setAttribute("TEXCOORD_1", uv1);
  const path = await write(doc);
  const scene = await loadGltf(path);
  assert.equal(scene.materials[0]!.emissiveTexture?.texCoord, 1);
  assert.deepEqual([...scene.meshes[0]!.uvs1!], [1, 1, 0, 1, 0, 0, 1, 0]);
  const size = 32;
  const r = await renderLocal(gpu, compileScene(scene), { spp: 2, width: size, height: size });
  const img = meanImage(r.sums, r.samples, size, size);
  const half = 2 * Math.tan(20 * Math.PI / 180);
  const at = (wx: number, wy: number) => {
    const x = Math.floor((0.5 + wx / half / 2) * size), y = Math.floor((0.5 - wy / half / 2) * size);
    return [...img.rgb.subarray((y * size + x) * 3, (y * size + x) * 3 + 3)].map((v) =>
      Math.round(v * 10) / 10
    );
  };
  assert.deepEqual(at(-0.5, 0.5), [0, 1, 0], "top left shows set 1's green");
  assert.deepEqual(at(0.5, 0.5), [1, 0, 0], "top right shows set 1's red");
  assert.deepEqual(at(-0.5, -0.5), [1, 1, 1], "bottom left shows set 1's white");
  await Deno.remove(path.replace(/\/quad.gltf$/, ""), { recursive: true });
});

Deno.test("glTF: the named camera is used; an unknown name lists the cameras; broken files give one-line errors", async () => {
  const path = await write(quadDocument((doc) => doc.createMaterial()));
  const scene = await loadGltf(path, { camera: "head-on" });
  assert.deepEqual(scene.camera.position, [0, 0, 2]);
  assert.ok(Math.abs(scene.camera.fovY - 40) < 1e-4);
  await assert.rejects(
    loadGltf(path, { camera: "side" }),
    (e: unknown) => e instanceof CameraNotFoundError && /its cameras are "head-on"/.test(e.message),
  );
  await Deno.writeTextFile(path, "{ not json");
  await assert.rejects(loadGltf(path), (e: unknown) => e instanceof GltfError && !e.message.includes("\n"));
  await Deno.remove(path.replace(/\/quad.gltf$/, ""), { recursive: true });
});

Deno.test("glTF: clearcoat, sheen, volume, transmission and specular extensions and their textures are read", async () => {
  const png = encodePng({ width: 1, height: 1, rgb: new Float32Array([1, 1, 1]) });
  const path = await write(quadDocument((doc) => {
    const tex = (name: string) => doc.createTexture(name).setImage(png).setMimeType("image/png");
    const coat = doc.createExtension(KHRMaterialsClearcoat).createClearcoat().setClearcoatFactor(0.75)
      .setClearcoatRoughnessFactor(0.25).setClearcoatTexture(tex("coat")).setClearcoatRoughnessTexture(
        tex("coat roughness"),
      ).setClearcoatNormalTexture(tex("coat normal")).setClearcoatNormalScale(0.5);
    const sheen = doc.createExtension(KHRMaterialsSheen).createSheen().setSheenColorFactor([0.5, 0.25, 1])
      .setSheenRoughnessFactor(0.625).setSheenColorTexture(tex("sheen")).setSheenRoughnessTexture(
        tex("sheen roughness"),
      );
    const volume = doc.createExtension(KHRMaterialsVolume).createVolume().setThicknessFactor(1)
      .setAttenuationColor([0.5, 0.75, 1]).setAttenuationDistance(2);
    const transmission = doc.createExtension(KHRMaterialsTransmission).createTransmission()
      .setTransmissionFactor(1).setTransmissionTexture(tex("transmission"));
    const specular = doc.createExtension(KHRMaterialsSpecular).createSpecular().setSpecularFactor(0.5)
      .setSpecularTexture(tex("specular")).setSpecularColorFactor([1, 0.5, 0.25]).setSpecularColorTexture(
        tex("specular colour"),
      );
    return doc.createMaterial().setExtension("KHR_materials_clearcoat", coat)
      .setExtension("KHR_materials_sheen", sheen).setExtension("KHR_materials_volume", volume)
      .setExtension("KHR_materials_transmission", transmission).setExtension(
        "KHR_materials_specular",
        specular,
      );
  }));
  const m = (await loadGltf(path)).materials[0]!;
  assert.equal(m.clearcoat, 0.75);
  assert.equal(m.clearcoatRoughness, 0.25);
  assert.equal(m.clearcoatNormalScale, 0.5);
  assert.deepEqual(m.sheenColor, [0.5, 0.25, 1]);
  assert.equal(m.sheenRoughness, 0.625);
  assert.deepEqual(m.attenuationColor, [0.5, 0.75, 1]);
  assert.equal(m.attenuationDistance, 2);
  assert.equal(m.transmission, 1);
  assert.equal(m.specular, 0.5);
  assert.deepEqual(m.specularColor, [1, 0.5, 0.25]);
  for (
    const slot of [
      "clearcoatTexture",
      "clearcoatRoughnessTexture",
      "clearcoatNormalTexture",
      "sheenColorTexture",
      "sheenRoughnessTexture",
      "transmissionTexture",
      "specularTexture",
      "specularColorTexture",
    ] as const
  ) {
    assert.ok(m[slot] !== undefined, `${slot} is read`);
  }
  for (const name of ["KHR_materials_clearcoat", "KHR_materials_sheen", "KHR_materials_volume"]) {
    assert.ok(SUPPORTED_EXTENSIONS.has(name), `${name} is not warned about`);
  }
  await Deno.remove(path.replace(/\/quad.gltf$/, ""), { recursive: true });
});

Deno.test("glTF: a volume of thicknessFactor 0 is thin-walled by the spec: no attenuation", async () => {
  const path = await write(quadDocument((doc) => {
    const volume = doc.createExtension(KHRMaterialsVolume).createVolume().setThicknessFactor(0)
      .setAttenuationColor([0.5, 0.5, 0.5]).setAttenuationDistance(1);
    return doc.createMaterial().setExtension("KHR_materials_volume", volume);
  }));
  const m = (await loadGltf(path)).materials[0]!;
  assert.equal(m.attenuationDistance ?? Infinity, Infinity);
  await Deno.remove(path.replace(/\/quad.gltf$/, ""), { recursive: true });
});

Deno.test("glTF: alphaMode BLEND loads as coverage (alphaMode blend), MASK with its cutoff, OPAQUE as opaque", async () => {
  for (const [mode, want] of [["BLEND", "blend"], ["MASK", "mask"], ["OPAQUE", "opaque"]] as const) {
    const path = await write(
      quadDocument((doc) =>
        doc.createMaterial().setBaseColorFactor([1, 1, 1, 0.25]).setAlphaMode(mode).setAlphaCutoff(0.3)
      ),
    );
    const m = (await loadGltf(path)).materials[0]!;
    assert.equal(m.alphaMode, want, mode);
    assert.equal(m.alpha, 0.25);
    if (mode === "MASK") assert.equal(m.alphaCutoff, 0.3);
  }
});
