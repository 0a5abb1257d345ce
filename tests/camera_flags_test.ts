/**
 * Camera placement from the command line: --look-from/--look-at/--up/--fov, depth of field with --aperture
 * and --focus-distance, the camera printed as flags on the first line, and the automatic camera inside
 * scenes that enclose it (a closed room, the shared dream apartment).
 */
import assert from "node:assert/strict";
import {
  assertClose,
  octane,
  outputsIn,
  processes,
  readPfm,
  startMaster,
  startSlave,
  withDir,
} from "./_harness.ts";

const SIZE = ["--width", "32", "--height", "24", "--spp", "2"];
const apartment =
  new URL("../../shared/scenes/dream-apartment/dream-apartment.gltf", import.meta.url).pathname;

/**
 * Renders with `args`; resolves with the HDR radiance and the render's first line ("Rendering …"; only
 * notes of the scene loader, such as its lighting, come before it).
 */
async function render(dir: string, args: string[]): Promise<{ rgb: Float32Array; first: string }> {
  const r = octane(["render", ...args, "-o", `${dir}/o.png`, "--hdr", `${dir}/o.pfm`]);
  assert.equal(await r.exit(), 0, r.out);
  const first = r.out.split("\n").find((l) => l.startsWith("Rendering "));
  assert.ok(first, r.out);
  return { rgb: await readPfm(`${dir}/o.pfm`), first };
}

/** The camera flags printed on a render's first line ("…; camera --look-from …"). */
function printedFlags(first: string): string[] {
  const m = /; camera (--look-from .*)$/.exec(first);
  assert.ok(m, `no camera on the first line: ${first}`);
  return m[1]!.split(" ");
}

/** The value of `flag` among printed flags, as numbers. */
function numbers(flags: string[], flag: string): number[] {
  return flags[flags.indexOf(flag) + 1]!.split(",").map(Number);
}

/**
 * Writes an OBJ room from `min` to `max`, its six walls wound to face in (or out: a closed object) and
 * emitting white, so that a pixel is black exactly where a primary ray leaves the scene.
 */
async function room(dir: string, min: number[], max: number[], facing: "in" | "out"): Promise<string> {
  const c = (i: number) => [i & 1 ? max[0] : min[0], i & 2 ? max[1] : min[1], i & 4 ? max[2] : min[2]];
  const faces = [[1, 5, 7, 3], [2, 4, 8, 6], [1, 2, 6, 5], [3, 7, 8, 4], [1, 3, 4, 2], [5, 6, 8, 7]];
  const obj = [
    "mtllib room.mtl",
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `v ${c(i).join(" ")}`),
    "usemtl wall",
  ];
  for (const f of faces) obj.push(`f ${(facing === "out" ? f : [...f].reverse()).join(" ")}`);
  await Deno.writeTextFile(`${dir}/room.obj`, obj.join("\n") + "\n");
  await Deno.writeTextFile(`${dir}/room.mtl`, "newmtl wall\nKd 0 0 0\nKe 1 1 1\n");
  return `${dir}/room.obj`;
}

