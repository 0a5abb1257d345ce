/**
 * `./octane task bench:cycles`: the same glTF scene rendered by Blender's Cycles (CPU, same resolution, spp
 * and maximum depth, no denoising, through Blender's glTF importer) and by `octane render`, one after the
 * other in one run, as whole processes; prints both times, the speed ratio and how far the images differ.
 *
 * Scenes: the built-in Cornell box (Lambertian, written to a .glb here) and the shared dream apartment from
 * octane's automatic camera (inside, for an interior). Blender is not installed by set-up:
 * `apt-get install blender python3-numpy` (Debian) gives Cycles 3.4 and the numpy its glTF importer needs.
 *
 * Options: --spp N (default 1024), --size PX (256), --max-depth N (16), --scene cornell|apartment (both),
 * --json FILE (the figures), --out DIR (both images of each scene as PNG, to look at side by side).
 */
import { parseArgs } from "node:util";
import { Document, NodeIO } from "@gltf-transform/core";
import { KHRMaterialsEmissiveStrength, KHRMaterialsSpecular } from "@gltf-transform/extensions";
import { decodeExr, decodePfm, encodePng } from "../mod/render/mod.ts";
import { compileScene, placeCamera } from "../mod/render_data/mod.ts";
import { cornellBox, loadScene } from "../mod/scene/mod.ts";
import type { Camera, Scene } from "../mod/scene/types.ts";

const root = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args,
  options: {
    spp: { type: "string", default: "1024" },
    size: { type: "string", default: "256" },
    "max-depth": { type: "string", default: "16" },
    scene: { type: "string" },
    json: { type: "string" },
    out: { type: "string" },
  },
});
const spp = Number(values.spp), size = Number(values.size), maxDepth = Number(values["max-depth"]);
if (![spp, size, maxDepth].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("bench:cycles: --spp, --size and --max-depth take whole numbers above 0");
  Deno.exit(2);
}

const blender = await which("blender");
if (!blender) {
  console.error(
    "bench:cycles: Blender is not installed: run `apt-get install blender python3-numpy` (Debian; Cycles 3.4; its glTF importer needs numpy) or put `blender` on PATH",
  );
  Deno.exit(2);
}

interface Bench {
  name: string;
  /** The glTF file both renderers read. */
  file: string;
  camera: Camera;
  background: [number, number, number];
  /** The scene is Lambertian with one-sided emitters: Cycles gets Diffuse BSDFs and front-face emission. */
  lambertian: boolean;
}

