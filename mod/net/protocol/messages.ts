import { fromHex, toHex } from "../../bytes.ts";
import type { AdapterSummary } from "../../gpu/mod.ts";
import type { SectionName } from "../../render_data/mod.ts";
import { MAX_CONTROL_BYTES, MAX_MESSAGE_BYTES, MAX_SECTION_BYTES, SECTION_CHUNK_BYTES } from "../defaults.ts";
import type { Service } from "./preamble.ts";

/**
 * The protocol's whole vocabulary: every message as a TypeScript type, its code on the wire, its size
 * limit, which service carries it, and one encoder and one decoder each. Control messages are JSON; section
 * chunks and results are binary. A decoder checks every field and throws a {@linkcode ProtocolError}.
 */

/** Malformed wire data: the connection it came on is closed with this reason; nothing else is harmed. */
export class ProtocolError extends SyntaxError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** A slave joining a master (render), its first message. */
export interface Hello {
  /** The slave's octane release. */
  version: string;
  /** Its host name. */
  host: string;
  /** Its GPUs. */
  gpus: AdapterSummary[];
  /** Its process id (a daemon reports the same for the slaves it starts). */
  pid?: number;
}

/** The master accepts a slave, or a daemon a slave's heartbeat link. */
export interface Welcome {
  /** The accepting side's release. */
  version: string;
  /** Its host name. */
  host: string;
}

/** A refusal; the link closes after it. */
export interface Refuse {
  /** Why, as one line. */
  reason: string;
  /** The master a daemon is occupied by. */
  master?: string;
  /** True when asking again later may succeed (occupied, busy); absent: it will not. */
  retry?: boolean;
}

/** How a section's bytes travel: as they are, or as one zstd frame. */
export type SectionEncoding = "raw" | "zstd";

/** One render-data section as a scene offer lists it. */
export interface SectionInfo {
  /** Its kind. */
  name: SectionName;
  /** SHA-256 of its raw bytes, hex. */
  hash: string;
  /** Raw bytes (what it decodes to). */
  length: number;
  /** How its bytes travel. */
  encoding: SectionEncoding;
  /** Bytes on the wire: its chunks' bytes, one after another (equal to `length` when raw). */
  wireLength: number;
}

/** The master's offer of the render data the current render needs; the slave answers with `need`. */
export interface SceneOffer {
  /** Content hash of the render data. */
  id: string;
  /** Image width. */
  width: number;
  /** Image height. */
  height: number;
  /** Sampling seed. */
  seed: number;
  /** Path depth limit. */
  maxDepth: number;
  /**
   * True when the master merges AOVs: each result then carries the AOV sums (6 floats a pixel) after the
   * radiance sums. Absent: false.
   */
  aovs?: boolean;
  /** Every section. */
  sections: SectionInfo[];
}

/** The sections (by hash) a slave lacks. */
export interface Need {
  /** The render data (content hash) whose offer this answers: an answer to an older offer is stale. */
  id: string;
  /** Hashes. */
  hashes: string[];
}

/** A chunk of a render-data section's wire bytes (see {@linkcode SectionInfo}). */
export interface SectionChunk {
  /** The section's SHA-256, hex. */
  hash: string;
  /** Offset of this chunk in the section's wire bytes. */
  offset: number;
  /** The bytes (received through a direct sink: the view of the buffer they landed in). */
  bytes: Uint8Array;
  /** True when the bytes landed in a buffer the receiver's sink named. */
  direct?: boolean;
}

/** A slave has every section of render data `id` and renders. */
export interface Ready {
  /** The render data's content hash. */
  id: string;
}

/** A unit of work: image rows [y, y + height), samples [start, start + count). */
export interface Work {
  /** Job number, unique per master. */
  job: number;
  /** First row. */
  y: number;
  /** Rows. */
  height: number;
  /** First sample index. */
  start: number;
  /** Samples. */
  count: number;
}

/** A unit's per-pixel radiance sums (and AOV sums, when the scene offer asks for them). */
export interface Result {
  /** The job. */
  job: number;
  /** Seconds it took to render. */
  seconds: number;
  /** Rays traced. */
  rays: number;
  /**
   * Float32 sums, compressed when `compressed` (see compressFloats): rgb a pixel, then (when the scene
   * offer asked for AOVs) albedo rgb and normal xyz a pixel.
   */
  data: Uint8Array;
  /** True when `data` is compressed. */
  compressed: boolean;
}

/** Units a stopping slave hands back unfinished. */
export interface Return {
  /** Their jobs. */
  jobs: number[];
}

