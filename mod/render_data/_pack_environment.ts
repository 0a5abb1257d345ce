// Packs the environment into its ENVIRONMENT record, and a map into RGBE words and sampling CDFs.
import { ENVIRONMENT } from "../gpu_layout/mod.ts";
import { rgbeWord } from "../scene/hdr.ts";
import type { Environment } from "../scene/types.ts";

/**
 * The environment record, and for a map its RGBE texels followed by its sampling CDFs (marginal over rows,
 * then one conditional per row), weighted by luminance x sin θ so bright and large regions are picked.
 * @param offset where these words will start in the texels section, in 4-byte words
 */
export function packEnvironment(
  env: Environment,
  offset: number,
): { block: Float32Array; words: Uint32Array } {
  const block = new Float32Array(ENVIRONMENT.words);
  ENVIRONMENT.write(block, 0, { color: env.color, intensity: env.intensity ?? 1 });
  const map = env.map;
  if (!map) return { block, words: new Uint32Array(0) };
  const { width: w, height: h, rgb } = map;
  if (rgb.length !== w * h * 3) {
    throw new RangeError(
      `Cannot compile environment "${map.name ?? "?"}": ${rgb.length} values for ${w}x${h}`,
    );
  }
  const words = new Uint32Array(w * h * 2 + h);
  const cdf = new Float32Array(words.buffer);
  const weights = new Float64Array(w * h);
  const rowSums = new Float64Array(h);
  let total = 0;
  for (let y = 0; y < h; y++) {
    const sinTheta = Math.sin(Math.PI * (y + 0.5) / h);
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      words[i] = rgbeWord(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!);
      // the weight of what the GPU will read back: the RGBE-rounded value
      const e = words[i]! >>> 24, f = e === 0 ? 0 : Math.pow(2, e - 136);
      const lum = (0.2126 * (words[i]! & 255) + 0.7152 * ((words[i]! >>> 8) & 255) +
        0.0722 * ((words[i]! >>> 16) & 255)) * f;
      weights[i] = lum * sinTheta;
      rowSums[y]! += weights[i]!;
    }
    total += rowSums[y]!;
  }
  if (!(total > 0)) {
    throw new RangeError(`Cannot use environment "${map.name ?? "?"}": it is black everywhere`);
  }
  let acc = 0;
  for (let y = 0; y < h; y++) {
    acc += rowSums[y]!;
    cdf[w * h + y] = y === h - 1 ? 1 : acc / total;
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += weights[y * w + x]!;
      cdf[w * h + h + y * w + x] = x === w - 1 ? 1 : rowSums[y]! > 0 ? row / rowSums[y]! : (x + 1) / w;
    }
  }
  ENVIRONMENT.write(block, 0, {
    map_size: [w, h],
    texel_offset: offset,
    cdf_offset: offset + w * h,
    total_weight: total,
    has_map: 1,
  });
  return { block, words };
}

/**
 * The mean radiance of an environment record's map times its intensity (0 without a map): its sampling
 * weight (luminance x sin θ summed over texels) x π / (2 w h).
 */
export function environmentMeanRadiance(block: Float32Array): number {
  const env = ENVIRONMENT.read(block, 0);
  if (env.has_map === 0) return 0;
  return env.total_weight * Math.PI / (2 * env.map_size[0]! * env.map_size[1]!) * env.intensity;
}