Deno.test("--look-from/--look-at render as a camera file with the same camera, and print themselves", () =>
  withDir(async (dir) => {
    const camera = { position: [300, 280, -600], target: [250, 260, 280], up: [0, 1, 0], fov: 45 };
    await Deno.writeTextFile(`${dir}/camera.json`, JSON.stringify(camera));
    const flags = ["--look-from", "300,280,-600", "--look-at", "250,260,280", "--fov", "45"];
    const byFlags = await render(dir, [...SIZE, ...flags]);
    const byFile = await render(dir, [...SIZE, "--camera-file", `${dir}/camera.json`]);
    assert.deepEqual(byFlags.rgb, byFile.rgb);
    assert.deepEqual(printedFlags(byFlags.first), [...flags.slice(0, 4), "--up", "0,1,0", ...flags.slice(4)]);
    assert.deepEqual(printedFlags(byFile.first), printedFlags(byFlags.first));
    // compile keeps the camera the flags placed
    const c = octane(["compile", "cornell", ...flags, "-o", `${dir}/c.ocrd`]);
    assert.equal(await c.exit(), 0, c.out);
    assert.match(c.out, /; camera --look-from 300,280,-600 --look-at 250,260,280 --up 0,1,0 --fov 45$/m);
    assert.deepEqual((await render(dir, [`${dir}/c.ocrd`, ...SIZE])).rgb, byFlags.rgb);
    // --fov alone changes only the field of view of the camera otherwise chosen
    const wide = await render(dir, [...SIZE, "--camera-file", `${dir}/camera.json`, "--fov", "70"]);
    assert.deepEqual(printedFlags(wide.first), [...flags.slice(0, 4), "--up", "0,1,0", "--fov", "70"]);
    assert.notDeepEqual(wide.rgb, byFile.rgb);
  }));

Deno.test("the camera printed on the first line, passed back as flags, renders the same image", () =>
  withDir(async (dir) => {
    // the built-in scene's own camera, a thin lens's, and the automatic camera of a scene file
    const scenes = [["cornell"], ["cornell-spheres"], [await room(dir, [0, 0, 0], [7, 3, 4], "in")]];
    for (const scene of scenes) {
      const first = await render(dir, [...scene, ...SIZE]);
      const flags = printedFlags(first.first);
      const again = await render(dir, [...scene, ...SIZE, ...flags]);
      assert.deepEqual(again.rgb, first.rgb, `${scene} through ${flags.join(" ")}`);
      assert.deepEqual(printedFlags(again.first), flags);
    }
    // the master prints it too, before it listens
    const m = octane([
      "master",
      "cornell",
      "--bind",
      "127.0.0.1",
      "--port",
      "0",
      "--spp",
      "1",
      "--width",
      "8",
      "--height",
      "8",
      "-o",
      `${dir}/m.png`,
    ]);
    assert.equal(await m.exit(), 0, m.out);
    assert.match(
      m.out.split("\n")[0]!,
      /^Rendering cornell \(\d+ triangles\); camera --look-from 278,273,-800 /,
    );
  }));

