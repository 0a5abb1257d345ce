/**
 * GPU records declared once as field tables: offsets follow WGSL's layout rules (host-shareable memory),
 * so the same table gives the WGSL struct declaration, the byte offset of every field, and typed writers
 * and readers for the TypeScript side. A record is written and read by field name only; nothing outside
 * this folder computes an offset by hand.
 * @module
 */

/** Scalar kinds a field's components have. */
export type ScalarKind = "f32" | "u32" | "i32";

/** A field type that is a scalar, a vector or an atomic: its WGSL name and shape. */
export interface PlainType {
  /** The WGSL spelling: "f32", "vec3f", "atomic<u32>". */
  readonly wgsl: string;
  /** The kind of its components. */
  readonly scalar: ScalarKind;
  /** Components: 1 for a scalar, 2-4 for a vector. */
  readonly components: 1 | 2 | 3 | 4;
  /** WGSL alignment in bytes. */
  readonly align: number;
  /** WGSL size in bytes. */
  readonly size: number;
}

/** A fixed-size array field of another type. */
export interface ArrayType {
  /** Element type. */
  readonly element: FieldType;
  /** Element count. */
  readonly length: number;
}

/** Any field type: a plain type, another record (a nested struct) or a fixed-size array. */
export type FieldType = PlainType | GpuRecord<Fields> | ArrayType;

/** A field declaration: its type and what it holds. */
export interface FieldSpec<T extends FieldType = FieldType> {
  /** Its type. */
  readonly type: T;
  /** What it holds (written above it in the WGSL struct). */
  readonly doc: string;
}

/** The fields of a record, in memory order (object key order). */
export type Fields = Readonly<Record<string, FieldSpec>>;

/** The TypeScript value of a field type: a number, a tuple-like array, a nested record's values. */
export type ValueOf<T> = T extends GpuRecord<infer F> ? Values<F>
  : T extends ArrayType ? readonly ValueOf<T["element"]>[]
  : T extends PlainType ? (T["components"] extends 1 ? number : readonly number[])
  : never;

/** The values of every field of a record. */
export type Values<F extends Fields> = { [K in keyof F]: ValueOf<F[K]["type"]> };

/** What a write takes: some fields, each a value (nested records: some of their fields, arrays: a prefix). */
export type WriteValues<F extends Fields> = { [K in keyof F]?: WriteValueOf<F[K]["type"]> };

/** The value a write takes for a field type. */
export type WriteValueOf<T> = T extends GpuRecord<infer F> ? WriteValues<F>
  : T extends ArrayType ? readonly WriteValueOf<T["element"]>[]
  : T extends PlainType ? (T["components"] extends 1 ? number : ArrayLike<number>)
  : never;

/** Where a field lies in its record. */
export interface FieldLayout {
  /** The field's name, as in WGSL. */
  readonly name: string;
  /** Its type. */
  readonly type: FieldType;
  /** Byte offset from the record's start. */
  readonly offset: number;
  /** Bytes it takes. */
  readonly size: number;
  /** What it holds. */
  readonly doc: string;
}

/** A plain type of `C` components. */
export type Plain<C extends 1 | 2 | 3 | 4> = PlainType & { readonly components: C };

function plain<C extends 1 | 2 | 3 | 4>(wgsl: string, scalar: ScalarKind, components: C): Plain<C> {
  const size = components * 4;
  return { wgsl, scalar, components, size, align: components === 3 ? 16 : size };
}

/** WGSL `f32`. */
export const f32: Plain<1> = plain("f32", "f32", 1);
/** WGSL `u32`. */
export const u32: Plain<1> = plain("u32", "u32", 1);
/** WGSL `i32`. */
export const i32: Plain<1> = plain("i32", "i32", 1);
/** WGSL `vec2f`. */
export const vec2f: Plain<2> = plain("vec2f", "f32", 2);
/** WGSL `vec2u`. */
export const vec2u: Plain<2> = plain("vec2u", "u32", 2);
/** WGSL `vec3f`. */
export const vec3f: Plain<3> = plain("vec3f", "f32", 3);
/** WGSL `vec3u`. */
export const vec3u: Plain<3> = plain("vec3u", "u32", 3);
/** WGSL `vec4f`. */
export const vec4f: Plain<4> = plain("vec4f", "f32", 4);
/** WGSL `vec4u`. */
export const vec4u: Plain<4> = plain("vec4u", "u32", 4);
/** WGSL `atomic<u32>` (read and written as a u32 on the TypeScript side). */
export const atomicU32: Plain<1> = plain("atomic<u32>", "u32", 1);

/** A fixed-size array type. */
export function array<T extends FieldType>(element: T, length: number): { element: T; length: number } {
  return { element, length };
}

/** A field of `type` that holds `doc`. */
export function field<T extends FieldType>(type: T, doc: string): FieldSpec<T> {
  return { type, doc };
}

