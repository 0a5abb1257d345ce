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

/**
 * Encodes an image as a single-part scanline OpenEXR file: channels B, G, R in 32-bit float, no
 * compression, so every value is kept exactly.
 */
export function encodeExr(image: HdrImage): Uint8Array {
  const { width, height } = image;
  const header: number[] = [];
  // channel list: name, pixel type (2 = FLOAT), pLinear, 3 reserved, xSampling, ySampling; then a 0
  const channels: number[] = [];
  for (const name of ["B", "G", "R"]) {
    channels.push(...new TextEncoder().encode(name), 0);
    channels.push(
      ...bytes(16, (v) => (v.setInt32(0, 2, true), v.setInt32(8, 1, true), v.setInt32(12, 1, true))),
    );
  }
  channels.push(0);
  const box = bytes(16, (v) => (v.setInt32(8, width - 1, true), v.setInt32(12, height - 1, true)));
  attribute(header, "channels", "chlist", new Uint8Array(channels));
  attribute(header, "compression", "compression", new Uint8Array([0]));
  attribute(header, "dataWindow", "box2i", box);
  attribute(header, "displayWindow", "box2i", box);
  attribute(header, "lineOrder", "lineOrder", new Uint8Array([0]));
  attribute(header, "pixelAspectRatio", "float", bytes(4, (v) => v.setFloat32(0, 1, true)));
  attribute(header, "screenWindowCenter", "v2f", new Uint8Array(8));
  attribute(header, "screenWindowWidth", "float", bytes(4, (v) => v.setFloat32(0, 1, true)));
  header.push(0);

  const lineBytes = 8 + width * 12;
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
    view.setInt32(at + 4, width * 12, true);
    for (let c = 0; c < 3; c++) {
      const src = 2 - c; // B, G, R from rgb
      for (let x = 0; x < width; x++) {
        view.setFloat32(at + 8 + (c * width + x) * 4, image.rgb[(y * width + x) * 3 + src]!, true);
      }
    }
  }
  return out;
}

/** Decodes an uncompressed single-part scanline EXR with FLOAT B, G, R channels (what {@linkcode encodeExr} writes). */
export function decodeExr(data: Uint8Array): HdrImage {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 8 || view.getInt32(0, true) !== MAGIC) {
    throw new SyntaxError("Cannot decode EXR: wrong magic number");
  }
  let at = 8, width = 0, height = 0;
  const readString = () => {
    const end = data.indexOf(0, at);
    if (end < 0) throw new SyntaxError("Cannot decode EXR: truncated header");
    const s = new TextDecoder().decode(data.subarray(at, end));
    at = end + 1;
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
    at += 4 + size;
  }
  const rgb = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const line = Number(view.getBigUint64(at + y * 8, true));
    if (line + 8 + width * 12 > data.length) throw new SyntaxError("Cannot decode EXR: truncated pixel data");
    for (let c = 0; c < 3; c++) {
      for (let x = 0; x < width; x++) {
        rgb[(y * width + x) * 3 + 2 - c] = view.getFloat32(line + 8 + (c * width + x) * 4, true);
      }
    }
  }
  return { width, height, rgb };
}