const work = Deno.env.get("BENCH_KEEP") ?? await Deno.makeTempDir({ prefix: "octane-bench-cycles-" });
try {
  const benches: Bench[] = [];
  const wanted = values.scene ? [values.scene] : ["cornell", "apartment"];
  if (wanted.includes("cornell")) {
    const scene = cornellBox();
    const file = `${work}/cornell.glb`;
    await new NodeIO().registerExtensions([KHRMaterialsEmissiveStrength, KHRMaterialsSpecular]).write(
      file,
      toGltf(scene),
    );
    benches.push({
      name: "Cornell box",
      file,
      camera: scene.camera,
      background: scene.environment.color,
      lambertian: true,
    });
  }
  if (wanted.includes("apartment")) {
    const file = `${root}../shared/scenes/dream-apartment/dream-apartment.gltf`;
    const scene = await loadScene(file);
    benches.push({
      name: "dream apartment",
      file,
      camera: placeCamera(scene.camera, compileScene(scene)), // the automatic camera, inside an interior
      background: scene.environment.color,
      lambertian: false,
    });
  }
  const figures = [];
  console.log(
    `Cycles against octane: ${size}x${size}, ${spp} spp, max depth ${maxDepth}, no denoising, whole processes`,
  );
  for (const b of benches) {
    const cycles = await renderCycles(b);
    const octane = await renderOctane(b);
    const pixels = size * size * spp;
    const diff = meanRelativeBlockDifference(cycles.image, octane.image, size, size, 8);
    if (values.out) {
      await Deno.mkdir(values.out, { recursive: true });
      const slug = b.name.split(" ")[0]!.toLowerCase();
      for (const [who, rgb] of [["cycles", cycles.image], ["octane", octane.image]] as const) {
        await Deno.writeFile(
          `${values.out}/${slug}-${who}.png`,
          encodePng({ width: size, height: size, rgb }),
        );
      }
    }
    const f = {
      scene: b.name,
      cyclesSeconds: cycles.seconds,
      cyclesRenderSeconds: cycles.renderSeconds,
      octaneSeconds: octane.seconds,
      octaneRenderSeconds: octane.renderSeconds,
      octaneRaysPerSecond: octane.raysPerSecond,
      speedRatio: cycles.seconds / octane.seconds,
      octaneSamplesPerSecond: pixels / octane.seconds,
      cyclesSamplesPerSecond: pixels / cycles.seconds,
      meanBlockDifference: diff,
      meanRatio: mean(octane.image) / mean(cycles.image),
    };
    figures.push(f);
    console.log(
      `  ${b.name}: Cycles ${cycles.seconds.toFixed(1)} s (render ${
        cycles.renderSeconds?.toFixed(1) ?? "?"
      } s), octane ${octane.seconds.toFixed(1)} s (render ${octane.renderSeconds.toFixed(1)} s, ${
        (octane.raysPerSecond / 1e6).toFixed(2)
      } Mrays/s): octane at ${f.speedRatio.toFixed(2)}x Cycles' speed; ${
        (f.octaneSamplesPerSecond / 1e3).toFixed(0)
      } ksamples/s against ${(f.cyclesSamplesPerSecond / 1e3).toFixed(0)} k; 8x8 blocks differ by ${
        (diff * 100).toFixed(1)
      }% on average (noise included), image means ${f.meanRatio.toFixed(3)}x Cycles'`,
    );
  }
  if (values.json) {
    await Deno.writeTextFile(values.json, JSON.stringify({ spp, size, maxDepth, figures }, null, 2));
  }
} finally {
  if (!Deno.env.get("BENCH_KEEP")) await Deno.remove(work, { recursive: true });
}

/** The built-in scene as a glTF document: its meshes, materials and camera. */
function toGltf(scene: Scene): Document {
  const doc = new Document();
  const buffer = doc.createBuffer();
  const specular = doc.createExtension(KHRMaterialsSpecular);
  const strength = doc.createExtension(KHRMaterialsEmissiveStrength);
  const materials = scene.materials.map((m) => {
    const peak = Math.max(...m.emission, 1e-9);
    const out = doc.createMaterial(m.name ?? "").setBaseColorFactor([...m.baseColor, 1])
      .setMetallicFactor(m.metallic).setRoughnessFactor(Math.max(m.roughness, 1e-3))
      .setExtension("KHR_materials_specular", specular.createSpecular().setSpecularFactor(m.specular));
    if (peak > 1e-9) {
      const scale = Math.max(peak, 1);
      out.setEmissiveFactor(m.emission.map((c) => c / scale) as [number, number, number])
        .setExtension(
          "KHR_materials_emissive_strength",
          strength.createEmissiveStrength().setEmissiveStrength(scale),
        );
    }
    return out;
  });
  const gltfScene = doc.createScene();
  for (const mesh of scene.meshes) {
    const prim = doc.createPrimitive()
      .setAttribute(
        "POSITION",
        doc.createAccessor().setType("VEC3").setBuffer(buffer).setArray(mesh.positions.slice()),
      )
      .setIndices(doc.createAccessor().setType("SCALAR").setBuffer(buffer).setArray(mesh.indices.slice()))
      .setMaterial(materials[mesh.material]!);
    if (mesh.normals) {
      prim.setAttribute(
        "NORMAL",
        doc.createAccessor().setType("VEC3").setBuffer(buffer).setArray(mesh.normals.slice()),
      );
    }
    gltfScene.addChild(doc.createNode().setMesh(doc.createMesh().addPrimitive(prim)));
  }
  doc.getRoot().setDefaultScene(gltfScene);
  return doc;
}

