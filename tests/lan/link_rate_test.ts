/**
 * A shaped link (tc tbf): the largest shared scene's render data (90.2 MB with its mip levels, 11.7 MB on
 * the wire with zstd) crosses a 5 Mbit/s link in about 19 s, and the master's status line shows the slave's download moving
 * while it does. (Rates against the link's are
 * benchmark figures: `deno task bench:lan`.)
 */
import assert from "node:assert/strict";
import { makeKey, withDir } from "../_harness.ts";
import { withLan } from "./_lan.ts";

const SCENE = new URL("../../../shared/scenes/water-bottle/WaterBottle.gltf", import.meta.url).pathname;

Deno.test("over a 5 Mbit/s link the status line's upload progress of a joining slave moves, and the render finishes", async () => {
  await withDir(async (dir) => {
    const key = `${dir}/farm.key`;
    await makeKey(key);
    await withLan(2, { rate: "5mbit" }, async (lan, start) => {
      const [m, s] = lan.hosts;
      const master = start(m!, [
        "master",
        SCENE,
        "--key-file",
        key,
        "--no-local-render",
        "--wait-slaves",
        "1",
        "--spp",
        "1",
        "--width",
        "24",
        "--height",
        "24",
        "-o",
        `${dir}/net.png`,
      ]);
      const port = (await master.waitFor(/Master listening on [\d.]+:(\d+)/, 120_000))[1];
      start(s!, ["slave", "--master", `${m!.address}:${port}`, "--key-file", key]);
      const bytes = Number(
        (await master.waitFor(
          /Sending 9 of 9 render-data sections \(.*, \d+ bytes as (\d+) on the wire\)/,
          120_000,
        ))[1],
      );
      assert.ok(bytes > 5e6, `the scene's render data is ${bytes} bytes on the wire`);
      assert.equal(await master.exit(120_000), 0, master.out);
      const name = s!.address.replaceAll(".", "\\.");
      const shown = [...master.out.matchAll(new RegExp(`${name} data (\\d+)%`, "g"))].map((x) =>
        Number(x[1])
      );
      const distinct = [...new Set(shown)];
      // not a terminal: the status line is a plain line every 5 s, so a 19 s download shows twice at least
      assert.ok(distinct.length >= 2, `upload progress shown: ${distinct.join(", ")}%`);
      assert.deepEqual(distinct, [...distinct].sort((a, b) => a - b), "the progress went backwards");
      assert.match(master.out, new RegExp(`Slave ${name}:\\d+ has the render data`));
    });
  });
});
