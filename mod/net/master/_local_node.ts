import { getLogger } from "@logtape/logtape";
import { hostname } from "node:os";
import type { Gpu } from "../../gpu/mod.ts";
import { GpuRenderer, tileFloats } from "../../render/mod.ts";
import type { RenderJob } from "./_render_job.ts";
import type { MasterState } from "./_state.ts";
import { newNode } from "./node.ts";
import { LOCAL } from "./_verify.ts";

const log = getLogger(["octane", "master"]);

/**
 * The master's own GPU as a node: takes units like a slave does and merges them, until the master closes.
 * If the GPU fails (device lost, out of memory), its units go back to the slaves and the render goes on.
 */
export async function renderLocally(state: MasterState, gpu: Gpu): Promise<void> {
  const info = newNode(LOCAL, hostname(), [gpu.summary]);
  state.nodes.push(info);
  let renderer: GpuRenderer | undefined;
  let rendering: RenderJob | undefined;
  try {
    while (!state.closed) {
      const job = state.render;
      const unit = state.go ? job.take(LOCAL, info) : undefined;
      if (!unit) {
        await state.changed();
        continue;
      }
      if (rendering?.generation !== job.generation) {
        renderer?.destroy();
        renderer = await GpuRenderer.create(gpu, job.data, state.options);
        rendering = job;
      }
      const t0 = performance.now();
      const tile = await renderer!.render({ start: unit.start, count: unit.count }, {
        x: 0,
        y: unit.y,
        width: state.options.width,
        height: unit.height,
      });
      // a unit of a render replaced meanwhile (an earlier generation) is dropped: its samples belong to old data
      if (job.generation === state.render.generation) {
        const seconds = (performance.now() - t0) / 1000;
        const outcome = job.accept(LOCAL, { info, job: unit.job, sums: tileFloats(tile), seconds });
        if (outcome.kind === "liars") state.convict(outcome.nodes);
        if (outcome.kind === "bad") {
          log.error("The local GPU's unit {job} was refused: {reason}", {
            job: unit.job,
            reason: outcome.reason,
          });
        }
      }
      state.signal();
    }
  } catch (error: unknown) {
    const n = state.render.scheduler.release(LOCAL);
    log.error("Local rendering stopped: {message}; {n} of its units go to the slaves", {
      message: error instanceof Error ? error.message : String(error),
      n,
    });
    state.signal();
  } finally {
    info.active = false;
    renderer?.destroy();
  }
}
