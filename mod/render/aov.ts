import { join } from "node:path";
import { encodeExrChannels, type ExrChannels } from "./exr.ts";
import { encodePng, pngFromRgb8 } from "./image.ts";

// The AOVs a denoiser reads beside the colour (first-hit albedo and shading normal): per-pixel means from the
// sums a render accumulates, and the files they are written to.

/** Per-pixel AOV means of an image, 3 floats a pixel each, row-major from the top. */
export interface AovImages {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Mean albedo, rgb in [0, 1]. */
  albedo: Float32Array;
  /**
   * Mean world-space shading normal, xyz in [-1, 1]: unit length where every sample of a pixel saw one
   * surface, shorter at edges, 0 where the pixel sees the environment.
   */
  normal: Float32Array;
}

/** Floats a pixel of AOV sums hold: albedo rgb, then normal xyz. */
export const AOV_FLOATS = 6;

/**
 * Divides per-pixel AOV sums (6 floats a pixel: albedo rgb, normal xyz, as `GpuRenderer.render`,
 * `renderLocal` and `Master.run` return them) by the sample count, one for the image or one per row (a row
 * of none is 0), exactly as `meanImage` does radiance.
 * @example
 * ```ts ignore
 * const result = await renderLocal(gpu, data, { spp: 16, width, height, aovs: true });
 * const { albedo, normal } = aovMeans(result.aovs!, result.samples, width, height);
 * ```
 */
export function aovMeans(
  sums: ArrayLike<number>,
  samples: number | ArrayLike<number>,
  width: number,
  height: number,
): AovImages {
  if (sums.length !== width * height * AOV_FLOATS) {
    throw new RangeError(`Cannot make AOV images: ${sums.length} values for ${width}x${height} pixels`);
  }
  const albedo = new Float32Array(width * height * 3);
  const normal = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const n = typeof samples === "number" ? samples : samples[y]!;
    const inv = n > 0 ? 1 / n : 0;
    for (let p = y * width; p < (y + 1) * width; p++) {
      for (let c = 0; c < 3; c++) {
        albedo[p * 3 + c] = sums[p * AOV_FLOATS + c]! * inv;
        normal[p * 3 + c] = sums[p * AOV_FLOATS + 3 + c]! * inv;
      }
    }
  }
  return { width, height, albedo, normal };
}

/**
 * A tile's values as one array, as a work unit's result travels and is merged: the radiance sums (3 a
 * pixel), then the AOV sums (6 a pixel) when the tile has them.
 */
export function tileFloats(tile: { sums: Float32Array; aovs?: Float32Array }): Float32Array {
  if (!tile.aovs) return tile.sums;
  const all = new Float32Array(tile.sums.length + tile.aovs.length);
  all.set(tile.sums);
  all.set(tile.aovs, tile.sums.length);
  return all;
}

/** The files `--aov DIR` writes, by name. */
export const AOV_FILES = ["albedo.exr", "normal.exr", "albedo.png", "normal.png"] as const;

/**
 * Writes the AOVs as separate files in folder `dir` (which must exist): `albedo.exr` (linear albedo as R, G,
 * B), `normal.exr` (the world-space normal's X, Y, Z as R, G, B, in [-1, 1]), both FLOAT and uncompressed,
 * and 8-bit previews: `albedo.png` (sRGB) and `normal.png` (n · 0.5 + 0.5 per channel, as normal maps are
 * shown).
 * @returns the paths written
 */
export async function writeAovFiles(dir: string, aovs: AovImages): Promise<string[]> {
  const { width, height } = aovs;
  const rgbChannels = (values: Float32Array) => {
    const channels: ExrChannels = new Map();
    ["R", "G", "B"].forEach((name, c) => {
      const plane = new Float32Array(width * height);
      for (let i = 0; i < plane.length; i++) plane[i] = values[i * 3 + c]!;
      channels.set(name, plane);
    });
    return channels;
  };
  const normal8 = new Uint8Array(width * height * 3);
  for (let i = 0; i < normal8.length; i++) {
    normal8[i] = Math.round(Math.min(1, Math.max(0, aovs.normal[i]! * 0.5 + 0.5)) * 255);
  }
  const files: [string, Uint8Array][] = [
    ["albedo.exr", encodeExrChannels(width, height, rgbChannels(aovs.albedo))],
    ["normal.exr", encodeExrChannels(width, height, rgbChannels(aovs.normal))],
    ["albedo.png", encodePng({ width, height, rgb: aovs.albedo })],
    ["normal.png", pngFromRgb8(normal8, width, height)],
  ];
  const written: string[] = [];
  for (const [name, bytes] of files) {
    const path = join(dir, name);
    await Deno.writeFile(path, bytes);
    written.push(path);
  }
  return written;
}
