import { getLogger } from "@logtape/logtape";
import { dirname, join } from "node:path";
import { frameCamera, withDefaultLighting } from "./frame.ts";
import { readProblem, readSceneFile, SceneFormatError } from "./files.ts";
import { decodeImage } from "./image.ts";
import { type Material, material, type Mesh, type Rgb, type Scene, type Texture } from "./types.ts";

const log = getLogger(["octane", "scene"]);

/** Raised for a malformed OBJ or MTL file. */
export class ObjError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ObjError";
  }
}

interface MtlEntry {
  kd: Rgb;
  ks: Rgb;
  ke: Rgb;
  ns: number;
  ni: number;
  d: number;
  illum: number;
  pr?: number;
  pm?: number;
  mapKd?: string;
  mapKe?: string;
}

/** Reads text files relative to the scene (injected for tests). */
export type ReadText = (path: string) => Promise<string>;

/**
 * Loads a Wavefront OBJ scene with its MTL materials (Kd, Ks/Ns, Ke, Ni, d/Tr, illum, Pr/Pm, map_Kd,
 * map_Ke). Polygons are fanned into triangles; negative indices count back from the end. Features it
 * cannot use (lines, points, bump maps…) are listed once as a warning.
 */
export async function loadObj(path: string): Promise<Scene> {
  const text = new TextDecoder().decode(await readSceneFile(path, { scene: path }));
  const base = dirname(path);
  const positions: number[] = [], uvs: number[] = [], normals: number[] = [];
  const groups = new Map<
    string,
    {
      pos: number[];
      uv: number[];
      nrm: number[];
      idx: number[];
      keys: Map<string, number>;
      hasUv: boolean;
      hasN: boolean;
    }
  >();
  const mtl = new Map<string, MtlEntry>();
  let missingLibrary = false;
  const ignored = new Set<string>();
  let current = "default";
  const lines = text.split(/\r?\n/);
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.replace(/#.*/, "").trim();
    if (!line) continue;
    const [op, ...args] = line.split(/\s+/);
    const nums = () => args.map(Number);
    const bad = (what: string): never => {
      throw new ObjError(`Cannot load "${path}": line ${ln + 1}: ${what}`);
    };
    switch (op) {
      case "v": {
        const v = nums();
        if (v.length < 3 || v.slice(0, 3).some((x) => !Number.isFinite(x))) bad(`"v" needs three numbers`);
        positions.push(v[0]!, v[1]!, v[2]!);
        break;
      }
      case "vt": {
        const v = nums();
        if (v.length < 1 || !Number.isFinite(v[0]!)) bad(`"vt" needs numbers`);
        uvs.push(v[0]!, 1 - (v[1] ?? 0)); // OBJ's v runs up; textures are stored top row first
        break;
      }
      case "vn": {
        const v = nums();
        if (v.length < 3 || v.some((x) => !Number.isFinite(x))) bad(`"vn" needs three numbers`);
        normals.push(v[0]!, v[1]!, v[2]!);
        break;
      }
      case "f": {
        if (args.length < 3) bad(`a face needs at least three vertices`);
        let g = groups.get(current);
        if (!g) {
          groups.set(
            current,
            g = { pos: [], uv: [], nrm: [], idx: [], keys: new Map(), hasUv: false, hasN: false },
          );
        }
        const corner = (token: string): number => {
          const cached = g!.keys.get(token);
          if (cached !== undefined) return cached;
          const [p, t, n] = token.split("/");
          const resolve = (s: string | undefined, count: number) => {
            if (s === undefined || s === "") return -1;
            const i = Number(s);
            if (!Number.isInteger(i) || i === 0) bad(`bad index "${s}" in face vertex "${token}"`);
            const r = i > 0 ? i - 1 : count + i;
            if (r < 0 || r >= count) bad(`index ${s} is outside the ${count} defined so far`);
            return r;
          };
          const pi = resolve(p, positions.length / 3),
            ti = resolve(t, uvs.length / 2),
            ni = resolve(n, normals.length / 3);
          if (pi < 0) bad(`face vertex "${token}" has no position`);
          const index = g!.pos.length / 3;
          g!.pos.push(positions[pi * 3]!, positions[pi * 3 + 1]!, positions[pi * 3 + 2]!);
          g!.uv.push(ti >= 0 ? uvs[ti * 2]! : 0, ti >= 0 ? uvs[ti * 2 + 1]! : 0);
          g!.nrm.push(
            ni >= 0 ? normals[ni * 3]! : 0,
            ni >= 0 ? normals[ni * 3 + 1]! : 0,
            ni >= 0 ? normals[ni * 3 + 2]! : 0,
          );
          g!.hasUv ||= ti >= 0;
          g!.hasN ||= ni >= 0;
          g!.keys.set(token, index);
          return index;
        };
        const vs = args.map(corner);
        for (let k = 1; k + 1 < vs.length; k++) g.idx.push(vs[0]!, vs[k]!, vs[k + 1]!);
        break;
      }
      case "usemtl":
        current = args.join(" ") || "default";
        break;
      case "mtllib": {
        const library = await loadMtl(join(base, args.join(" ")), path);
        missingLibrary ||= library === undefined;
        for (const [name, entry] of library ?? []) mtl.set(name, entry);
        break;
      }
      case "o":
      case "g":
      case "s":
        break;
      default:
        ignored.add(op!);
    }
  }
  if (ignored.size > 0) {
    log.warn("OBJ {path}: ignored unsupported statements: {ops}", { path, ops: [...ignored].join(", ") });
  }
  if (groups.size === 0) throw new ObjError(`Cannot load "${path}": it has no faces`);

  const textures: Texture[] = [];
  const textureIndex = new Map<string, number>();
  const loadTexture = async (file: string) => {
    const full = join(base, file);
    if (!textureIndex.has(full)) {
      textureIndex.set(full, textures.length);
      const bytes = await readSceneFile(full, { scene: path, kind: "texture", shown: file });
      textures.push(decodeImage(bytes, file, { scene: path }));
    }
    return textureIndex.get(full)!;
  };
  const materials: Material[] = [];
  const meshes: Mesh[] = [];
  const undefinedNames: string[] = [];
  for (const [name, g] of groups) {
    const entry = mtl.get(name);
    if (!entry && name !== "default") undefinedNames.push(name);
    const m = entry ? await toMaterial(name, entry, loadTexture) : material({ name });
    materials.push(m);
    meshes.push({
      positions: new Float32Array(g.pos),
      normals: g.hasN ? new Float32Array(g.nrm) : undefined,
      uvs: g.hasUv ? new Float32Array(g.uv) : undefined,
      indices: new Uint32Array(g.idx),
      material: materials.length - 1,
    });
  }
  // a missing library has said it once already: its materials are the ones not defined
  if (undefinedNames.length > 0 && !missingLibrary) {
    log.warn("OBJ {path}: materials not defined in its .mtl, drawn grey: {names}", {
      path,
      names: undefinedNames.join(", "),
    });
  }
  return withDefaultLighting({
    meshes,
    materials,
    textures,
    camera: frameCamera(meshes),
    environment: { color: [0, 0, 0] },
  }, path);
}

