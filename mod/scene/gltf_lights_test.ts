import assert from "node:assert/strict";
import { configure, type LogRecord } from "@logtape/logtape";
import { Document, NodeIO } from "@gltf-transform/core";
import { ALL_EXTENSIONS, KHRLightsPunctual, KHRMaterialsSpecular } from "@gltf-transform/extensions";
import { loadGltf } from "./gltf.ts";
import { WATTS_TO_LUMENS } from "./_gltf_lights.ts";

const records: LogRecord[] = [];
await configure({
  reset: true,
  sinks: { memory: (r) => records.push(r) },
  loggers: [{ category: ["octane"], lowestLevel: "info", sinks: ["memory"] }],
});

/** A floor quad and lights on nodes, written as .gltf. */
async function lightsFile(setup: (doc: Document, lights: KHRLightsPunctual) => void): Promise<string> {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const positions = doc.createAccessor().setType("VEC3").setBuffer(buffer).setArray(
    new Float32Array([-1, 0, -1, -1, 0, 1, 1, 0, 1, 1, 0, -1]),
  );
  const indices = doc.createAccessor().setType("SCALAR").setBuffer(buffer).setArray(
    new Uint16Array([0, 1, 2, 0, 2, 3]),
  );
  const prim = doc.createPrimitive().setAttribute("POSITION", positions).setIndices(indices);
  const scene = doc.createScene();
  scene.addChild(doc.createNode("floor").setMesh(doc.createMesh().addPrimitive(prim)));
  doc.getRoot().setDefaultScene(scene);
  setup(doc, doc.createExtension(KHRLightsPunctual));
  const dir = await Deno.makeTempDir({ prefix: "octane-lights-" });
  await new NodeIO().registerExtensions(ALL_EXTENSIONS).write(`${dir}/lights.gltf`, doc);
  return `${dir}/lights.gltf`;
}

function near(got: readonly number[], want: readonly number[], what: string): void {
  assert.equal(got.length, want.length, what);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `${what}: ${got} vs ${want}`));
}

const down = [-Math.SQRT1_2, 0, 0, Math.SQRT1_2]; // -90° about x: local -Z points along world -Y

Deno.test("glTF KHR_lights_punctual: point, spot and directional lights with their node transforms, in Blender's units", async () => {
  records.length = 0;
  const path = await lightsFile((doc, ext) => {
    const scene = doc.getRoot().getDefaultScene()!;
    const point = ext.createLight("bulb").setType("point").setIntensity(683).setColor([1, 0.5, 0.25]);
    const spot = ext.createLight("spot").setType("spot").setIntensity(2 * 683).setInnerConeAngle(0.2)
      .setOuterConeAngle(0.5).setRange(10);
    const sun = ext.createLight("sun").setType("directional").setIntensity(3 * 683);
    // a parent that moves and scales: the light's world position and direction come through it
    const parent = doc.createNode("rig").setTranslation([1, 2, 3]).setScale([2, 2, 2]);
    parent.addChild(
      doc.createNode("bulb").setTranslation([0.5, 0, 0]).setExtension("KHR_lights_punctual", point),
    );
    scene.addChild(parent);
    scene.addChild(
      doc.createNode("spot").setTranslation([0, 4, 0]).setRotation(down as [number, number, number, number])
        .setExtension("KHR_lights_punctual", spot),
    );
    scene.addChild(doc.createNode("sun").setExtension("KHR_lights_punctual", sun));
  });
  const scene = await loadGltf(path);
  const lights = scene.lights ?? [];
  assert.deepEqual(lights.map((l) => l.kind), ["point", "spot", "directional"]);
  const [point, spot, sun] = lights as [typeof lights[0], typeof lights[0], typeof lights[0]];
  near(point.position, [2, 2, 3], "point position");
  // candela / 683 = W/sr: what a Blender point lamp of 4π W·cd/683 radiates in Cycles
  near(point.intensity, [1, 0.5, 0.25], "point intensity");
  near(spot.position, [0, 4, 0], "spot position");
  near(spot.direction, [0, -1, 0], "spot direction (the node's -Z)");
  near(spot.intensity, [2, 2, 2], "spot intensity");
  near([spot.innerConeAngle, spot.outerConeAngle], [0.2, 0.5], "spot cone");
  near(sun.direction, [0, 0, -1], "directional direction");
  // lux / 683 = W/m²: a Blender sun's strength
  near(sun.intensity, [3, 3, 3], "directional irradiance");
  assert.equal(WATTS_TO_LUMENS, 683);
  // lit by its lights, not by the white fallback environment
  assert.deepEqual(scene.environment.color, [0, 0, 0]);
  const warnings = records.filter((r) => r.level === "warning").map((r) => JSON.stringify(r.properties));
  assert.equal(warnings.length, 1, `warnings: ${warnings}`);
  assert.match(warnings[0]!, /light ranges/);
  assert.doesNotMatch(warnings[0]!, /KHR_lights_punctual/);
});

Deno.test("glTF KHR_lights_punctual: without a range there is no warning; cone angles are clamped to the spec's range", async () => {
  records.length = 0;
  const path = await lightsFile((doc, ext) => {
    const spot = ext.createLight().setType("spot").setIntensity(683).setInnerConeAngle(2).setOuterConeAngle(
      3,
    );
    doc.getRoot().getDefaultScene()!.addChild(doc.createNode().setExtension("KHR_lights_punctual", spot));
  });
  const scene = await loadGltf(path);
  const spot = scene.lights![0]!;
  near([spot.innerConeAngle, spot.outerConeAngle], [Math.PI / 2, Math.PI / 2], "clamped cone");
  assert.equal(records.filter((r) => r.level === "warning").length, 0);
});

Deno.test("glTF: Blender's Specular 0 (KHR_materials_specular specularColorFactor [0, 0, 0]) loads as a pure Lambertian surface", async () => {
  const path = await lightsFile((doc, ext) => {
    const specular = doc.createExtension(KHRMaterialsSpecular).createSpecular().setSpecularColorFactor([
      0,
      0,
      0,
    ]);
    const m = doc.createMaterial("matte").setExtension("KHR_materials_specular", specular);
    doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!.setMaterial(m);
    doc.getRoot().getDefaultScene()!.addChild(
      doc.createNode().setExtension("KHR_lights_punctual", ext.createLight().setType("point")),
    );
  });
  const scene = await loadGltf(path);
  assert.equal(scene.materials[0]!.specular, 0);
});
