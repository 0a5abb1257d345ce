/**
 * Cameras as a user meets them: the automatic camera of a scene file without one, `--camera` with a name
 * the scene lacks (for every scene kind), the glTF camera's aspect ratio setting the default image size,
 * and the one warning for a missing material library.
 */
import assert from "node:assert/strict";
import { NodeIO } from "@gltf-transform/core";
import { octane, readPfm, withDir } from "./_harness.ts";

const box = new URL("../../shared/scenes/box-textured/BoxTextured.gltf", import.meta.url).pathname;

/** Each face of the cube and the emitted colour that marks it. */
const FACES = {
  "+x": [1, 0, 0],
  "-x": [0, 1, 1],
  "+y": [0, 1, 0],
  "-y": [1, 0, 1],
  "+z": [0, 0, 1],
  "-z": [1, 1, 0],
} as const;

/**
 * Writes a cube from -1 to 1 whose six faces (wound outwards) emit the colours of {@linkcode FACES} and
 * reflect nothing, so that every pixel is black or exactly one face's colour; `mtl` names its library.
 */
async function cube(dir: string, mtl = "cube.mtl"): Promise<string> {
  const corners = ["-1 -1 -1", "1 -1 -1", "1 1 -1", "-1 1 -1", "-1 -1 1", "1 -1 1", "1 1 1", "-1 1 1"];
  const faces: Record<keyof typeof FACES, string> = {
    "+x": "2 3 7 6",
    "-x": "1 5 8 4",
    "+y": "4 8 7 3",
    "-y": "1 2 6 5",
    "+z": "5 6 7 8",
    "-z": "1 4 3 2",
  };
  const obj = [`mtllib ${mtl}`, ...corners.map((c) => `v ${c}`)];
  const lib: string[] = [];
  for (const [face, corners] of Object.entries(faces)) {
    obj.push(`usemtl face${face}`, `f ${corners}`);
    lib.push(`newmtl face${face}`, "Kd 0 0 0", `Ke ${FACES[face as keyof typeof FACES].join(" ")}`);
  }
  await Deno.writeTextFile(`${dir}/cube.obj`, obj.join("\n") + "\n");
  await Deno.writeTextFile(`${dir}/cube.mtl`, lib.join("\n") + "\n");
  return `${dir}/cube.obj`;
}

