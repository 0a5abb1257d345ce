/** `octane demo --lan N`: the demo on a namespace LAN it builds, with every namespace gone afterwards. */
import assert from "node:assert/strict";
import { octane, withDir } from "../_harness.ts";
import { lanUnavailable } from "../../mod/lan/mod.ts";

Deno.test("demo --lan 2 builds a namespace LAN, its master finds both daemons by --net, and the LAN is removed", async () => {
  const why = lanUnavailable();
  if (why) throw new Error(`${why}; this test needs it and does not skip`);
  await withDir(async (dir) => {
    const demo = octane([
      "demo",
      "--lan",
      "2",
      "--spp",
      "16",
      "--width",
      "32",
      "--height",
      "32",
      "-o",
      `${dir}/demo.png`,
      "--report",
      `${dir}/report.json`,
    ]);
    assert.equal(await demo.exit(180_000), 0, demo.out);
    const built = demo.out.match(
      /built a LAN of 3 network namespaces \((\S+)-h\*\) on (10\.213\.\d+)\.0\/24/,
    );
    assert.ok(built, demo.out);
    const [, prefix, net] = built;
    assert.match(demo.out, /master on \S+ scans its own .* \(--net\)/);
    const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
    const daemons = report.nodes.filter((n: { role: string }) => n.role === "slave").map((
      n: { daemon: string },
    ) => n.daemon).sort();
    assert.deepEqual(daemons, [`${net}.2`, `${net}.3`]);
    const listed = new TextDecoder().decode(
      (await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output()).stdout,
    );
    assert.ok(!listed.includes(prefix!), `the demo left namespaces behind:\n${listed}`);
  });
});
