import assert from "node:assert/strict";
import { compileScene } from "../../render_data/mod.ts";
import { cornellBox } from "../../scene/mod.ts";
import { RenderJob } from "./_render_job.ts";
import { newNode } from "./node.ts";

const settings = { spp: 1000, width: 32, height: 32, unitSeconds: 1, unitTimeout: 10, verify: 0 };

Deno.test("a node's first unit of a job is one sample per pixel, the next ones are sized to its rate", () => {
  const data = compileScene(cornellBox());
  const info = newNode("local", "host", []);
  info.rate = 32 * 32 * 50; // 50 spp a second: a restarted render would wait a whole unit for its first image
  const job = new RenderJob(data, settings, 1);
  assert.equal(job.take("local", info)?.count, 1);
  assert.equal(job.take("local", info)?.count, 50);
  // another node, and the same node in the next job, start small again
  assert.equal(job.take("other", { ...info, id: "other" })?.count, 1);
  assert.equal(new RenderJob(data, settings, 10).take("local", info)?.count, 1);
});
