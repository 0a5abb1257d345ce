/**
 * Malformed scene, texture, buffer, environment and render-data files, and output paths that cannot be
 * written: each is one line on stderr that names the file and says what is wrong, with no stack trace,
 * exit 1 for a bad file and 2 for a bad output path, and nothing rendered or written.
 */
import assert from "node:assert/strict";
import { NodeIO } from "@gltf-transform/core";
import { octane, withDir } from "./_harness.ts";

const box = new URL("../../shared/scenes/box-textured/", import.meta.url).pathname;
const truck = new URL("../../shared/scenes/cesium-milk-truck/", import.meta.url).pathname;
const GLTF = "BoxTextured.gltf", BIN = "BoxTextured0.bin", PNG = "CesiumLogoFlat.png";

/** Writes BoxTextured's three files into `dir`, each replaced by `change` where it names one. */
async function boxTextured(dir: string, change: Record<string, Uint8Array | null> = {}): Promise<string> {
  for (const name of [GLTF, BIN, PNG]) {
    const bytes = name in change ? change[name] : await Deno.readFile(box + name);
    if (bytes) await Deno.writeFile(`${dir}/${name}`, bytes);
  }
  return `${dir}/${GLTF}`;
}

/** The bytes of a string of code points 0 to 255. */
const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const head = async (file: string, n: number) => (await Deno.readFile(file)).subarray(0, n);

/** A one-triangle OBJ using material `a` of `m.mtl`, whose map_Kd is `wood.png`. */
async function objWithTexture(dir: string, png?: Uint8Array): Promise<string> {
  await Deno.writeTextFile(`${dir}/s.obj`, "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nusemtl a\nf 1 2 3\n");
  await Deno.writeTextFile(`${dir}/m.mtl`, "newmtl a\nKd 1 1 1\nmap_Kd wood.png\n");
  if (png) await Deno.writeFile(`${dir}/wood.png`, png);
  return `${dir}/s.obj`;
}

