import type { Texture } from "../scene/types.ts";

// Mip chains of textures, built at compile time and stored in the render data's texels section.

/** Width and height of every level of a `width`×`height` texture, level 0 first, down to 1×1. */
export function mipSizes(width: number, height: number): { width: number; height: number }[] {
  const sizes = [{ width, height }];
  while (width > 1 || height > 1) {
    width = Math.max(1, width >> 1);
    height = Math.max(1, height >> 1);
    sizes.push({ width, height });
  }
  return sizes;
}

/** Texels of the first `levels` levels of a `width`×`height` texture's chain (as the kernel adds them up). */
export function mipTexels(width: number, height: number, levels: number): number {
  let n = 0;
  for (const s of mipSizes(width, height).slice(0, levels)) n += s.width * s.height;
  return n;
}

/**
 * The header of a stored mip chain: one 32-bit word per level, the level's first texel counted from the
 * chain's start (the header itself comes first, so level 0 starts at `levels`). The kernel reads a level's
 * place from it instead of adding the sizes up.
 */
export function mipHeader(width: number, height: number, levels: number): Uint32Array {
  const header = new Uint32Array(levels);
  for (let k = 0; k < levels; k++) header[k] = levels + mipTexels(width, height, k);
  return header;
}

/** 32-bit words of a stored chain of `levels` levels: its header and its texels. */
export function storedChainWords(width: number, height: number, levels: number): number {
  return levels + mipTexels(width, height, levels);
}

/** A texture's mip chain: every level's RGBA8 texels, level 0 first, one after another. */
export interface MipChain {
  /** Number of levels (level 0 is the texture itself; the last is 1×1). */
  levels: number;
  /** The levels' texels, 4 bytes each, rows from the top. */
  rgba: Uint8Array;
}

/**
 * Builds the mip chain of an RGBA8 texture: each level halves the one above (rounding down, at least 1),
 * every level filtered from level 0's values kept in floats (no rounding piles up down the chain) by a box
 * whose footprint is exactly the source area a texel covers, so odd sizes weigh their edge texels by the
 * fraction that falls in each, and every level keeps the texture's mean. Colour textures (`srgb`) are
 * filtered in linear light and encoded back to sRGB, their colour weighted by alpha where some texel is not
 * opaque; alpha and data textures are filtered as they are.
 */
export function mipChain(texture: Texture, srgb: boolean): MipChain {
  const { width, height, rgba } = texture;
  const sizes = mipSizes(width, height);
  const out = new Uint8Array(mipTexels(width, height, sizes.length) * 4);
  out.set(rgba.subarray(0, width * height * 4));
  const decode = srgb ? SRGB_TO_LINEAR : LINEAR_BYTE;
  // a colour texture with coverage (alpha below 1 somewhere: foliage, fences) is filtered with its colour
  // weighted by alpha, so that transparent texels (often black) do not darken the opaque ones they border
  let premultiplied = false;
  for (let i = 3; srgb && !premultiplied && i < width * height * 4; i += 4) premultiplied = rgba[i]! < 255;
  let level = new Float32Array(width * height * 4);
  for (let i = 0; i < level.length; i += 4) {
    const a = rgba[i + 3]! / 255, weight = premultiplied ? a : 1;
    level[i] = decode[rgba[i]!]! * weight;
    level[i + 1] = decode[rgba[i + 1]!]! * weight;
    level[i + 2] = decode[rgba[i + 2]!]! * weight;
    level[i + 3] = a;
  }
  let at = width * height * 4;
  for (let k = 1; k < sizes.length; k++) {
    const from = sizes[k - 1]!, to = sizes[k]!;
    const rows = resample(level, from.width, from.height, to.width, true);
    level = resample(rows, to.width, from.height, to.height, false);
    for (let i = 0; i < level.length; i += 4) {
      const unweight = premultiplied ? (level[i + 3]! > 0 ? 1 / level[i + 3]! : 0) : 1;
      for (let c = 0; c < 3; c++) {
        const v = level[i + c]! * unweight;
        out[at + i + c] = srgb ? encodeSrgb(v) : Math.round(clamp01(v) * 255);
      }
      out[at + i + 3] = Math.round(clamp01(level[i + 3]!) * 255);
    }
    at += level.length;
  }
  return { levels: sizes.length, rgba: out };
}

/**
 * Shrinks `src` (w×h, 4 floats a texel) to `n` texels along x (`alongX`) or y: output texel i averages the
 * source interval [i·s, (i+1)·s) with s = size / n, each source texel weighted by its overlap.
 */
function resample(
  src: Float32Array,
  w: number,
  h: number,
  n: number,
  alongX: boolean,
): Float32Array<ArrayBuffer> {
  const size = alongX ? w : h;
  const outW = alongX ? n : w, outH = alongX ? h : n;
  const dst = new Float32Array(outW * outH * 4);
  if (n === size) {
    dst.set(src);
    return dst;
  }
  const [stride, lines, lineStride] = alongX ? [4, h, w * 4] : [w * 4, w, 4];
  const [outStride, outLineStride] = alongX ? [4, outW * 4] : [outW * 4, 4];
  if (size === 2 * n) {
    // the common case: each output texel is the mean of two
    for (let line = 0; line < lines; line++) {
      const base = line * lineStride, outBase = line * outLineStride;
      for (let i = 0; i < n; i++) {
        const a = base + 2 * i * stride, b = a + stride, o = outBase + i * outStride;
        dst[o] = 0.5 * (src[a]! + src[b]!);
        dst[o + 1] = 0.5 * (src[a + 1]! + src[b + 1]!);
        dst[o + 2] = 0.5 * (src[a + 2]! + src[b + 2]!);
        dst[o + 3] = 0.5 * (src[a + 3]! + src[b + 3]!);
      }
    }
    return dst;
  }
  const s = size / n;
  // taps of each output texel: first source index and weights
  const firsts: number[] = [], weights: number[][] = [];
  for (let i = 0; i < n; i++) {
    const a = i * s, b = (i + 1) * s;
    const first = Math.floor(a), wts: number[] = [];
    for (let j = first; j < Math.min(size, Math.ceil(b)); j++) {
      wts.push((Math.min(b, j + 1) - Math.max(a, j)) / s);
    }
    firsts.push(first);
    weights.push(wts);
  }
  for (let line = 0; line < lines; line++) {
    const base = line * lineStride, outBase = line * outLineStride;
    for (let i = 0; i < n; i++) {
      const wts = weights[i]!;
      let r = 0, g = 0, bl = 0, al = 0;
      for (let t = 0; t < wts.length; t++) {
        const o = base + (firsts[i]! + t) * stride, wt = wts[t]!;
        r += src[o]! * wt, g += src[o + 1]! * wt, bl += src[o + 2]! * wt, al += src[o + 3]! * wt;
      }
      const o = outBase + i * outStride;
      dst[o] = r, dst[o + 1] = g, dst[o + 2] = bl, dst[o + 3] = al;
    }
  }
  return dst;
}

function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

const SRGB_TO_LINEAR = Float32Array.from({ length: 256 }, (_, b) => srgbToLinear(b / 255));
const LINEAR_BYTE = Float32Array.from({ length: 256 }, (_, b) => b / 255);
/** Linear values where the nearest 8-bit sRGB code goes from k to k + 1 (k = 0..254). */
const SRGB_STEPS = Float64Array.from({ length: 255 }, (_, k) => srgbToLinear((k + 0.5) / 255));

/** The 8-bit sRGB code nearest (in sRGB) to linear value `v`. */
function encodeSrgb(v: number): number {
  let lo = 0, hi = 255;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v >= SRGB_STEPS[mid]!) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
