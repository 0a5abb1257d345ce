/**
 * Render data as sections: what a `.ocrd` file holds and what a master sends (each section with its
 * SHA-256, so a slave caches sections by hash), and render data built back from sections, checked.
 * @module
 */
import { createHash } from "node:crypto";
import { toHex } from "../bytes.ts";
import {
  ATTR,
  CAMERA,
  ENVIRONMENT,
  FEATURE_NAMES,
  LIGHT_ENTRY,
  MATERIAL,
  NODE,
  PUNCTUAL,
  type SceneFeatures,
  TRI,
} from "../gpu_layout/mod.ts";
import { sceneFeatures } from "./features.ts";
import type { RenderData } from "./types.ts";
import { checkRenderData, type Fail } from "./validate.ts";

/** Section kinds (the `.ocrd` table's kind numbers; see docs/design.md for the format). */
export const SECTION = {
  camera: 1,
  nodes: 2,
  triangles: 3,
  materials: 4,
  lights: 5,
  environment: 6,
  settings: 7,
  attributes: 8,
  textures: 9,
  /** Punctual lights (KHR_lights_punctual); only in render data that has some. */
  punctual: 10,
} as const;
/** The name of a section kind. */
export type SectionName = keyof typeof SECTION;

/** Raised for a malformed, truncated, tampered or unsupported `.ocrd` file or set of sections. */
export class RenderDataError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RenderDataError";
  }
}

/** One section of serialized render data. */
export interface Section {
  /** Its kind. */
  name: SectionName;
  /** Its bytes. */
  bytes: Uint8Array;
  /** SHA-256 of the bytes, hex. */
  hash: string;
  /** The same SHA-256, as bytes. */
  digest: Uint8Array;
}

/** The settings section: counts and the scene's features, as JSON. */
interface Settings {
  triangles: number;
  nodes: number;
  lights: number;
  features: SceneFeatures;
}

function view(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** The content hash: SHA-256 over every section's (kind as u32 LE, SHA-256), in order. */
export function contentHash(kinds: number[], hashes: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  kinds.forEach((kind, i) => {
    const k = new Uint8Array(4);
    new DataView(k.buffer).setUint32(0, kind, true);
    h.update(k).update(hashes[i]!);
  });
  return new Uint8Array(h.digest());
}

/** Splits render data into its sections, each with its SHA-256 (what a master sends and a slave caches). */
export function renderDataSections(data: RenderData): Section[] {
  const settings: Settings = {
    triangles: data.stats.triangles,
    nodes: data.stats.nodes,
    lights: data.stats.lights,
    features: data.features,
  };
  const parts: [SectionName, Uint8Array][] = [
    ["camera", view(data.camera)],
    ["nodes", view(data.nodes)],
    ["triangles", view(data.triangles)],
    ["attributes", view(data.attributes)],
    ["materials", view(data.materials)],
    ["lights", view(data.lights)],
    ["textures", view(data.texels)],
    ["environment", view(data.environment)],
    ["settings", new TextEncoder().encode(JSON.stringify(settings))],
    ...(data.punctual ? [["punctual", view(data.punctual)] as [SectionName, Uint8Array]] : []),
  ];
  return parts.map(([name, bytes]) => {
    const digest = sha256(bytes);
    return { name, bytes, hash: toHex(digest), digest };
  });
}

/** The content hash of sections already hashed by {@linkcode renderDataSections}, hex. */
export function sectionsHash(sections: readonly Section[]): string {
  return toHex(contentHash(sections.map((s) => SECTION[s.name]), sections.map((s) => s.digest)));
}

/** The content hash of render data, hex: equal for render data that renders the same image. */
export function renderDataHash(data: RenderData): string {
  return sectionsHash(renderDataSections(data));
}

/**
 * Builds render data from its sections (read from a file, or received from a master), checking sizes, that
 * every index is in range (`validate.ts`), and that recorded features are the sections' own (render data
 * that records none, from before features were recorded, gets them derived).
 * @throws {RenderDataError} naming the first problem found
 */
export function renderDataFromSections(
  found: ReadonlyMap<SectionName, Uint8Array>,
  name = "render data",
): RenderData {
  const fail: Fail = (what: string): never => {
    throw new RenderDataError(`Cannot load "${name}": ${what}`);
  };
  const get = (s: SectionName) => found.get(s) ?? fail(`the ${s} section is missing`);
  const copy = (s: SectionName, unit: number) => {
    const b = get(s);
    if (b.length % unit !== 0 || b.length === 0) {
      fail(`the ${s} section's length ${b.length} is not a positive multiple of ${unit}`);
    }
    return b.slice().buffer;
  };
  const sections = {
    camera: new Float32Array(copy("camera", CAMERA.size)),
    nodes: copy("nodes", NODE.size),
    triangles: new Float32Array(copy("triangles", TRI.size)),
    attributes: new Float32Array(copy("attributes", ATTR.size)),
    materials: new Float32Array(copy("materials", MATERIAL.size)),
    texels: new Uint8Array(copy("textures", 4)),
    lights: copy("lights", LIGHT_ENTRY.size),
    environment: new Float32Array(copy("environment", ENVIRONMENT.size)),
    ...(found.has("punctual") ? { punctual: new Float32Array(copy("punctual", PUNCTUAL.size)) } : {}),
  };
  const settings = readSettings(get("settings"), sections, fail);
  checkRenderData(sections, settings, fail);
  const stats = { triangles: settings.triangles, nodes: settings.nodes, lights: settings.lights, bvhMs: 0 };
  const derived = sceneFeatures({ ...sections, stats });
  if (settings.features) {
    const wrong = FEATURE_NAMES.find((f) => settings.features![f] !== derived[f]);
    if (wrong) {
      fail(`the settings say feature ${wrong} is ${settings.features[wrong]}, the sections say otherwise`);
    }
  }
  return { ...sections, features: derived, stats };
}

/** Parses the settings section and checks its counts against the sections' sizes. */
function readSettings(
  bytes: Uint8Array,
  d: { nodes: ArrayBuffer; triangles: Float32Array; lights: ArrayBuffer },
  fail: Fail,
): Omit<Settings, "features"> & { features?: SceneFeatures } {
  let settings: { triangles?: unknown; nodes?: unknown; lights?: unknown; features?: unknown };
  try {
    settings = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return fail("the settings section is not valid JSON");
  }
  if (typeof settings !== "object" || settings === null) return fail("the settings section is not an object");
  const int = (v: unknown, what: string, max: number) =>
    Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max
      ? v as number
      : fail(`settings ${what} is ${JSON.stringify(v)}`);
  const triangles = int(settings.triangles, "triangles", d.triangles.length / TRI.words);
  const nodes = int(settings.nodes, "nodes", d.nodes.byteLength / NODE.size);
  const lights = int(settings.lights, "lights", d.lights.byteLength / LIGHT_ENTRY.size);
  if (nodes !== d.nodes.byteLength / NODE.size) {
    fail(`settings say ${nodes} nodes, the section holds ${d.nodes.byteLength / NODE.size}`);
  }
  if (settings.features === undefined) return { triangles, nodes, lights };
  const f = settings.features as Record<string, unknown>;
  if (typeof f !== "object" || f === null || !FEATURE_NAMES.every((n) => typeof f[n] === "boolean")) {
    fail("the settings' features are not a boolean for each feature");
  }
  return { triangles, nodes, lights, features: f as unknown as SceneFeatures };
}
