import { decode as decodePngFile } from "fast-png";
import jpeg from "jpeg-js";
import type { Texture } from "./types.ts";

/** Largest texture side accepted; bigger images are refused rather than exhausting GPU memory. */
export const MAX_TEXTURE_SIDE = 8192;

/**
 * Decodes a PNG (any bit depth, palette, grey, alpha, interlaced) or a baseline/progressive JPEG into
 * an RGBA8 texture.
 * @throws {SyntaxError} naming the image when it cannot be decoded
 */
export function decodeImage(bytes: Uint8Array, name: string): Texture {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    if (isPng) return pngTexture(bytes, name);
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return checked({
        name,
        width: img.width,
        height: img.height,
        rgba: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength),
      });
    }
  } catch (error: unknown) {
    if (error instanceof RangeError) throw error;
    throw new SyntaxError(
      `Cannot decode image "${name}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  throw new SyntaxError(`Cannot decode image "${name}": only PNG and JPEG images are supported`);
}

function pngTexture(bytes: Uint8Array, name: string): Texture {
  const png = decodePngFile(bytes);
  const { width, height, channels } = png;
  const palette = png.palette;
  const src = png.data;
  const scale = png.depth === 16 ? 1 / 257 : png.depth < 8 && !palette ? 255 / ((1 << png.depth) - 1) : 1;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    if (palette) {
      const entry = palette[src[i]!] ?? [0, 0, 0, 255];
      rgba.set([entry[0]!, entry[1]!, entry[2]!, entry[3] ?? 255], i * 4);
      continue;
    }
    const px = (c: number) => Math.round(src[i * channels + c]! * scale);
    if (channels >= 3) rgba.set([px(0), px(1), px(2), channels === 4 ? px(3) : 255], i * 4);
    else rgba.set([px(0), px(0), px(0), channels === 2 ? px(1) : 255], i * 4);
  }
  return checked({ name, width, height, rgba });
}

function checked(t: Texture): Texture {
  if (t.width < 1 || t.height < 1 || t.width > MAX_TEXTURE_SIDE || t.height > MAX_TEXTURE_SIDE) {
    throw new RangeError(
      `Cannot use image "${t.name}": ${t.width}x${t.height} is outside 1 to ${MAX_TEXTURE_SIDE} texels a side`,
    );
  }
  return t;
}