Deno.test("the automatic 3/4 camera sees three faces of a cube: front, right and top, and not the others", () =>
  withDir(async (dir) => {
    const r = octane([
      "render",
      await cube(dir),
      "--quiet",
      "--spp",
      "1",
      "--width",
      "48",
      "--height",
      "48",
      "-o",
      `${dir}/c.png`,
      "--hdr",
      `${dir}/c.pfm`,
    ]);
    assert.equal(await r.exit(), 0, r.out);
    const rgb = await readPfm(`${dir}/c.pfm`);
    const seen = new Map<string, number>();
    for (let i = 0; i < rgb.length; i += 3) {
      const key = [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!].map((v) => (v > 0.5 ? 1 : 0)).join(" ");
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const pixels = (face: keyof typeof FACES) => seen.get(FACES[face].join(" ")) ?? 0;
    for (const face of ["+x", "+y", "+z"] as const) {
      assert.ok(pixels(face) > 20, `face ${face} fills ${pixels(face)} pixels: ${JSON.stringify([...seen])}`);
    }
    for (const face of ["-x", "-y", "-z"] as const) assert.equal(pixels(face), 0, `face ${face} is hidden`);
    // the front is seen most squarely, then the right side, then the top
    assert.ok(pixels("+z") > pixels("+x") && pixels("+x") > pixels("+y"), JSON.stringify([...seen]));
  }));

/** A .glb of BoxTextured with a camera named "wide" whose aspect ratio is 2, 5 units in front of it. */
async function boxWithCamera(dir: string): Promise<string> {
  const io = new NodeIO();
  const doc = await io.read(box);
  const camera = doc.createCamera("wide").setType("perspective").setYFov(0.6).setAspectRatio(2)
    .setZNear(0.01);
  doc.getRoot().listScenes()[0]!.addChild(
    doc.createNode("wide camera").setCamera(camera).setTranslation([0, 0, 5]),
  );
  await Deno.writeFile(`${dir}/box.glb`, await io.writeBinary(doc));
  return `${dir}/box.glb`;
}

Deno.test("the glTF camera's aspect ratio sets the sides not given (render, master, .ocrd); both given win", () =>
  withDir(async (dir) => {
    const scene = await boxWithCamera(dir);
    for (
      const [flags, width, height] of [
        [[], 512, 256],
        [["--width", "100"], 100, 50],
        [["--height", "40"], 80, 40],
        [["--width", "30", "--height", "30"], 30, 30],
      ] as const
    ) {
      const r = octane(["render", scene, "--quiet", "--spp", "1", ...flags, "--report", `${dir}/r.json`]);
      assert.equal(await r.exit(), 0, r.out);
      const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
      assert.deepEqual([report.width, report.height], [width, height], `with ${flags.join(" ")}`);
    }
    // so does a master
    const m = octane([
      "master",
      scene,
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--quiet",
      "--spp",
      "1",
      "-o",
      `${dir}/m.png`,
      "--report",
      `${dir}/r.json`,
    ]);
    assert.equal(await m.exit(), 0, m.out);
    const fromMaster = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.deepEqual([fromMaster.width, fromMaster.height], [512, 256]);
    // compiled render data keeps the camera's aspect
    const c = octane(["compile", scene, "-o", `${dir}/box.ocrd`]);
    assert.equal(await c.exit(), 0, c.out);
    const r = octane([
      "render",
      `${dir}/box.ocrd`,
      "--quiet",
      "--spp",
      "1",
      "--width",
      "64",
      "--report",
      `${dir}/r.json`,
    ]);
    assert.equal(await r.exit(), 0, r.out);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/r.json`));
    assert.deepEqual([report.width, report.height], [64, 32]);
  }));

Deno.test("--camera with a name the scene lacks is one line, exit 2, naming the cameras there are", () =>
  withDir(async (dir) => {
    await cube(dir);
    await boxWithCamera(dir);
    const c = octane(["compile", "cornell", "-o", `${dir}/c.ocrd`]);
    assert.equal(await c.exit(), 0, c.out);
    for (
      const [scene, pattern] of [
        ["cornell", /Cannot use camera "foo" of built-in scene "cornell": it has no named cameras/],
        [`${dir}/cube.obj`, /Cannot use camera "foo" of ".*cube\.obj": this scene has no cameras/],
        [box, /Cannot use camera "foo" of ".*BoxTextured\.gltf": this scene has no cameras$/],
        [`${dir}/box.glb`, /Cannot use camera "foo" of ".*box\.glb": its cameras are "wide"$/],
        [`${dir}/c.ocrd`, /Cannot use camera "foo" with ".*c\.ocrd": its camera is compiled in; recompile/],
      ] as const
    ) {
      const r = octane(["render", scene, "--camera", "foo", "--spp", "1", "-o", `${dir}/o.png`]);
      assert.equal(await r.exit(), 2, r.out);
      const lines = r.out.trim().split("\n");
      assert.equal(lines.length, 1, r.out);
      assert.match(lines[0]!, pattern);
    }
    await assert.rejects(Deno.stat(`${dir}/o.png`), Deno.errors.NotFound);
  }));

Deno.test("a missing material library is one warning, not one per material", () =>
  withDir(async (dir) => {
    const scene = await cube(dir, "missing.mtl");
    const r = octane(["render", scene, "--spp", "1", "--width", "8", "--height", "8", "-o", `${dir}/o.png`]);
    assert.equal(await r.exit(), 0, r.out);
    const warnings = r.out.split("\n").filter((l) => /WARN/.test(l));
    assert.equal(warnings.length, 1, r.out);
    assert.match(warnings[0]!, /material library .*missing\.mtl is missing: its materials are drawn grey/);
  }));
