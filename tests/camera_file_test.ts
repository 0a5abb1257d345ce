/** `--camera-file`: the camera JSON the live view saves, accepted by render (and compile and master). */
import assert from "node:assert/strict";
import { octane, withDir } from "./_harness.ts";

const SIZE = ["--width", "24", "--height", "16", "--spp", "2", "--quiet"];

Deno.test("--camera-file renders through the file's camera; a bad file is one line and exit 2", async () => {
  await withDir(async (dir) => {
    const camera = { position: [278, 273, -500], target: [200, 273, 279], up: [0, 1, 0], fov: 50 };
    await Deno.writeTextFile(`${dir}/camera.json`, JSON.stringify(camera));
    const moved = octane([
      "render",
      ...SIZE,
      "--camera-file",
      `${dir}/camera.json`,
      "-o",
      `${dir}/moved.png`,
    ]);
    assert.equal(await moved.exit(), 0, moved.out);
    const plain = octane(["render", ...SIZE, "-o", `${dir}/plain.png`]);
    assert.equal(await plain.exit(), 0, plain.out);
    assert.notDeepEqual(await Deno.readFile(`${dir}/moved.png`), await Deno.readFile(`${dir}/plain.png`));

    await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify({ ...camera, fov: 180 }));
    const cases: [string[], RegExp][] = [
      [
        ["--camera-file", `${dir}/missing.json`],
        /^octane: Cannot read --camera-file ".*missing\.json": file not found/,
      ],
      [
        ["--camera-file", `${dir}/bad.json`],
        /^octane: Cannot use --camera-file ".*bad\.json": "fov" must be/,
      ],
      [
        ["--camera-file", `${dir}/camera.json`, "--camera", "x"],
        /--camera NAME or --camera-file FILE, not both/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = octane(["render", ...SIZE, ...args, "-o", `${dir}/x.png`]);
      assert.equal(await r.exit(), 2, r.out);
      assert.match(r.out.trim(), message);
      assert.equal(r.out.trim().split("\n").length, 1, r.out);
    }
  });
});
