import type { GLTF, JSONDocument } from "@gltf-transform/core";
import { dirname, join } from "node:path";
import { readSceneFile } from "./files.ts";

/** The resource key `@gltf-transform` gives a GLB's binary chunk. */
const GLB_BUFFER = "@glb.bin";
const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a;
const CHUNK_BIN = 0x004e4942;
const COMPONENTS: Record<string, number> = {
  SCALAR: 1,
  VEC2: 2,
  VEC3: 3,
  VEC4: 4,
  MAT2: 4,
  MAT3: 9,
  MAT4: 16,
};
const COMPONENT_BYTES: Record<number, number> = { 5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4 };

/** Raised for a glTF file that cannot be read. */
export class GltfError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GltfError";
  }
}

interface BufferDef {
  uri?: string;
  byteLength?: number;
}
interface ImageDef {
  uri?: string;
}
interface ViewDef {
  buffer?: number;
  byteOffset?: number;
  byteLength?: number;
  byteStride?: number;
}
interface AccessorDef {
  bufferView?: number;
  byteOffset?: number;
  count?: number;
  type?: string;
  componentType?: number;
}
interface GltfJson {
  asset?: { version?: unknown };
  buffers?: BufferDef[];
  images?: ImageDef[];
  bufferViews?: ViewDef[];
  accessors?: AccessorDef[];
}

/**
 * Reads a `.gltf` (with its external buffers and images) or `.glb` into a JSON document for
 * `@gltf-transform`, checking first what would otherwise fail deep inside it with a message that names
 * nothing: the GLB header and chunks, the JSON, missing or short files, buffer views and accessors that
 * reach past their data.
 * @throws {GltfError} one line naming the file and what is wrong with it
 * @throws {SceneFormatError} when the file or one it needs is missing or unreadable
 */
export async function readGltfJson(path: string): Promise<JSONDocument> {
  const fail = (what: string): never => {
    throw new GltfError(`Cannot load "${path}": ${what}`);
  };
  const bytes = await readSceneFile(path, { scene: path });
  const resources: Record<string, Uint8Array<ArrayBuffer>> = {};
  let json: GltfJson;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 4 && dv.getUint32(0, true) === GLB_MAGIC) {
    if (bytes.length < 20) fail(`the file ends after ${bytes.length} bytes, inside its header (truncated?)`);
    const version = dv.getUint32(4, true), length = dv.getUint32(8, true);
    if (version !== 2) fail(`it is binary glTF version ${version}; only version 2 is supported`);
    if (length > bytes.length) {
      fail(`the file ends after ${bytes.length} bytes of the ${length} its header declares (truncated?)`);
    }
    const jsonLength = dv.getUint32(12, true);
    if (dv.getUint32(16, true) !== CHUNK_JSON) fail("its first chunk is not JSON (corrupt?)");
    if (20 + jsonLength > length) fail("its JSON chunk runs past the end of the file (corrupt?)");
    json = parseJson(
      bytes.subarray(20, 20 + jsonLength),
      fail,
      "its JSON chunk",
      "is not JSON text (corrupt?)",
    );
    const bin = 20 + align4(jsonLength);
    if (bin + 8 <= length && dv.getUint32(bin + 4, true) === CHUNK_BIN) {
      const binLength = dv.getUint32(bin, true);
      if (bin + 8 + binLength > length) fail("its binary chunk runs past the end of the file (corrupt?)");
      resources[GLB_BUFFER] = bytes.subarray(bin + 8, bin + 8 + binLength);
    }
  } else {
    json = parseJson(bytes, fail, "it", "is neither glTF JSON text nor binary glTF");
  }
  const version = json.asset?.version;
  if (typeof version !== "string") fail(`not a glTF 2.0 file: it has no "asset" with a "version"`);
  if (!String(version).startsWith("2.")) fail(`it is glTF ${version}; only glTF 2.0 is supported`);

  const base = dirname(path);
  const external = (uri: string | undefined) => uri !== undefined && !uri.startsWith("data:");
  const sizes: (number | undefined)[] = [];
  for (const [i, buffer] of (json.buffers ?? []).entries()) {
    const declared = buffer.byteLength ?? 0;
    let data: Uint8Array<ArrayBuffer> | undefined;
    if (buffer.uri === undefined) {
      data = i === 0 ? resources[GLB_BUFFER] : undefined;
      if (!data) fail(`buffer ${i} has neither a file nor a binary chunk`);
      if (data!.length < declared) {
        fail(`its binary chunk holds ${data!.length} bytes of the ${declared} it declares (truncated?)`);
      }
    } else if (external(buffer.uri)) {
      data = await readSceneFile(join(base, decodeUri(buffer.uri)), { scene: path, shown: buffer.uri });
      if (data.length < declared) {
        fail(
          `"${buffer.uri}" ends after ${data.length} bytes of the ${declared} it should hold (truncated?)`,
        );
      }
      resources[buffer.uri] = data;
    }
    sizes.push(data ? Math.min(data.length, declared) : declared);
  }
  for (const image of json.images ?? []) {
    if (!external(image.uri)) continue;
    const uri = image.uri!;
    resources[uri] = await readSceneFile(join(base, decodeUri(uri)), {
      scene: path,
      kind: "texture",
      shown: uri,
    });
  }
  checkViews(json, sizes, fail);
  return { json: json as unknown as GLTF.IGLTF, resources };
}

