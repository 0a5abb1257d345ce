import { pngFromRgb8 } from "../render/mod.ts";

/** Entries of the linear-to-sRGB table (linear values in [0, 1]). */
const LUT_SIZE = 4096;

/** 8-bit sRGB of linear values k / (LUT_SIZE - 1). */
const SRGB_LUT = (() => {
  const lut = new Uint8Array(LUT_SIZE);
  for (let k = 0; k < LUT_SIZE; k++) {
    const c = k / (LUT_SIZE - 1);
    lut[k] = Math.round(255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055));
  }
  return lut;
})();

/** What a preview is made of: the film's sums and each row's samples. */
export interface Film {
  /** Radiance sums, rgb per pixel. */
  sums: ArrayLike<number>;
  /** Samples merged for each row. */
  rowSamples: ArrayLike<number>;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/**
 * The film so far as a PNG for the live view: each row's mean, scaled by 2^exposure, to sRGB through a
 * table (not bit-exact with the written image, and much faster), deflated at the fastest level.
 */
export function previewPng(film: Film, exposure: number): Uint8Array {
  const { sums, rowSamples, width, height } = film;
  const pixels = new Uint8Array(width * height * 3);
  const scale = Math.pow(2, exposure) * (LUT_SIZE - 1);
  for (let y = 0; y < height; y++) {
    const n = rowSamples[y]!;
    const k = n > 0 ? scale / n : 0;
    for (let i = y * width * 3, end = i + width * 3; i < end; i++) {
      const v = sums[i]! * k;
      pixels[i] = SRGB_LUT[v >= LUT_SIZE - 1 ? LUT_SIZE - 1 : v > 0 ? v | 0 : 0]!;
    }
  }
  return pngFromRgb8(pixels, width, height, { level: 1 });
}