/** Reads a material library; undefined (said once in a warning) when it is missing. */
async function loadMtl(path: string, scene: string): Promise<Map<string, MtlEntry> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error: unknown) {
    if (error instanceof Deno.errors.NotFound) {
      log.warn("OBJ {scene}: material library {path} is missing: its materials are drawn grey", {
        scene,
        path,
      });
      return undefined;
    }
    const problem = readProblem(error);
    if (problem === undefined) throw error;
    throw new SceneFormatError(`Cannot load "${scene}": material library "${path}" ${problem}`, {
      cause: error,
    });
  }
  const out = new Map<string, MtlEntry>();
  let cur: MtlEntry | undefined;
  const ignored = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const [op, ...args] = line.split(/\s+/);
    const rgb = (): Rgb => {
      const v = args.map(Number);
      return [v[0] ?? 0, v[1] ?? v[0] ?? 0, v[2] ?? v[0] ?? 0].map((
        x,
      ) => (Number.isFinite(x) ? x : 0)) as Rgb;
    };
    if (op === "newmtl") {
      cur = { kd: [0.8, 0.8, 0.8], ks: [0, 0, 0], ke: [0, 0, 0], ns: 0, ni: 1.5, d: 1, illum: 2 };
      out.set(args.join(" "), cur);
      continue;
    }
    if (!cur) continue;
    switch (op) {
      case "Kd":
        cur.kd = rgb();
        break;
      case "Ks":
        cur.ks = rgb();
        break;
      case "Ke":
        cur.ke = rgb();
        break;
      case "Ns":
        cur.ns = Number(args[0]) || 0;
        break;
      case "Ni":
        cur.ni = Number(args[0]) || 1.5;
        break;
      case "d":
        cur.d = Number(args[0]) ?? 1;
        break;
      case "Tr":
        cur.d = 1 - (Number(args[0]) || 0);
        break;
      case "illum":
        cur.illum = Number(args[0]) || 0;
        break;
      case "Pr":
        cur.pr = Number(args[0]);
        break;
      case "Pm":
        cur.pm = Number(args[0]);
        break;
      case "map_Kd":
        cur.mapKd = args.at(-1);
        break;
      case "map_Ke":
        cur.mapKe = args.at(-1);
        break;
      case "Ka":
      case "Tf":
        break;
      default:
        ignored.add(op!);
    }
  }
  if (ignored.size > 0) {
    log.warn("MTL {path}: ignored unsupported statements: {ops}", { path, ops: [...ignored].join(", ") });
  }
  return out;
}

/** Maps an MTL entry to a principled material: Phong exponents become GGX roughness. */
async function toMaterial(
  name: string,
  e: MtlEntry,
  loadTexture: (file: string) => Promise<number>,
): Promise<Material> {
  const maxKs = Math.max(...e.ks), maxKd = Math.max(...e.kd);
  const roughness = e.pr ?? (e.ns > 0 ? Math.sqrt(Math.sqrt(2 / (e.ns + 2))) : 1);
  const glass = e.d < 1 || e.illum === 4 || e.illum === 6 || e.illum === 7;
  const metal = e.pm ?? (maxKs > 0 && maxKd === 0 && !glass ? 1 : 0);
  return material({
    name,
    baseColor: glass ? [1, 1, 1] : metal >= 0.5 && maxKd === 0 ? e.ks : e.kd,
    metallic: metal,
    roughness,
    specular: maxKs > 0 || glass ? 1 : 0,
    transmission: glass ? 1 - Math.min(1, Math.max(0, e.d < 1 ? e.d : 0)) : 0,
    ior: e.ni,
    emission: e.ke,
    baseColorTexture: e.mapKd ? { texture: await loadTexture(e.mapKd) } : undefined,
    emissiveTexture: e.mapKe ? { texture: await loadTexture(e.mapKe) } : undefined,
  });
}