/** Bytes an accessor without a buffer view may ask to be filled with zeros (the library allocates them). */
const MAX_ZERO_ACCESSOR_BYTES = 1 << 30;

/**
 * Buffer views must lie inside their buffers and accessors inside their views, with counts, offsets and
 * strides that are whole numbers in the spec's ranges (a stride of 0 or below would let any count pass).
 */
function checkViews(json: GltfJson, sizes: (number | undefined)[], fail: (what: string) => never): void {
  const whole = (v: unknown, min: number) =>
    v === undefined || (Number.isSafeInteger(v) && (v as number) >= min);
  const views = json.bufferViews ?? [];
  for (const [i, view] of views.entries()) {
    const size = sizes[view.buffer ?? -1];
    if (size === undefined) fail(`buffer view ${i} names buffer ${view.buffer}, which does not exist`);
    if (!whole(view.byteOffset, 0) || !whole(view.byteLength, 1)) {
      fail(`buffer view ${i} has an offset or length that is not a whole number of bytes (corrupt?)`);
    }
    const stride = view.byteStride;
    if (stride !== undefined && (!whole(stride, 4) || stride > 252 || stride % 4 !== 0)) {
      fail(`buffer view ${i} has a byte stride of ${stride}: glTF allows multiples of 4 from 4 to 252`);
    }
    if ((view.byteOffset ?? 0) + (view.byteLength ?? 0) > size!) {
      fail(`buffer view ${i} reaches past the end of buffer ${view.buffer} (corrupt?)`);
    }
  }
  for (const [i, accessor] of (json.accessors ?? []).entries()) {
    const element = (COMPONENTS[accessor.type ?? ""] ?? 0) *
      (COMPONENT_BYTES[accessor.componentType ?? 0] ?? 0);
    if (element === 0) fail(`accessor ${i} has an unknown type or component type`);
    const count = accessor.count;
    if (!whole(count, 1) || count === undefined || !whole(accessor.byteOffset, 0)) {
      fail(`accessor ${i} has a count or offset that is not a whole number (corrupt?)`);
    }
    if (accessor.bufferView === undefined) {
      if (count! * element > MAX_ZERO_ACCESSOR_BYTES) {
        fail(`accessor ${i} asks for ${count} elements of zeros, more than a scene may hold (corrupt?)`);
      }
      continue;
    }
    const view = views[accessor.bufferView];
    if (!view) fail(`accessor ${i} names buffer view ${accessor.bufferView}, which does not exist`);
    const stride = view!.byteStride ?? element;
    if (stride < element) fail(`accessor ${i} has elements of ${element} bytes in a stride of ${stride}`);
    const end = (accessor.byteOffset ?? 0) + (count! - 1) * stride + element;
    if (end > (view!.byteLength ?? 0)) {
      fail(`accessor ${i} reaches past the end of buffer view ${accessor.bufferView} (corrupt?)`);
    }
  }
}

function parseJson(
  bytes: Uint8Array,
  fail: (what: string) => never,
  what: string,
  notText: string,
): GltfJson {
  if (bytes.length === 0) fail(`${what} is empty`);
  // JSON text starts with "{" after any white space: anything else is not glTF at all
  const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  if (first !== 0x7b) fail(`${what} ${notText}`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail(`${what} is not valid UTF-8 text (corrupt?)`);
  }
  try {
    const json = JSON.parse(text);
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new SyntaxError("not an object");
    }
    return json;
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message.replace(/\s+/g, " ").slice(0, 120) : String(error);
    return fail(`${what} is not valid JSON (${detail})`);
  }
}

function decodeUri(uri: string): string {
  try {
    return decodeURIComponent(uri);
  } catch {
    return uri;
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