async function renderCycles(
  b: Bench,
): Promise<{ seconds: number; renderSeconds?: number; image: Float32Array }> {
  const out = `${work}/cycles.exr`;
  const script = `${work}/cycles.py`;
  await Deno.writeTextFile(script, cyclesScript(b, out));
  const start = performance.now();
  const run = await new Deno.Command(blender!, {
    args: ["-b", "--factory-startup", "--python-exit-code", "1", "--python", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
  if (!run.success) throw new Error(`Blender failed on ${b.name}:\n${text.slice(-3000)}`);
  // "Time: 01:14.52 (Saving: ...)" is the render's own time
  const m = /Time: (?:(\d+):)?(\d+):(\d+\.\d+)/.exec(text);
  const renderSeconds = m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
  const exr = decodeExr(await Deno.readFile(out));
  return { seconds, ...(renderSeconds !== undefined ? { renderSeconds } : {}), image: exr.rgb };
}

async function renderOctane(
  b: Bench,
): Promise<{ seconds: number; renderSeconds: number; raysPerSecond: number; image: Float32Array }> {
  const cameraFile = `${work}/camera.json`;
  const c = b.camera;
  await Deno.writeTextFile(
    cameraFile,
    JSON.stringify({ position: c.position, target: c.target, up: c.up, fov: c.fovY }),
  );
  const pfm = `${work}/octane.pfm`;
  const start = performance.now();
  const run = await new Deno.Command(`${root}octane`, {
    args: [
      "render",
      b.file,
      "--camera-file",
      cameraFile,
      "--spp",
      String(spp),
      "--width",
      String(size),
      "--height",
      String(size),
      "--max-depth",
      String(maxDepth),
      "--hdr",
      pfm,
      "-o",
      `${work}/octane.png`,
      "--report",
      `${work}/octane.json`,
      "--quiet",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  if (!run.success) throw new Error(`octane failed on ${b.name}: ${new TextDecoder().decode(run.stderr)}`);
  const report = JSON.parse(await Deno.readTextFile(`${work}/octane.json`));
  return {
    seconds,
    renderSeconds: report.wallSeconds,
    raysPerSecond: report.raysPerSecond,
    image: decodePfm(await Deno.readFile(pfm)).rgb,
  };
}

/** The Blender script: import the glTF, set the camera and world, render with Cycles on the CPU. */
function cyclesScript(b: Bench, out: string): string {
  // glTF is Y-up, Blender Z-up: the importer maps (x, y, z) to (x, -z, y)
  const blenderVec = (v: number[]) => `(${v[0]}, ${-v[2]!}, ${v[1]})`;
  const c = b.camera;
  return `
import bpy, mathutils, math, numpy
# Blender 3.4's glTF importer still says np.bool, which numpy 1.24 (Debian 12's) removed
if not hasattr(numpy, "bool"):
    numpy.bool = bool
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=${JSON.stringify(b.file)})
scene = bpy.context.scene
for o in [o for o in scene.objects if o.type == 'CAMERA']:
    bpy.data.objects.remove(o)
cam_data = bpy.data.cameras.new("bench")
cam_data.sensor_fit = 'VERTICAL'
cam_data.angle_y = math.radians(${c.fovY})
cam_data.clip_start = 0.001
cam_data.clip_end = 1e7
cam = bpy.data.objects.new("bench", cam_data)
scene.collection.objects.link(cam)
eye = mathutils.Vector(${blenderVec(c.position)})
target = mathutils.Vector(${blenderVec(c.target)})
cam.location = eye
cam.rotation_euler = (target - eye).to_track_quat('-Z', 'Y').to_euler()
scene.camera = cam
world = bpy.data.worlds.new("bench")
world.use_nodes = True
world.node_tree.nodes["Background"].inputs[0].default_value = (${b.background.join(", ")}, 1)
scene.world = world
${
    b.lambertian
      ? `# octane's Lambertian materials and one-sided emitters: Cycles 3.x's Principled diffuse is not Lambertian
# and its emission shines from both sides, so each material becomes a Diffuse BSDF plus front-face emission
for m in bpy.data.materials:
    nt = m.node_tree
    if not nt:
        continue
    p = next((n for n in nt.nodes if n.type == 'BSDF_PRINCIPLED'), None)
    out = next((n for n in nt.nodes if n.type == 'OUTPUT_MATERIAL'), None)
    if p is None or out is None:
        continue
    diffuse = nt.nodes.new('ShaderNodeBsdfDiffuse')
    diffuse.inputs['Color'].default_value = p.inputs['Base Color'].default_value
    emission = nt.nodes.new('ShaderNodeEmission')
    emission.inputs['Color'].default_value = p.inputs['Emission'].default_value
    emission.inputs['Strength'].default_value = p.inputs['Emission Strength'].default_value
    front = nt.nodes.new('ShaderNodeAddShader')
    nt.links.new(emission.outputs[0], front.inputs[0])
    nt.links.new(diffuse.outputs[0], front.inputs[1])
    geometry = nt.nodes.new('ShaderNodeNewGeometry')
    sided = nt.nodes.new('ShaderNodeMixShader')
    nt.links.new(geometry.outputs['Backfacing'], sided.inputs['Fac'])
    nt.links.new(front.outputs[0], sided.inputs[1])
    nt.links.new(diffuse.outputs[0], sided.inputs[2])
    nt.links.new(sided.outputs[0], out.inputs['Surface'])
`
      : ""
  }
scene.render.engine = 'CYCLES'
cy = scene.cycles
cy.device = 'CPU'
cy.samples = ${spp}
cy.use_adaptive_sampling = False
cy.use_denoising = False
cy.max_bounces = ${maxDepth}
cy.diffuse_bounces = ${maxDepth}
cy.glossy_bounces = ${maxDepth}
cy.transmission_bounces = ${maxDepth}
cy.transparent_max_bounces = ${maxDepth}
cy.sample_clamp_direct = 0.0
cy.sample_clamp_indirect = 0.0
cy.blur_glossy = 0.0
cy.caustics_reflective = True
cy.caustics_refractive = True
scene.render.threads_mode = 'AUTO'
scene.render.resolution_x = ${size}
scene.render.resolution_y = ${size}
scene.render.resolution_percentage = 100
scene.render.film_transparent = False
scene.view_settings.view_transform = 'Standard'
scene.render.image_settings.file_format = 'OPEN_EXR'
scene.render.image_settings.color_mode = 'RGB'
scene.render.image_settings.color_depth = '32'
scene.render.image_settings.exr_codec = 'NONE'
scene.render.filepath = ${JSON.stringify(out)}
bpy.ops.render.render(write_still=True)
`;
}

/** The mean over 8x8 blocks of |a - b| / max(a, b, 1e-3), on each block's mean luminance. */
function meanRelativeBlockDifference(
  a: Float32Array,
  b: Float32Array,
  w: number,
  h: number,
  block: number,
): number {
  const luminance = (p: Float32Array, x0: number, y0: number) => {
    let s = 0;
    for (let y = y0; y < y0 + block; y++) {
      for (let x = x0; x < x0 + block; x++) {
        const i = (y * w + x) * 3;
        s += 0.2126 * p[i]! + 0.7152 * p[i + 1]! + 0.0722 * p[i + 2]!;
      }
    }
    return s / (block * block);
  };
  let sum = 0, n = 0;
  for (let y = 0; y + block <= h; y += block) {
    for (let x = 0; x + block <= w; x += block) {
      const la = luminance(a, x, y), lb = luminance(b, x, y);
      sum += Math.abs(la - lb) / Math.max(la, lb, 1e-3);
      n++;
    }
  }
  return sum / n;
}

function mean(rgb: Float32Array): number {
  let s = 0;
  for (const v of rgb) s += v;
  return s / rgb.length;
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if ((await Deno.stat(`${dir}/${name}`)).isFile) return `${dir}/${name}`;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}