/** A master's first message to a daemon: the port (and address) its slaves join. */
export interface Probe {
  /** The master's octane release. */
  version: string;
  /** The master's host name. */
  host: string;
  /** Port its slaves join. */
  port: number;
  /** Address its slaves join (the master's address on this link). */
  address: string;
}

/** A daemon's state as a master sees it. */
export type DaemonState = "available" | "occupied" | "running";

/** What a node reports of itself (a daemon for the slaves it would start). */
export interface NodeFacts {
  /** octane release. */
  version: string;
  /** Wire protocol version. */
  protocol: number;
  /** Host name. */
  host: string;
  /** Operating system (Deno.build.os). */
  os: string;
  /** CPU architecture (Deno.build.arch). */
  arch: string;
  /** Address width of the build, 32 or 64. */
  bits: number;
  /** The GPUs a slave renders on. */
  gpus: AdapterSummary[];
}

/** What a daemon reports: its node's facts and its state for the asking master. */
export interface Status extends NodeFacts {
  /** available; occupied by another master; running a slave for the asking master. */
  state: DaemonState;
  /** The master it works for (HOST:PORT), when not available. */
  master?: string;
  /** Process id of the slave, when one runs for the asking master. */
  pid?: number;
}

/** A slave's heartbeat link to the daemon that started it. */
export interface Watch {
  /** The token the daemon gave the slave. */
  token: string;
  /** The slave's process id. */
  pid: number;
}

/** No fields. */
export type Empty = Record<string, never>;

/** Every message's body, by type. */
export interface Bodies {
  hello: Hello;
  welcome: Welcome;
  refuse: Refuse;
  scene: SceneOffer;
  need: Need;
  section: SectionChunk;
  ready: Ready;
  work: Work;
  result: Result;
  return: Return;
  heartbeat: Empty;
  bye: Empty;
  probe: Probe;
  status: Status;
  start: Empty;
  stop: Empty;
  watch: Watch;
}

/** A message type's name. */
export type MessageType = keyof Bodies;
/** A received message: its type and its checked body. */
export type Message = { [K in MessageType]: { type: K; body: Bodies[K] } }[MessageType];

/** Frame flag: the payload's data is compressed (results). */
export const FLAG_COMPRESSED = 1;
/** Bytes of a section chunk's head: the section's SHA-256, then the chunk's offset (u64). */
export const SECTION_HEAD_BYTES = 40;

interface Codec<T> {
  /** Code on the wire. */
  code: number;
  /** Services that carry it. */
  services: readonly Service[];
  /** Largest payload. */
  maxBytes: number;
  /** Payload parts (written one after another) and flags. */
  encode(body: T): { parts: Uint8Array[]; flags?: number };
  /** Checks and decodes a payload. */
  decode(payload: Uint8Array, flags: number): T;
}

const encoder = new TextEncoder();

