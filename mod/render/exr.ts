import type { AovImages } from "./aov.ts";
import type { HdrImage } from "./image.ts";

const MAGIC = 20000630;

/** Writes one EXR header attribute: name, type, size, value. */
function attribute(parts: number[], name: string, type: string, value: Uint8Array): void {
  for (const s of [name, type]) parts.push(...new TextEncoder().encode(s), 0);
  const size = new Uint8Array(4);
  new DataView(size.buffer).setInt32(0, value.length, true);
  parts.push(...size, ...value);
}

function bytes(length: number, fill: (view: DataView) => void): Uint8Array {
  const out = new Uint8Array(length);
  fill(new DataView(out.buffer));
  return out;
}

/** Channels of an EXR file by name, one float per pixel each, row-major from the top. */
export type ExrChannels = Map<string, Float32Array>;

/**
 * Encodes an image as a single-part scanline OpenEXR file: channels B, G, R in 32-bit float, no
 * compression, so every value is kept exactly. With `aovs`, also albedo.B, albedo.G, albedo.R, normal.X,
 * normal.Y and normal.Z (the layers compositors and denoisers read).
 */
export function encodeExr(image: HdrImage, options: { aovs?: AovImages } = {}): Uint8Array {
  const channels: ExrChannels = new Map();
  const plane = (src: Float32Array, c: number) => {
    const out = new Float32Array(image.width * image.height);
    for (let i = 0; i < out.length; i++) out[i] = src[i * 3 + c]!;
    return out;
  };
  ["R", "G", "B"].forEach((name, c) => channels.set(name, plane(image.rgb, c)));
  if (options.aovs) {
    ["R", "G", "B"].forEach((name, c) => channels.set(`albedo.${name}`, plane(options.aovs!.albedo, c)));
    ["X", "Y", "Z"].forEach((name, c) => channels.set(`normal.${name}`, plane(options.aovs!.normal, c)));
  }
  return encodeExrChannels(image.width, image.height, channels);
}

/**
 * Encodes FLOAT channels as a single-part scanline OpenEXR file, uncompressed; the channels are stored in
 * the order of their names' bytes, as the format requires.
 */
export function encodeExrChannels(width: number, height: number, channels: ExrChannels): Uint8Array {
  const names = [...channels.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  const header: number[] = [];
  // channel list: name, pixel type (2 = FLOAT), pLinear, 3 reserved, xSampling, ySampling; then a 0
  const list: number[] = [];
  for (const name of names) {
    list.push(...new TextEncoder().encode(name), 0);
    list.push(
      ...bytes(16, (v) => (v.setInt32(0, 2, true), v.setInt32(8, 1, true), v.setInt32(12, 1, true))),
    );
  }
  list.push(0);
  const box = bytes(16, (v) => (v.setInt32(8, width - 1, true), v.setInt32(12, height - 1, true)));
  attribute(header, "channels", "chlist", new Uint8Array(list));
  attribute(header, "compression", "compression", new Uint8Array([0]));
  attribute(header, "dataWindow", "box2i", box);
  attribute(header, "displayWindow", "box2i", box);
  attribute(header, "lineOrder", "lineOrder", new Uint8Array([0]));
  attribute(header, "pixelAspectRatio", "float", bytes(4, (v) => v.setFloat32(0, 1, true)));
  attribute(header, "screenWindowCenter", "v2f", new Uint8Array(8));
  attribute(header, "screenWindowWidth", "float", bytes(4, (v) => v.setFloat32(0, 1, true)));
  header.push(0);

  const lineBytes = 8 + width * 4 * names.length;
  const start = 8 + header.length + height * 8;
  const out = new Uint8Array(start + height * lineBytes);
  const view = new DataView(out.buffer);
  view.setInt32(0, MAGIC, true);
  view.setInt32(4, 2, true); // version 2, single-part scanline
  out.set(header, 8);
  for (let y = 0; y < height; y++) {
    const at = start + y * lineBytes;
    view.setBigUint64(8 + header.length + y * 8, BigInt(at), true);
    view.setInt32(at, y, true);
    view.setInt32(at + 4, width * 4 * names.length, true);
    names.forEach((name, c) => {
      const src = channels.get(name)!;
      for (let x = 0; x < width; x++) {
        view.setFloat32(at + 8 + (c * width + x) * 4, src[y * width + x]!, true);
      }
    });
  }
  return out;
}

/**
 * Decodes an uncompressed single-part scanline EXR with FLOAT B, G, R channels (what {@linkcode encodeExr}
 * writes; other channels beside them are skipped).
 */
export function decodeExr(data: Uint8Array): HdrImage {
  const { width, height, channels } = decodeExrChannels(data);
  const rgb = new Float32Array(width * height * 3);
  ["R", "G", "B"].forEach((name, c) => {
    const plane = channels.get(name);
    if (!plane) throw new SyntaxError(`Cannot decode EXR: no channel ${name}`);
    for (let i = 0; i < width * height; i++) rgb[i * 3 + c] = plane[i]!;
  });
  return { width, height, rgb };
}

/** Decodes every channel of an uncompressed single-part scanline EXR of FLOAT channels. */
export function decodeExrChannels(
  data: Uint8Array,
): { width: number; height: number; channels: ExrChannels } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 8 || view.getInt32(0, true) !== MAGIC) {
    throw new SyntaxError("Cannot decode EXR: wrong magic number");
  }
  let at = 8, width = 0, height = 0;
  const names: string[] = [];
  const readString = (end = data.length) => {
    const zero = data.subarray(0, end).indexOf(0, at);
    if (zero < 0) throw new SyntaxError("Cannot decode EXR: truncated header");
    const s = new TextDecoder().decode(data.subarray(at, zero));
    at = zero + 1;
    return s;
  };
  for (;;) {
    const name = readString();
    if (name === "") break;
    const type = readString();
    const size = view.getInt32(at, true);
    if (name === "compression" && data[at + 4] !== 0) {
      throw new SyntaxError("Cannot decode EXR: only uncompressed files are supported");
    }
    if (name === "dataWindow" && type === "box2i") {
      width = view.getInt32(at + 12, true) - view.getInt32(at + 4, true) + 1;
      height = view.getInt32(at + 16, true) - view.getInt32(at + 8, true) + 1;
    }
    if (name === "channels" && type === "chlist") {
      const end = at + 4 + size;
      const saved = at;
      at += 4;
      for (;;) {
        const channel = readString(end);
        if (channel === "") break;
        if (view.getInt32(at, true) !== 2) {
          throw new SyntaxError(`Cannot decode EXR: channel ${channel} is not FLOAT`);
        }
        names.push(channel);
        at += 16;
      }
      at = saved;
    }
    at += 4 + size;
  }
  const channels: ExrChannels = new Map(names.map((n) => [n, new Float32Array(width * height)]));
  const lineBytes = 8 + width * 4 * names.length;
  for (let y = 0; y < height; y++) {
    const line = Number(view.getBigUint64(at + y * 8, true));
    if (line + lineBytes > data.length) throw new SyntaxError("Cannot decode EXR: truncated pixel data");
    names.forEach((name, c) => {
      const plane = channels.get(name)!;
      for (let x = 0; x < width; x++) {
        plane[y * width + x] = view.getFloat32(line + 8 + (c * width + x) * 4, true);
      }
    });
  }
  return { width, height, channels };
}
