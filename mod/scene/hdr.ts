/** An equirectangular environment map in linear radiance: +Y up, u = φ / 2π around it, v = θ / π from the top. */
export interface EnvMap {
  /** Name for messages. */
  name?: string;
  /** Width in texels (φ). */
  width: number;
  /** Height in texels (θ). */
  height: number;
  /** 3 floats per texel, rows from the top (θ = 0). */
  rgb: Float32Array;
}

/** Raised for a Radiance file that cannot be decoded. */
export class HdrError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HdrError";
  }
}

/**
 * Decodes a Radiance RGBE (`.hdr`, `.pic`) image: flat or run-length-encoded scanlines, standard
 * orientation (`-Y H +X W`).
 * @throws {HdrError} naming the problem
 */
export function decodeHdr(bytes: Uint8Array, name = "environment"): EnvMap {
  const fail = (what: string): never => {
    throw new HdrError(`Cannot load environment "${name}": ${what}`);
  };
  let at = 0;
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0 || end - at > 4096) fail("the header is truncated");
    const s = new TextDecoder("latin1").decode(bytes.subarray(at, end));
    at = end + 1;
    return s;
  };
  const magic = line();
  if (!magic.startsWith("#?")) fail("not a Radiance .hdr file (no #? signature)");
  for (;;) {
    const l = line();
    if (l === "") break;
    if (l.startsWith("FORMAT=") && l !== "FORMAT=32-bit_rle_rgbe") {
      fail(`unsupported ${l} (only 32-bit_rle_rgbe)`);
    }
  }
  const res = /^-Y (\d+) \+X (\d+)$/.exec(line().trim()) ??
    fail("only the standard orientation -Y H +X W is supported");
  const height = Number(res[1]), width = Number(res[2]);
  if (width < 1 || height < 1 || width > 32768 || height > 32768) {
    fail(`${width}x${height} is not a usable size`);
  }
  const rgbe = new Uint8Array(width * height * 4);
  const scan = new Uint8Array(width * 4);
  for (let y = 0; y < height; y++) {
    if (at + 4 > bytes.length) fail(`the pixel data is truncated at row ${y}`);
    const rle = width >= 8 && width < 32768 && bytes[at] === 2 && bytes[at + 1] === 2 &&
      (bytes[at + 2]! & 0x80) === 0;
    if (!rle) {
      if (at + width * 4 > bytes.length) fail(`the pixel data is truncated at row ${y}`);
      rgbe.set(bytes.subarray(at, at + width * 4), y * width * 4);
      at += width * 4;
      continue;
    }
    if (((bytes[at + 2]! << 8) | bytes[at + 3]!) !== width) {
      fail(`row ${y} has a run-length header for another width`);
    }
    at += 4;
    for (let c = 0; c < 4; c++) {
      let x = 0;
      while (x < width) {
        if (at >= bytes.length) fail(`the pixel data is truncated at row ${y}`);
        let count = bytes[at++]!;
        if (count > 128) {
          count -= 128;
          if (count === 0 || x + count > width || at >= bytes.length) fail(`row ${y} has a bad run`);
          const value = bytes[at++]!;
          for (let k = 0; k < count; k++) scan[(x + k) * 4 + c] = value;
        } else {
          if (count === 0 || x + count > width || at + count > bytes.length) {
            fail(`row ${y} has a bad literal`);
          }
          for (let k = 0; k < count; k++) scan[(x + k) * 4 + c] = bytes[at + k]!;
          at += count;
        }
        x += count;
      }
    }
    rgbe.set(scan, y * width * 4);
  }
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const e = rgbe[i * 4 + 3]!;
    if (e === 0) continue;
    const f = Math.pow(2, e - 136);
    rgb[i * 3] = rgbe[i * 4]! * f,
      rgb[i * 3 + 1] = rgbe[i * 4 + 1]! * f,
      rgb[i * 3 + 2] = rgbe[i * 4 + 2]! * f;
  }
  return { name, width, height, rgb };
}

/** Encodes linear RGB as an RGBE word (r, g, b, exponent bytes, little-endian u32). */
export function rgbeWord(r: number, g: number, b: number): number {
  const m = Math.max(r, g, b);
  if (!(m > 1e-32)) return 0;
  const e = Math.ceil(Math.log2(m * (1 + 1e-7)));
  const f = Math.pow(2, 8 - e);
  const q = (v: number) => Math.min(255, Math.max(0, Math.floor(v * f)));
  return (q(r) | (q(g) << 8) | (q(b) << 16) | ((e + 128) << 24)) >>> 0;
}

/** Writes a flat (uncompressed) Radiance file: for tests and tools. */
export function encodeHdr(map: EnvMap): Uint8Array {
  const header = new TextEncoder().encode(
    `#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y ${map.height} +X ${map.width}\n`,
  );
  const out = new Uint8Array(header.length + map.width * map.height * 4);
  out.set(header);
  const view = new DataView(out.buffer, header.length);
  for (let i = 0; i < map.width * map.height; i++) {
    view.setUint32(i * 4, rgbeWord(map.rgb[i * 3]!, map.rgb[i * 3 + 1]!, map.rgb[i * 3 + 2]!), true);
  }
  return out;
}