/** Parses a JSON control message that must be an object. */
export function parseJson(payload: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new ProtocolError(`${what} is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Reads a non-negative integer field up to `max`. */
function int(m: Record<string, unknown>, key: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = m[key];
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > max) {
    throw new ProtocolError(`${what}: field "${key}" is ${JSON.stringify(v)?.slice(0, 40)}`);
  }
  return v as number;
}

/** Reads a string field of at most `max` characters. */
function str(m: Record<string, unknown>, key: string, what: string, max = 256): string {
  const v = m[key];
  if (typeof v !== "string" || v.length > max) {
    throw new ProtocolError(`${what}: field "${key}" is not a string`);
  }
  return v;
}

/** Reads a finite non-negative number field. */
function num(m: Record<string, unknown>, key: string, what: string): number {
  const v = m[key];
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new ProtocolError(`${what}: field "${key}" is not a non-negative number`);
  }
  return v;
}

function optionalInt(m: Record<string, unknown>, key: string, what: string): { [k: string]: number } {
  return m[key] === undefined ? {} : { [key]: int(m, key, what) };
}

const HASH = /^[0-9a-f]{64}$/;

/** A scene offer's optional "aovs": a boolean, kept only when true. */
function aovsField(m: Record<string, unknown>, what: string): { aovs?: true } {
  if (m.aovs !== undefined && typeof m.aovs !== "boolean") {
    throw new ProtocolError(`${what}: field "aovs" is not a boolean`);
  }
  return m.aovs === true ? { aovs: true } : {};
}

function gpuList(v: unknown, what: string): AdapterSummary[] {
  if (!Array.isArray(v) || v.length > 16) {
    throw new ProtocolError(`${what}: "gpus" is not a list of at most 16`);
  }
  return v.map((g: unknown) => {
    if (typeof g !== "object" || g === null) throw new ProtocolError(`${what}: a GPU is not an object`);
    const m = g as Record<string, unknown>;
    return {
      name: str(m, "name", what, 200),
      vendor: str(m, "vendor", what, 100),
      software: m.software === true,
    };
  });
}

/** A JSON message: encoded with JSON.stringify, decoded by `check` from the parsed object. */
function json<T>(
  name: MessageType,
  code: number,
  services: readonly Service[],
  check: (m: Record<string, unknown>, what: string) => T,
  maxBytes = MAX_CONTROL_BYTES,
): Codec<T> {
  return {
    code,
    services,
    maxBytes,
    encode: (body) => ({ parts: [encoder.encode(JSON.stringify(body))] }),
    decode: (payload) => check(parseJson(payload, name), name),
  };
}

const empty = (): Empty => ({});
const RENDER = ["render"] as const;
const DAEMON = ["daemon"] as const;

/** Every message's codec. */
export const CODECS: { [K in MessageType]: Codec<Bodies[K]> } = {
  hello: json("hello", 1, RENDER, (m, w) => ({
    version: str(m, "version", w, 40),
    host: str(m, "host", w),
    gpus: gpuList(m.gpus, w),
    ...optionalInt(m, "pid", w),
  })),
  welcome: json("welcome", 2, ["render", "watch"], (m, w) => ({
    version: str(m, "version", w, 40),
    host: str(m, "host", w),
  })),
  refuse: json("refuse", 3, ["render", "daemon", "watch"], (m, w) => ({
    reason: str(m, "reason", w, 1000),
    ...(m.master === undefined ? {} : { master: str(m, "master", w, 300) }),
    ...(m.retry === true ? { retry: true } : {}),
  })),
  scene: json("scene", 4, RENDER, (m, w) => {
    if (!Array.isArray(m.sections) || m.sections.length > 64) {
      throw new ProtocolError(`${w}: no section list`);
    }
    const id = str(m, "id", w, 64);
    if (!HASH.test(id)) throw new ProtocolError(`${w}: "id" is not a SHA-256`);
    return {
      id,
      width: int(m, "width", w, 16384),
      height: int(m, "height", w, 16384),
      seed: int(m, "seed", w, 0xffffffff),
      maxDepth: int(m, "maxDepth", w, 1024),
      ...aovsField(m, w),
      sections: m.sections.map((s: Record<string, unknown>) => {
        if (typeof s !== "object" || s === null) throw new ProtocolError(`${w}: a section is not an object`);
        const hash = str(s, "hash", w, 64);
        if (!HASH.test(hash)) throw new ProtocolError(`${w}: a section hash is not a SHA-256`);
        const length = int(s, "length", w, MAX_SECTION_BYTES);
        const encoding = s.encoding;
        if (encoding !== "raw" && encoding !== "zstd") {
          throw new ProtocolError(`${w}: unknown section encoding ${JSON.stringify(encoding)?.slice(0, 20)}`);
        }
        const wireLength = int(s, "wireLength", w, MAX_SECTION_BYTES);
        if (encoding === "raw" && wireLength !== length) {
          throw new ProtocolError(`${w}: a raw section of ${length} bytes sends ${wireLength}`);
        }
        // the master compresses only where it pays: more wire bytes than raw ones is a lie
        if (encoding === "zstd" && wireLength > length) {
          throw new ProtocolError(`${w}: a compressed section of ${length} bytes sends ${wireLength}`);
        }
        return { name: str(s, "name", w, 32) as SectionName, hash, length, encoding, wireLength };
      }),
    };
  }),
  need: json("need", 5, RENDER, (m, w) => {
    if (!Array.isArray(m.hashes) || m.hashes.length > 64) throw new ProtocolError(`${w}: no hash list`);
    return {
      id: str(m, "id", w, 64),
      hashes: m.hashes.map((h: unknown) => {
        if (typeof h !== "string" || !HASH.test(h)) throw new ProtocolError(`${w}: a hash is not a SHA-256`);
        return h;
      }),
    };
  }),
  section: {
    code: 6,
    services: RENDER,
    maxBytes: SECTION_HEAD_BYTES + SECTION_CHUNK_BYTES,
    encode: (c) => ({ parts: [sectionHead(c.hash, c.offset), c.bytes] }),
    decode: (payload) => {
      if (payload.length < SECTION_HEAD_BYTES) throw new ProtocolError("section chunk without its head");
      return { ...parseSectionHead(payload), bytes: payload.subarray(SECTION_HEAD_BYTES) };
    },
  },
  ready: json("ready", 7, RENDER, (m, w) => ({ id: str(m, "id", w, 64) })),
  work: json("work", 8, RENDER, (m, w) => ({
    job: int(m, "job", w),
    y: int(m, "y", w, 16383),
    height: int(m, "height", w, 16384),
    start: int(m, "start", w, 0xffffffff),
    count: int(m, "count", w, 1 << 24),
  })),
  result: {
    code: 9,
    services: RENDER,
    maxBytes: MAX_MESSAGE_BYTES,
    encode: (r) => {
      const header = encoder.encode(JSON.stringify({ job: r.job, seconds: r.seconds, rays: r.rays }));
      const head = new Uint8Array(4 + header.length);
      new DataView(head.buffer).setUint32(0, header.length, true);
      head.set(header, 4);
      return { parts: [head, r.data], flags: r.compressed ? FLAG_COMPRESSED : 0 };
    },
    decode: (payload, flags) => {
      if (payload.length < 4) throw new ProtocolError("result too short");
      const n = new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
      if (n > 4096 || 4 + n > payload.length) throw new ProtocolError("result header length out of range");
      const m = parseJson(payload.subarray(4, 4 + n), "result");
      return {
        job: int(m, "job", "result"),
        seconds: num(m, "seconds", "result"),
        rays: num(m, "rays", "result"),
        data: payload.subarray(4 + n),
        compressed: (flags & FLAG_COMPRESSED) !== 0,
      };
    },
  },
  return: json("return", 10, RENDER, (m, w) => {
    if (!Array.isArray(m.jobs) || m.jobs.length > 1024) throw new ProtocolError(`${w}: no job list`);
    return {
      jobs: m.jobs.map((j: unknown) => {
        if (!Number.isSafeInteger(j) || (j as number) < 0) {
          throw new ProtocolError(`${w}: a job is not a number`);
        }
        return j as number;
      }),
    };
  }),
  heartbeat: {
    code: 11,
    services: ["render", "daemon", "watch"],
    maxBytes: 0,
    encode: () => ({ parts: [] }),
    decode: empty,
  },
  bye: json("bye", 12, ["render", "daemon", "watch"], empty),
  probe: json("probe", 13, DAEMON, (m, w) => ({
    version: str(m, "version", w, 40),
    host: str(m, "host", w),
    port: int(m, "port", w, 65535),
    address: str(m, "address", w, 64),
  })),
  status: json("status", 14, DAEMON, (m, w) => {
    const state = m.state;
    if (state !== "available" && state !== "occupied" && state !== "running") {
      throw new ProtocolError(`${w}: unknown state ${JSON.stringify(state)?.slice(0, 20)}`);
    }
    return {
      version: str(m, "version", w, 40),
      protocol: int(m, "protocol", w, 65535),
      host: str(m, "host", w),
      os: str(m, "os", w, 40),
      arch: str(m, "arch", w, 40),
      bits: int(m, "bits", w, 128),
      gpus: gpuList(m.gpus, w),
      state,
      ...(m.master === undefined ? {} : { master: str(m, "master", w, 300) }),
      ...optionalInt(m, "pid", w),
    };
  }),
  start: json("start", 15, DAEMON, empty),
  stop: json("stop", 16, DAEMON, empty),
  watch: json("watch", 17, ["watch"], (m, w) => ({ token: str(m, "token", w, 128), pid: int(m, "pid", w) })),
};

const BY_CODE = new Map<number, MessageType>(
  (Object.keys(CODECS) as MessageType[]).map((t) => [CODECS[t].code, t]),
);

/** The message type of a wire code, or undefined. */
export function typeOfCode(code: number): MessageType | undefined {
  return BY_CODE.get(code);
}

/** The head of a section chunk for section `hash` (hex SHA-256) at `offset`. */
export function sectionHead(hash: string, offset: number): Uint8Array {
  const head = new Uint8Array(SECTION_HEAD_BYTES);
  head.set(fromHex(hash), 0);
  new DataView(head.buffer).setBigUint64(32, BigInt(offset), true);
  return head;
}

/** Reads a section chunk's head: the section's SHA-256 (hex) and the chunk's offset. */
export function parseSectionHead(head: Uint8Array): { hash: string; offset: number } {
  const hash = toHex(head.subarray(0, 32));
  const offset = new DataView(head.buffer, head.byteOffset).getBigUint64(32, true);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError("section chunk offset out of range");
  return { hash, offset: Number(offset) };
}