Deno.test("bad camera flags are one line and exit 2, for render, compile and master", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/camera.json`,
      JSON.stringify({ position: [0, 0, 0], target: [0, 0, 1], up: [0, 1, 0], fov: 40 }),
    );
    const cases: [string[], RegExp][] = [
      [
        ["--look-from", "1,2", "--look-at", "0,0,0"],
        /Invalid --look-from "1,2": must be three numbers X,Y,Z/,
      ],
      [["--look-from", "1,2,x", "--look-at", "0,0,0"], /Invalid --look-from "1,2,x"/],
      [["--look-from", "1,2,3"], /--look-from needs --look-at/],
      [["--look-at", "1,2,3"], /--look-at needs --look-from/],
      [["--look-from", "1,2,3", "--look-at", "1,2,3"], /--look-at must differ from --look-from/],
      [["--look-from", "0,0,0", "--look-at", "0,5,0"], /--up must not be parallel to the view/],
      [["--look-from", "0,0,0", "--look-at", "0,0,1", "--up", "0,0,0"], /--up must not be zero/],
      [["--up", "0,0,1"], /--up goes with --look-from and --look-at/],
      [["--fov", "0"], /Invalid --fov "0": must be degrees above 0 and below 180/],
      [["--fov", "180"], /Invalid --fov "180"/],
      [["--fov", "NaN"], /Invalid --fov "NaN"/],
      [["--aperture", "-1"], /Invalid --aperture "-1": must be a lens radius of 0 or more/],
      [
        ["--aperture", "1", "--focus-distance", "0"],
        /Invalid --focus-distance "0": must be a distance above 0/,
      ],
      [["--focus-distance", "5"], /--focus-distance needs --aperture/],
      [
        ["--look-from", "1,2,3", "--look-at", "0,0,0", "--camera", "x"],
        /--look-from\/--look-at or --camera, not/,
      ],
      [
        ["--look-from", "1,2,3", "--look-at", "0,0,0", "--camera-file", `${dir}/camera.json`],
        /--look-from\/--look-at or --camera-file, not both/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = octane([
        "render",
        "--spp",
        "1",
        "--width",
        "8",
        "--height",
        "8",
        ...args,
        "-o",
        `${dir}/x.png`,
      ]);
      assert.equal(await r.exit(), 2, `${args.join(" ")}: ${r.out}`);
      assert.equal(r.out.trim().split("\n").length, 1, r.out);
      assert.match(r.out.trim(), message);
    }
    const compile = octane(["compile", "cornell", "-o", `${dir}/c.ocrd`, "--fov", "-3"]);
    assert.equal(await compile.exit(), 2, compile.out);
    assert.match(compile.out.trim(), /^octane: Invalid --fov "-3"/);
    const master = octane(["master", "--bind", "127.0.0.1", "--port", "0", "--look-at", "1,1,1"]);
    assert.equal(await master.exit(), 2, master.out);
    assert.match(master.out.trim(), /^octane: --look-at needs --look-from X,Y,Z$/);
    await assert.rejects(Deno.stat(`${dir}/x.png`), Deno.errors.NotFound);
  }));

/**
 * Two emitting squares of the same apparent size against black, seen from the origin down -z: one 4
 * units away (left), one 2 units away (right).
 */
async function twoSquares(dir: string): Promise<string> {
  const square = (cx: number, z: number, h: number) =>
    [[cx - h, -h], [cx + h, -h], [cx + h, h], [cx - h, h]].map(([x, y]) => `v ${x} ${y} ${z}`);
  const obj = [
    "mtllib sq.mtl",
    ...square(-0.8, -4, 0.5),
    ...square(0.4, -2, 0.25),
    "usemtl glow",
    "f 1 2 3 4",
    "f 5 6 7 8",
  ];
  await Deno.writeTextFile(`${dir}/sq.obj`, obj.join("\n") + "\n");
  await Deno.writeTextFile(`${dir}/sq.mtl`, "newmtl glow\nKd 0 0 0\nKe 1 1 1\n");
  return `${dir}/sq.obj`;
}

/** Pixels of the left and right halves that are neither black nor full: the squares' soft edges. */
function softEdges(rgb: Float32Array, width: number): [number, number] {
  const counts: [number, number] = [0, 0];
  for (let p = 0; p < rgb.length / 3; p++) {
    const v = rgb[p * 3]!;
    if (v > 0.02 && v < 0.98) counts[p % width < width / 2 ? 0 : 1]++;
  }
  return counts;
}

Deno.test("depth of field: aperture 0 is the pinhole image; the focus plane stays sharp, nearer blurs", () =>
  withDir(async (dir) => {
    const scene = await twoSquares(dir);
    const view = ["--look-from", "0,0,0", "--look-at", "0,0,-4", "--fov", "40"];
    const size = ["--width", "64", "--height", "32", "--spp", "32"];
    const pinhole = await render(dir, [scene, ...size, ...view]);
    const zero = await render(dir, [scene, ...size, ...view, "--aperture", "0"]);
    assert.deepEqual(zero.rgb, pinhole.rgb);
    const lens = await render(dir, [scene, ...size, ...view, "--aperture", "0.4"]);
    // the focus distance defaults to the look-at distance, and is printed
    assert.match(lens.first, /--aperture 0\.4 --focus-distance 4$/);
    const [sharpBefore, nearBefore] = softEdges(pinhole.rgb, 64);
    const [sharp, near] = softEdges(lens.rgb, 64);
    assert.ok(sharpBefore > 10 && nearBefore > 10, `pinhole edges ${sharpBefore}, ${nearBefore}`);
    assert.ok(sharp <= sharpBefore * 1.5, `in focus: ${sharp} soft pixels, pinhole ${sharpBefore}`);
    assert.ok(near > 3 * nearBefore, `out of focus: ${near} soft pixels, pinhole ${nearBefore}`);
    // focused on the near square instead, the far one blurs
    const swapped = await render(dir, [
      scene,
      ...size,
      ...view,
      "--aperture",
      "0.4",
      "--focus-distance",
      "2",
    ]);
    const [far, focused] = softEdges(swapped.rgb, 64);
    assert.ok(far > 3 * sharpBefore && focused <= nearBefore * 1.5, `${far} far, ${focused} near`);
  }));

Deno.test("a closed room gets a camera inside it: every primary ray meets a wall", () =>
  withDir(async (dir) => {
    const min = [0, 0, 0], max = [7, 3, 4];
    const { rgb, first } = await render(dir, [await room(dir, min, max, "in"), ...SIZE]);
    const position = numbers(printedFlags(first), "--look-from");
    assert.ok(position.every((x, i) => x > min[i]! && x < max[i]!), `camera at ${position}`);
    for (let i = 0; i < rgb.length; i++) {
      assert.ok(rgb[i]! > 0.99, `pixel ${Math.floor(i / 3)} is background`);
    }
    // the same box wound outwards is an object: seen from outside, with background around it
    const object = await render(dir, [await room(dir, min, max, "out"), ...SIZE]);
    const outside = numbers(printedFlags(object.first), "--look-from");
    assert.ok(!outside.every((x, i) => x > min[i]! && x < max[i]!), `camera at ${outside}`);
    assert.ok(object.rgb.some((v) => v === 0), "an object has background around it");
  }));

Deno.test("a thin-lens camera from the flags renders the same image on a slave as locally", () =>
  withDir(async (dir) => {
    const camera = ["--look-from", "150,300,-500", "--look-at", "278,200,300", "--aperture", "12"];
    const size = ["--width", "24", "--height", "16", "--seed", "7"];
    const local = await render(dir, ["cornell-spheres", ...size, "--spp", "8", ...camera]);
    assert.match(local.first, /--aperture 12 --focus-distance \d/);
    await processes(async (start) => {
      // the master only hands out work: every sample comes from the slave, through the lens it was sent
      const master = await startMaster(start, {
        args: [
          "cornell-spheres",
          "--spp",
          "8",
          ...size,
          ...camera,
          "--wait-slaves",
          "1",
          "--no-local-render",
          ...outputsIn(dir),
        ],
      });
      const slave = startSlave(start, master);
      assert.equal(await master.exit(), 0, master.out);
      assert.equal(await slave.exit(), 0, slave.out);
      assert.match(master.out, /; camera --look-from 150,300,-500 --look-at 278,200,300 --up 0,1,0 --fov /);
      assertClose(await readPfm(`${dir}/net.pfm`), local.rgb, 1e-5);
    });
  }));

/** Whether the shared scenes are beside the checkout (they are not copied into it). */
function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "the dream apartment is seen from inside: mostly not background",
  ignore: !exists(apartment),
}, async () => {
  await withDir(async (dir) => {
    const { rgb, first } = await render(dir, [apartment, "--width", "48", "--height", "32", "--spp", "1"]);
    // no lights: a uniform white environment of radiance exactly 1, which no surface returns exactly
    let background = 0;
    for (let p = 0; p < rgb.length / 3; p++) {
      if (rgb[p * 3] === 1 && rgb[p * 3 + 1] === 1 && rgb[p * 3 + 2] === 1) background++;
    }
    assert.ok(background < 0.1 * rgb.length / 3, `${background} of ${rgb.length / 3} pixels are background`);
    assert.match(first, /--fov 60$/);
  });
});
