import { deflateSync, inflateSync } from "node:zlib";

/** A linear-radiance RGB image, 3 floats per pixel, row-major from the top. */
export interface HdrImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Mean radiance per pixel, rgb. */
  rgb: Float32Array;
}

/** Divides per-pixel sums by the sample count: one for the image, or one per row (a row of none is black). */
export function meanImage(
  sums: ArrayLike<number>,
  samples: number | ArrayLike<number>,
  width: number,
  height: number,
): HdrImage {
  if (sums.length !== width * height * 3) {
    throw new RangeError(`Cannot make an image: ${sums.length} values for ${width}x${height} pixels`);
  }
  const rgb = new Float32Array(sums.length);
  for (let y = 0; y < height; y++) {
    const n = typeof samples === "number" ? samples : samples[y]!;
    const inv = n > 0 ? 1 / n : 0;
    for (let i = y * width * 3; i < (y + 1) * width * 3; i++) rgb[i] = sums[i]! * inv;
  }
  return { width, height, rgb };
}

function srgbEncode(linear: number): number {
  const c = Math.min(1, Math.max(0, linear));
  const s = c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055;
  return Math.round(s * 255);
}

/** Tone maps linear radiance to 8-bit sRGB (exposure 1, clamped), 3 bytes per pixel. */
export function toSrgb8(image: HdrImage): Uint8Array {
  const out = new Uint8Array(image.rgb.length);
  for (let i = 0; i < out.length; i++) out[i] = srgbEncode(image.rgb[i]!);
  return out;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Encodes an image as an 8-bit RGB PNG, tone mapped with {@linkcode toSrgb8}. */
export function encodePng(image: HdrImage): Uint8Array {
  return pngFromRgb8(toSrgb8(image), image.width, image.height);
}

/**
 * Encodes 8-bit RGB pixels (3 bytes a pixel, rows from the top) as a PNG; `level` is the deflate level
 * (1: fastest, for previews).
 */
export function pngFromRgb8(
  pixels: Uint8Array,
  width: number,
  height: number,
  options: { level?: number } = {},
): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw.set(pixels.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, adaptive filtering, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk(
      "IDAT",
      new Uint8Array(deflateSync(raw, options.level === undefined ? {} : { level: options.level })),
    ),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG into RGB bytes (for tests and image comparison). */
export function decodePng(bytes: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0) !== 0x89504e47) {
    throw new SyntaxError("Cannot decode PNG: wrong signature");
  }
  let at = 8, width = 0, height = 0, channels = 3;
  const idat: Uint8Array[] = [];
  while (at + 8 <= bytes.length) {
    const len = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(at + 8), height = view.getUint32(at + 12);
      const depth = data[8], color = data[9], interlace = data[12];
      if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) {
        throw new SyntaxError("Cannot decode PNG: only 8-bit RGB(A) without interlace is supported");
      }
      channels = color === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    at += 12 + len;
  }
  const joined = new Uint8Array(idat.reduce((n, d) => n + d.length, 0));
  idat.reduce((at, d) => (joined.set(d, at), at + d.length), 0);
  const raw = new Uint8Array(inflateSync(joined));
  const stride = width * channels;
  const cur = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? cur[y * stride + x - channels]! : 0;
      const b = y > 0 ? cur[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? cur[(y - 1) * stride + x - channels]! : 0;
      let p = line[x]!;
      if (filter === 1) p += a;
      else if (filter === 2) p += b;
      else if (filter === 3) p += (a + b) >> 1;
      else if (filter === 4) {
        const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c);
        p += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[y * stride + x] = p & 0xff;
    }
  }
  if (channels === 3) return { width, height, rgb: cur };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(cur.subarray(i * 4, i * 4 + 3), i * 3);
  return { width, height, rgb };
}

/** Encodes an image as a little-endian colour PFM (linear float, rows from the bottom as the format wants). */
export function encodePfm(image: HdrImage): Uint8Array {
  const { width, height } = image;
  const header = new TextEncoder().encode(`PF\n${width} ${height}\n-1.0\n`);
  const out = new Uint8Array(header.length + width * height * 12);
  out.set(header);
  const body = new DataView(out.buffer, header.length);
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * width * 3;
    for (let i = 0; i < width * 3; i++) body.setFloat32((y * width * 3 + i) * 4, image.rgb[src + i]!, true);
  }
  return out;
}

/** Decodes a colour PFM (either byte order) into a top-down image. */
export function decodePfm(bytes: Uint8Array): HdrImage {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(bytes.length, 128)));
  const m = /^PF\s+(\d+)\s+(\d+)\s+(-?[\d.eE+-]+)\s/.exec(text);
  if (!m) throw new SyntaxError("Cannot decode PFM: not a colour PFM header");
  const width = Number(m[1]), height = Number(m[2]), little = Number(m[3]) < 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset + m[0].length);
  if (view.byteLength < width * height * 12) {
    throw new SyntaxError("Cannot decode PFM: the file is truncated");
  }
  const rgb = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const dst = (height - 1 - y) * width * 3;
    for (let i = 0; i < width * 3; i++) rgb[dst + i] = view.getFloat32((y * width * 3 + i) * 4, little);
  }
  return { width, height, rgb };
}