/** Runs `octane ARGS` (render gets a tiny image into dir/o.png) and checks the one-line error. */
async function fails(dir: string, args: string[], code: number, pattern: RegExp): Promise<void> {
  const extra = args[0] === "render"
    ? ["--spp", "1", "--width", "32", "--height", "32", "-o", `${dir}/o.png`]
    : [];
  const p = octane([...args, ...extra]);
  assert.equal(await p.exit(60_000), code, p.out);
  const lines = p.out.trim().split("\n");
  assert.equal(lines.length, 1, `one line:\n${p.out}`);
  assert.match(lines[0]!, /^octane: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(p.out, /\n\s+at |Error:/, "no stack trace or raw error name");
  await assert.rejects(Deno.stat(`${dir}/o.png`), Deno.errors.NotFound, "no image written");
}

const cases: [string, (dir: string) => Promise<string[]>, RegExp][] = [
  [
    "a truncated .glb",
    async (dir) => {
      const glb = await new NodeIO().writeBinary(await new NodeIO().read(box + GLTF));
      await Deno.writeFile(`${dir}/box.glb`, glb.subarray(0, 1000));
      return ["render", `${dir}/box.glb`];
    },
    /Cannot load ".*\/box\.glb": the file ends after 1000 bytes of the \d+ its header declares \(truncated\?\)/,
  ],
  [
    "a PNG signature followed by garbage",
    async (dir) => [
      "render",
      await boxTextured(dir, { [PNG]: text("\x89PNG\r\n\x1a\ngarbage garbage garbage") }),
    ],
    /Cannot load texture "CesiumLogoFlat\.png" of ".*\/BoxTextured\.gltf": not a valid PNG/,
  ],
  [
    "a PNG whose header claims 60000x60000 texels",
    async (dir) => {
      const png = await Deno.readFile(box + PNG);
      new DataView(png.buffer).setUint32(16, 60000); // IHDR width (its CRC no longer matches: checked later)
      new DataView(png.buffer).setUint32(20, 60000);
      return ["render", await boxTextured(dir, { [PNG]: png })];
    },
    /Cannot load texture "CesiumLogoFlat\.png" of ".*": 60000x60000 is outside 1 to 8192 texels a side/,
  ],
  [
    "a truncated PNG",
    async (dir) => ["render", await boxTextured(dir, { [PNG]: await head(box + PNG, 3000) })],
    /Cannot load texture "CesiumLogoFlat\.png" of ".*": the PNG ends after 3000 bytes, inside its IDAT chunk \(truncated\?\)/,
  ],
  [
    "a PNG with a byte changed",
    async (dir) => {
      const png = await Deno.readFile(box + PNG);
      png[png.length - 20]! ^= 0xff; // inside the last IDAT chunk, before IEND's 12 bytes
      return ["render", await boxTextured(dir, { [PNG]: png })];
    },
    /Cannot load texture "CesiumLogoFlat\.png" of ".*": the PNG's IDAT chunk fails its CRC check \(the file is corrupt\)/,
  ],
  [
    "a truncated JPEG",
    async (dir) => {
      for (const name of ["CesiumMilkTruck.gltf", "CesiumMilkTruck_data.bin"]) {
        await Deno.copyFile(truck + name, `${dir}/${name}`);
      }
      await Deno.writeFile(`${dir}/CesiumMilkTruck.jpg`, await head(truck + "CesiumMilkTruck.jpg", 20_000));
      return ["render", `${dir}/CesiumMilkTruck.gltf`];
    },
    /Cannot load texture "CesiumMilkTruck\.jpg" of ".*CesiumMilkTruck\.gltf": the JPEG is corrupt or truncated/,
  ],
  [
    "a text file as a texture",
    async (dir) => ["render", await boxTextured(dir, { [PNG]: text("hello") })],
    /Cannot load texture "CesiumLogoFlat\.png" of ".*": not a PNG or JPEG image \(it starts with "hello"\)/,
  ],
  [
    "a missing .bin",
    async (dir) => ["render", await boxTextured(dir, { [BIN]: null })],
    /Cannot load ".*\/BoxTextured\.gltf": "BoxTextured0\.bin" is missing/,
  ],
  [
    "a truncated .bin",
    async (dir) => ["render", await boxTextured(dir, { [BIN]: await head(box + BIN, 500) })],
    /Cannot load ".*\/BoxTextured\.gltf": "BoxTextured0\.bin" ends after 500 bytes of the 840 it should hold/,
  ],
  [
    "a .bin whose indices point past the vertices",
    async (dir) => {
      const bin = await Deno.readFile(box + BIN);
      bin.set([0xff, 0x7f], 768); // the first index of BoxTextured's only primitive
      return ["render", await boxTextured(dir, { [BIN]: bin })];
    },
    /Cannot load ".*\/BoxTextured\.gltf": a primitive of mesh "Mesh" uses vertex 32767 of its 24 \(corrupt\?\)/,
  ],
  [
    "a buffer view with a byte stride of 0 and an accessor of 10^10 elements",
    async (dir) => {
      const json = JSON.parse(await Deno.readTextFile(box + GLTF));
      json.bufferViews[0].byteStride = 0;
      json.accessors[0].count = 1e10;
      return ["render", await boxTextured(dir, { [GLTF]: text(JSON.stringify(json)) })];
    },
    /Cannot load ".*\/BoxTextured\.gltf": buffer view 0 has a byte stride of 0: glTF allows multiples of 4 from 4 to 252/,
  ],
  [
    "an accessor with a negative count",
    async (dir) => {
      const json = JSON.parse(await Deno.readTextFile(box + GLTF));
      json.accessors[1].count = -3;
      return ["render", await boxTextured(dir, { [GLTF]: text(JSON.stringify(json)) })];
    },
    /Cannot load ".*\/BoxTextured\.gltf": accessor 1 has a count or offset that is not a whole number/,
  ],
  [
    "a missing texture",
    async (dir) => ["render", await boxTextured(dir, { [PNG]: null })],
    /Cannot load ".*\/BoxTextured\.gltf": texture "CesiumLogoFlat\.png" is missing/,
  ],
  [
    "text named .gltf",
    async (dir) => ["render", await boxTextured(dir, { [GLTF]: text("hello world\nsecond line\n") })],
    /Cannot load ".*\/BoxTextured\.gltf": it is neither glTF JSON text nor binary glTF/,
  ],
  [
    "a .gltf cut in the middle of its JSON",
    async (dir) => ["render", await boxTextured(dir, { [GLTF]: await head(box + GLTF, 200) })],
    /Cannot load ".*\/BoxTextured\.gltf": it is not valid JSON \(.*line \d+ column \d+\)/,
  ],
  [
    "compile of a truncated .glb",
    async (dir) => {
      await Deno.writeFile(`${dir}/x.glb`, text("glTF\x02\x00\x00\x00\xff\xff\x00\x00"));
      return ["compile", `${dir}/x.glb`, "-o", `${dir}/x.ocrd`];
    },
    /Cannot load ".*\/x\.glb": the file ends after 12 bytes, inside its header \(truncated\?\)/,
  ],
  [
    "an OBJ whose texture is missing",
    async (dir) => ["render", await objWithTexture(dir)],
    /Cannot load ".*\/s\.obj": texture "wood\.png" is missing/,
  ],
  [
    "an OBJ whose texture is not an image",
    async (dir) => ["render", await objWithTexture(dir, text("GIF89a\x01\x00\x01\x00\x80\x00"))],
    /Cannot load texture "wood\.png" of ".*\/s\.obj": not a PNG or JPEG image \(it starts with "GIF89a"\)/,
  ],
  [
    "an .hdr that is not Radiance",
    async (dir) => {
      await Deno.writeTextFile(`${dir}/sky.hdr`, "garbage\n");
      return ["render", "cornell", "--env", `${dir}/sky.hdr`];
    },
    /Cannot load environment ".*\/sky\.hdr": not a Radiance \.hdr file/,
  ],
  [
    "an .hdr that is a folder",
    async (dir) => {
      await Deno.mkdir(`${dir}/sky.hdr`);
      return ["render", "cornell", "--env", `${dir}/sky.hdr`];
    },
    /Cannot load environment ".*\/sky\.hdr": it is a folder, not a file/,
  ],
  [
    "a garbage .ocrd",
    async (dir) => {
      await Deno.writeTextFile(`${dir}/g.ocrd`, "garbage ".repeat(20));
      return ["render", `${dir}/g.ocrd`];
    },
    /Cannot load ".*\/g\.ocrd": not an octane render data file/,
  ],
  [
    "a truncated .ocrd",
    async (dir) => {
      const c = octane(["compile", "cornell", "-o", `${dir}/c.ocrd`]);
      assert.equal(await c.exit(60_000), 0, c.out);
      await Deno.writeFile(`${dir}/t.ocrd`, await head(`${dir}/c.ocrd`, 3000));
      return ["render", `${dir}/t.ocrd`];
    },
    /Cannot load ".*\/t\.ocrd": .*\(truncated\?\)/,
  ],
];

for (const [name, setup, pattern] of cases) {
  Deno.test(`${name}: one line naming the file, exit 1, no stack trace`, () =>
    withDir(async (dir) => {
      await fails(dir, await setup(dir), 1, pattern);
    }));
}

Deno.test("output paths that cannot be written fail at once with exit 2, before loading or rendering", () =>
  withDir(async (dir) => {
    await Deno.mkdir(`${dir}/out.json`);
    await Deno.mkdir(`${dir}/out.pfm`);
    await Deno.mkdir(`${dir}/out.ocrd`);
    // a scene that cannot load: the output check must come first
    const scene = `${dir}/broken.gltf`;
    await Deno.writeTextFile(scene, "{");
    const folder = /: it is a folder; give a file name$/;
    await fails(
      dir,
      ["render", scene, "--report", `${dir}/out.json`],
      2,
      /Cannot write --report ".*out\.json"/,
    );
    await fails(dir, ["render", scene, "--hdr", `${dir}/out.pfm`], 2, folder);
    await fails(
      dir,
      ["compile", scene, "-o", `${dir}/out.ocrd`],
      2,
      /Cannot write -o ".*out\.ocrd": it is a folder/,
    );
    await fails(
      dir,
      ["master", scene, "--spp", "1", "-o", `${dir}/o.png`, "--report", `${dir}/out.json`],
      2,
      folder,
    );
    await fails(
      dir,
      ["render", scene, "--report", "/proc/x.json"],
      2,
      /Cannot write --report "\/proc\/x\.json": a system path/,
    );
    await fails(
      dir,
      ["render", scene, "--report", `${dir}/no/such/r.json`],
      2,
      /Cannot write --report ".*r\.json": folder ".*\/no\/such" does not exist/,
    );
  }));