function isRecord(t: FieldType): t is GpuRecord<Fields> {
  return t instanceof GpuRecord;
}

function isArray(t: FieldType): t is ArrayType {
  return "element" in t;
}

/** WGSL alignment of a type (host-shareable: storage rules; uniform extras are checked apart). */
export function alignOf(t: FieldType): number {
  if (isRecord(t)) return t.align;
  if (isArray(t)) return alignOf(t.element);
  return t.align;
}

/** WGSL stride of an array's elements. */
function strideOf(t: FieldType): number {
  return roundUp(alignOf(t), sizeOf(t));
}

/** WGSL size of a type. */
export function sizeOf(t: FieldType): number {
  if (isRecord(t)) return t.size;
  if (isArray(t)) return t.length * strideOf(t.element);
  return t.size;
}

/** The WGSL spelling of a type. */
export function wgslType(t: FieldType): string {
  if (isRecord(t)) return t.name;
  if (isArray(t)) return `array<${wgslType(t.element)}, ${t.length}>`;
  return t.wgsl;
}

function roundUp(k: number, n: number): number {
  return Math.ceil(n / k) * k;
}

/** Bytes a record is written into or read from: a whole buffer or a typed-array view of one. */
export type Target = ArrayBuffer | ArrayBufferView;

function dataView(target: Target): DataView {
  return target instanceof ArrayBuffer
    ? new DataView(target)
    : new DataView(target.buffer, target.byteOffset, target.byteLength);
}

/**
 * A GPU record: a WGSL struct and its TypeScript mirror. Offsets follow WGSL's rules for host-shareable
 * memory (vec3 aligned to 16, a struct to its largest member, its size rounded to that); records meant for
 * uniform buffers are checked against the uniform rules by {@linkcode checkUniform}.
 * @example
 * ```ts
 * const HIT = record("Hit", "A closest hit.", { t: field(f32, "distance"), tri: field(u32, "triangle") });
 * const bytes = new ArrayBuffer(HIT.size);
 * HIT.write(bytes, 0, { t: 1.5, tri: 7 });
 * HIT.read(bytes, 0).tri; // 7
 * ```
 */
export class GpuRecord<F extends Fields> {
  /** The WGSL struct's name. */
  readonly name: string;
  /** What a record holds (the comment above the WGSL struct). */
  readonly doc: string;
  /** The field table as declared. */
  readonly spec: F;
  /** Every field with its offset, in memory order. */
  readonly fields: readonly FieldLayout[];
  /** WGSL alignment, bytes. */
  readonly align: number;
  /** WGSL size (and array stride), bytes. */
  readonly size: number;
  /** Size in 4-byte words. */
  readonly words: number;
  /** Each field's offset in 4-byte words, by name: `MATERIAL.word.metallic`. */
  readonly word: { readonly [K in keyof F]: number };
  #byName = new Map<string, FieldLayout>();

  /** Lays out `spec` by WGSL's rules. */
  constructor(name: string, doc: string, spec: F) {
    this.name = name;
    this.doc = doc;
    this.spec = spec;
    let offset = 0, align = 4;
    const fields: FieldLayout[] = [];
    for (const [fieldName, f] of Object.entries(spec)) {
      const a = alignOf(f.type);
      offset = roundUp(a, offset);
      const layout = { name: fieldName, type: f.type, offset, size: sizeOf(f.type), doc: f.doc };
      fields.push(layout);
      this.#byName.set(fieldName, layout);
      offset += layout.size;
      align = Math.max(align, a);
    }
    this.fields = fields;
    this.align = align;
    this.size = roundUp(align, offset);
    this.words = this.size / 4;
    this.word = Object.fromEntries(fields.map((f) => [f.name, f.offset / 4])) as { [K in keyof F]: number };
  }

  /** The layout of field `name`. */
  field(name: keyof F & string): FieldLayout {
    return this.#byName.get(name)!;
  }

  /** The layout of a field named at run time, if the record has one. */
  lookup(name: string): FieldLayout | undefined {
    return this.#byName.get(name);
  }

  /** Writes the given fields of record `index` of `target` (fields left out keep their bytes). */
  write(target: Target, index: number, values: WriteValues<F>): void {
    this.writeAt(target, index * this.size, values);
  }

  /** Writes the given fields of the record at byte `offset` of `target` (a record nested in another). */
  writeAt(target: Target, offset: number, values: WriteValues<F>): void {
    writeValue(dataView(target), offset, this, values, this.name);
  }

  /** Reads every field of record `index` of `source`. */
  read(source: Target, index: number): Values<F> {
    return this.readAt(source, index * this.size);
  }

  /** Reads every field of the record at byte `offset` of `source` (a record nested in another). */
  readAt(source: Target, offset: number): Values<F> {
    return readRecord(dataView(source), offset, this) as Values<F>;
  }

