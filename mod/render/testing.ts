// Helpers shared by the renderer's GPU tests.
import type { Gpu } from "../gpu/mod.ts";
import type { RenderData } from "../render_data/mod.ts";
import { renderLocal } from "./local.ts";

/** Whether `a` and `b` differ by at most `relative` of the larger. */
export function close(a: number, b: number, relative: number): boolean {
  return Math.abs(a - b) <= relative * Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

/**
 * Image means of `data` rendered with next-event estimation and MIS, and with BSDF sampling alone (1024 spp at
 * 24x24, seed 9): the two unbiased estimators agree when the BSDF's sampling, pdf and evaluation agree.
 */
export async function misAndBsdfMeans(gpu: Gpu, data: RenderData): Promise<[number, number]> {
  const means: number[] = [];
  for (const strategy of ["mis", "bsdf"] as const) {
    const r = await renderLocal(gpu, data, { spp: 1024, width: 24, height: 24, seed: 9, strategy });
    means.push(r.sums.reduce((s, v) => s + v, 0) / (r.sums.length * r.samples));
  }
  return [means[0]!, means[1]!];
}
