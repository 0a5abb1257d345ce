import { decode as decodePngFile } from "fast-png";
import jpeg from "jpeg-js";
import { crc32 } from "node:zlib";
import type { Texture } from "./types.ts";

/** Largest texture side accepted; bigger images are refused rather than exhausting GPU memory. */
export const MAX_TEXTURE_SIDE = 8192;

/** Options of {@linkcode decodeImage}. */
export interface DecodeImageOptions {
  /** The scene file that uses the image, named in messages. */
  scene?: string;
}

/** Raised for an image that is not a PNG or JPEG, or is corrupt or truncated. */
export class ImageError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ImageError";
  }
}

/**
 * Decodes a PNG (any bit depth, palette, grey, alpha, interlaced) or a baseline/progressive JPEG into
 * an RGBA8 texture.
 * @throws {ImageError} naming the image (and its scene) and saying what is wrong with it
 * @throws {RangeError} when the image is larger than {@linkcode MAX_TEXTURE_SIDE}
 */
export function decodeImage(bytes: Uint8Array, name: string, options: DecodeImageOptions = {}): Texture {
  const of = options.scene === undefined ? "" : ` of "${options.scene}"`;
  const fail = (what: string, cause?: unknown): never => {
    throw new ImageError(`Cannot load texture "${name}"${of}: ${what}`, { cause });
  };
  // the decoders' own words, where they say something ("Error while decompressing the data:" does not)
  const detail = (error: unknown) =>
    (error instanceof Error ? error.message : String(error)).split("\n")[0]!.replace(/:$/, "");
  const attempt = <T>(decode: () => T, what: string): T => {
    try {
      return decode();
    } catch (error: unknown) {
      return fail(`${what} (${detail(error)})`, error);
    }
  };
  if (bytes.length === 0) fail("the file is empty");
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    const problem = pngStructureProblem(bytes);
    if (problem) fail(problem);
    return checked(
      pngTexture(attempt(() => decodePngFile(bytes), "its PNG image data is corrupt"), name),
      of,
    );
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const img = attempt(
      () => jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 }),
      "the JPEG is corrupt or truncated",
    );
    return checked({
      name,
      width: img.width,
      height: img.height,
      rgba: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength),
    }, of);
  }
  return fail(`not a PNG or JPEG image (it starts with ${startOf(bytes)})`);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Walks a PNG's chunks: the first must be IHDR, none may run past the end or fail its CRC, and IEND must
 * close it.
 */
function pngStructureProblem(bytes: Uint8Array): string | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  for (let chunk = 0;; chunk++) {
    if (at + 8 > bytes.length) {
      return `the PNG ends after ${bytes.length} bytes, before its IEND chunk (truncated?)`;
    }
    const length = dv.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (chunk === 0 && type !== "IHDR") {
      return "not a valid PNG: it has a PNG signature but no IHDR chunk (corrupt?)";
    }
    // the size first: a huge image would be inflated in full before the decoder's own checks
    if (chunk === 0 && length >= 8 && at + 16 <= bytes.length) {
      const width = dv.getUint32(at + 8), height = dv.getUint32(at + 12);
      if (width < 1 || height < 1 || width > MAX_TEXTURE_SIDE || height > MAX_TEXTURE_SIDE) {
        return `${width}x${height} is outside 1 to ${MAX_TEXTURE_SIDE} texels a side`;
      }
    }
    if (!/^[A-Za-z]{4}$/.test(type)) return `not a valid PNG: chunk ${chunk} has a malformed type (corrupt?)`;
    if (at + 12 + length > bytes.length) {
      return `the PNG ends after ${bytes.length} bytes, inside its ${type} chunk (truncated?)`;
    }
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== dv.getUint32(at + 8 + length)) {
      return `the PNG's ${type} chunk fails its CRC check (the file is corrupt)`;
    }
    if (type === "IEND") return undefined;
    at += 12 + length;
  }
}

/** The first bytes of a file: as text where at least three are printable (a signature like "GIF89a"), else in hex. */
function startOf(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 8);
  const text = /^[\x20-\x7e]*/.exec(String.fromCharCode(...head))![0];
  return text.length >= 3 || text.length === head.length
    ? JSON.stringify(text)
    : [...head].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

function pngTexture(png: ReturnType<typeof decodePngFile>, name: string): Texture {
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
  return { name, width, height, rgba };
}

function checked(t: Texture, of: string): Texture {
  if (t.width < 1 || t.height < 1 || t.width > MAX_TEXTURE_SIDE || t.height > MAX_TEXTURE_SIDE) {
    throw new RangeError(
      `Cannot use texture "${t.name}"${of}: ${t.width}x${t.height} is outside 1 to ${MAX_TEXTURE_SIDE} texels a side`,
    );
  }
  return t;
}