  /** Reads field `name` of record `index` of `source`. */
  get<K extends keyof F & string>(source: Target, index: number, name: K): ValueOf<F[K]["type"]> {
    const f = this.#byName.get(name)!;
    return readValue(dataView(source), index * this.size + f.offset, f.type) as ValueOf<F[K]["type"]>;
  }

  /** How many whole records `source` holds. */
  count(source: Target): number {
    return Math.floor(source.byteLength / this.size);
  }

  /** `count` zeroed records, as bytes to write into. */
  alloc(count: number): ArrayBuffer {
    return new ArrayBuffer(count * this.size);
  }
}

/** Declares a record. */
export function record<F extends Fields>(name: string, doc: string, fields: F): GpuRecord<F> {
  return new GpuRecord(name, doc, fields);
}

function writeValue(view: DataView, at: number, type: FieldType, value: unknown, what: string): void {
  if (isRecord(type)) {
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
      const f = type.lookup(name);
      if (!f) throw new TypeError(`Cannot write field "${name}": ${type.name} has no such field`);
      writeValue(view, at + f.offset, f.type, v, `${what}.${name}`);
    }
    return;
  }
  if (isArray(type)) {
    const items = value as readonly unknown[];
    if (items.length > type.length) {
      throw new RangeError(`Cannot write ${what}: ${items.length} elements for ${type.length}`);
    }
    const stride = strideOf(type.element);
    items.forEach((v, i) => writeValue(view, at + i * stride, type.element, v, `${what}[${i}]`));
    return;
  }
  const parts = typeof value === "number" ? [value] : Array.from(value as ArrayLike<number>);
  if (parts.length !== type.components) {
    throw new RangeError(`Cannot write ${what}: ${parts.length} components for ${type.wgsl}`);
  }
  parts.forEach((v, i) => writeScalar(view, at + i * 4, type.scalar, v));
}

function writeScalar(view: DataView, at: number, kind: ScalarKind, v: number): void {
  if (kind === "f32") view.setFloat32(at, v, true);
  else if (kind === "u32") view.setUint32(at, v, true);
  else view.setInt32(at, v, true);
}

function readScalar(view: DataView, at: number, kind: ScalarKind): number {
  return kind === "f32"
    ? view.getFloat32(at, true)
    : kind === "u32"
    ? view.getUint32(at, true)
    : view.getInt32(at, true);
}

function readRecord(view: DataView, at: number, r: GpuRecord<Fields>): Record<string, unknown> {
  return Object.fromEntries(r.fields.map((f) => [f.name, readValue(view, at + f.offset, f.type)]));
}

function readValue(view: DataView, at: number, type: FieldType): unknown {
  if (isRecord(type)) return readRecord(view, at, type);
  if (isArray(type)) {
    const stride = strideOf(type.element);
    return Array.from({ length: type.length }, (_, i) => readValue(view, at + i * stride, type.element));
  }
  if (type.components === 1) return readScalar(view, at, type.scalar);
  return Array.from({ length: type.components }, (_, i) => readScalar(view, at + i * 4, type.scalar));
}

/**
 * Checks WGSL's extra rules for a record in the uniform address space: arrays' strides and nested structs'
 * alignment are multiples of 16, and a nested struct is followed by at least its size rounded to 16.
 * @throws {TypeError} naming the first field that breaks them
 */
export function checkUniform(r: GpuRecord<Fields>): void {
  r.fields.forEach((f, i) => {
    const fail = (why: string): never => {
      throw new TypeError(`Record ${r.name} cannot be a uniform: field "${f.name}" ${why}`);
    };
    if (isArray(f.type) && strideOf(f.type.element) % 16 !== 0) fail("is an array whose stride is not 16");
    if (isRecord(f.type)) {
      if (f.offset % 16 !== 0) fail("is a struct not aligned to 16");
      checkUniform(f.type);
      const next = r.fields[i + 1];
      if (next && next.offset - f.offset < roundUp(16, f.type.size)) fail("is a struct followed too closely");
    }
  });
}

/**
 * The WGSL declaration of a record: its doc as comments, then `struct Name { field: type, ... }` with each
 * field's doc above it.
 */
export function wgslStruct(r: GpuRecord<Fields>): string {
  const lines = [...wgslComment(`${r.doc} ${r.size} bytes.`, "")];
  lines.push(`struct ${r.name} {`);
  for (const f of r.fields) {
    lines.push(...wgslComment(`(byte ${f.offset}) ${f.doc}`, "  "), `  ${f.name}: ${wgslType(f.type)},`);
  }
  lines.push("}");
  return lines.join("\n");
}

/** `text` as WGSL line comments of at most 110 columns, each line starting with `indent`. */
export function wgslComment(text: string, indent = ""): string[] {
  return wrap(text, 110 - indent.length - 3).map((l) => `${indent}// ${l}`);
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
